// tests/alloc/mixed.hpp - What the two halves of the allocation agreement test export.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TESTS_ALLOC_MIXED_HPP
#define SMTPIPE_TESTS_ALLOC_MIXED_HPP

#include <cstddef>

namespace asio {
class io_context;
}

// Whether each unit's Asio allocates recycled blocks with aligned_alloc (true) or with
// operator new (false): the two must agree.
bool asio_first_uses_aligned_alloc();
bool smtpipe_first_uses_aligned_alloc();

void spawn_asio_first(asio::io_context& io, std::size_t seed, std::size_t& sum);
void spawn_smtpipe_first(asio::io_context& io, std::size_t seed, std::size_t& sum);

#endif  // !SMTPIPE_TESTS_ALLOC_MIXED_HPP
