// tests/alloc/smtpipe_first.cpp - The smtpipe-first half of the allocation agreement test.
// SPDX-License-Identifier: BSL-1.0
//
// This translation unit starts with <smtpipe.hpp>, whose configuration header includes a
// standard library header before Asio's: before the fix, this changed Asio's choice between
// aligned_alloc/free and operator new/delete for the blocks it recycles per thread.
#include <smtpipe.hpp>

#include <array>
#include <cstddef>

#include "mixed.hpp"

namespace {
template <std::size_t N>
asio::awaitable<std::size_t> smtpipe_first_step(std::size_t seed) {
  std::array<unsigned char, N> pad{};
  pad[seed % N] = static_cast<unsigned char>(seed);
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  timer.expires_after(std::chrono::microseconds(1));
  co_await timer.async_wait(asio::use_awaitable);
  co_return seed + pad[seed % N];
}
}  // namespace

bool smtpipe_first_uses_aligned_alloc() {
#if defined(ASIO_HAS_STD_ALIGNED_ALLOC)
  return true;
#else
  return false;
#endif
}

void spawn_smtpipe_first(asio::io_context& io, std::size_t seed, std::size_t& sum) {
  auto add = [&sum](std::exception_ptr e, std::size_t v) {
    if (e) std::rethrow_exception(e);
    sum += v;
  };
  if (seed % 2 == 0) {
    asio::co_spawn(io, smtpipe_first_step<2048>(seed), add);
  } else {
    asio::co_spawn(io, smtpipe_first_step<64>(seed), add);
  }
}
