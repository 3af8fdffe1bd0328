// tests/alloc/main.cpp - Runs the coroutines of both halves interleaved on one thread.
// SPDX-License-Identifier: BSL-1.0
//
// A disagreement shows twice: built with AddressSanitizer, the run aborts with
// alloc-dealloc-mismatch when one unit frees a block the other allocated; in any build, the
// two units report different choices at the end.
#include <asio/io_context.hpp>

#include <cstddef>
#include <cstdio>

#include "mixed.hpp"

int main() {
  asio::io_context io;
  std::size_t sum = 0;
  std::size_t expected = 0;
  constexpr std::size_t rounds = 200;
  for (std::size_t round = 0; round < rounds; ++round) {
    // A coroutine of each unit per round, of alternating frame sizes, run to completion
    // before the next round: their frames come out of (and go back to) the thread's cache.
    spawn_asio_first(io, round, sum);
    spawn_smtpipe_first(io, round, sum);
    expected += 2 * round + 2 * static_cast<unsigned char>(round);
    io.restart();
    io.run();
  }
  if (sum != expected) {
    std::fprintf(stderr, "sum %zu, expected %zu\n", sum, expected);
    return 1;
  }
  if (asio_first_uses_aligned_alloc() != smtpipe_first_uses_aligned_alloc()) {
    std::fprintf(stderr, "Asio's allocation differs: aligned_alloc in the %s-first unit only\n",
                 asio_first_uses_aligned_alloc() ? "asio" : "smtpipe");
    return 1;
  }
  std::puts("both units ran their coroutines on one thread, with one allocation");
  return 0;
}
