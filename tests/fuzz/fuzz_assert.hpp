// tests/fuzz/fuzz_assert.hpp - The fuzz targets' assertion: active in every build mode (unlike
// assert), it names the failed condition and aborts, which libFuzzer reports as a crash.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TESTS_FUZZ_FUZZ_ASSERT_HPP
#define SMTPIPE_TESTS_FUZZ_FUZZ_ASSERT_HPP

#include <cstdio>
#include <cstdlib>

#define FUZZ_ASSERT(cond)                                                               \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (false)

#endif  // !SMTPIPE_TESTS_FUZZ_FUZZ_ASSERT_HPP
