// tests/alloc/asio_first.cpp - The Asio-first half of the allocation agreement test.
// SPDX-License-Identifier: BSL-1.0
//
// This translation unit starts with Asio, as a host program's own networking code (or
// tests/support/script_server.hpp) does: no standard library header comes before Asio's
// configuration. Its coroutines share the thread's recycled blocks with smtpipe_first.cpp.
#include <asio.hpp>

#include <array>
#include <cstddef>

#include "mixed.hpp"

namespace {
// A frame of a size chosen by the caller: the recycling allocator keeps a block per thread
// and replaces it when the next frame does not fit, so sizes that alternate between the two
// units make one unit free the other's blocks.
template <std::size_t N>
asio::awaitable<std::size_t> asio_first_step(std::size_t seed) {
  std::array<unsigned char, N> pad{};
  pad[seed % N] = static_cast<unsigned char>(seed);
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  timer.expires_after(std::chrono::microseconds(1));
  co_await timer.async_wait(asio::use_awaitable);
  co_return seed + pad[seed % N];
}
}  // namespace

bool asio_first_uses_aligned_alloc() {
#if defined(ASIO_HAS_STD_ALIGNED_ALLOC)
  return true;
#else
  return false;
#endif
}

void spawn_asio_first(asio::io_context& io, std::size_t seed, std::size_t& sum) {
  auto add = [&sum](std::exception_ptr e, std::size_t v) {
    if (e) std::rethrow_exception(e);
    sum += v;
  };
  if (seed % 2 == 0) {
    asio::co_spawn(io, asio_first_step<64>(seed), add);
  } else {
    asio::co_spawn(io, asio_first_step<2048>(seed), add);
  }
}
