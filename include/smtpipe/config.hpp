// smtpipe/config.hpp - Compiler requirements and configuration knobs; every header includes it
// first. SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CONFIG_HPP
#define SMTPIPE_CONFIG_HPP

#if defined(_MSVC_LANG) && _MSVC_LANG > __cplusplus
#define SMTPIPE_CPLUSPLUS _MSVC_LANG
#else
#define SMTPIPE_CPLUSPLUS __cplusplus
#endif

#if SMTPIPE_CPLUSPLUS < 202002L
#error "smtpipe requires C++20 or later: compile with -std=c++20 (Meson: cpp_std=c++20)."
#endif

#if __has_include(<version>)
#include <version>
#endif

// Asio decides how it allocates the blocks it recycles per thread from what the standard
// library defined before its configuration; with libstdc++ that depends on include order, and
// units that disagree free each other's blocks. Pin it in every unit of the program (Meson's
// smtpipe dependency and smtpipe.pc do); SMTPIPE_NO_ASIO_ALLOCATION_CHECK if you pinned it
// another way everywhere (ASIO_HAS_STD_ALIGNED_ALLOC).
#if defined(__GLIBCXX__) && !defined(ASIO_DISABLE_STD_ALIGNED_ALLOC) && \
    !defined(SMTPIPE_NO_ASIO_ALLOCATION_CHECK)
#error \
    "smtpipe: compile every translation unit with -DASIO_DISABLE_STD_ALIGNED_ALLOC (Meson's \
smtpipe dependency and pkg-config's smtpipe.pc add it); see README.md, Using smtpipe."
#endif

#if !defined(__cpp_impl_coroutine) || !__has_include(<coroutine>)
#error \
    "smtpipe requires C++20 coroutine support (<coroutine> and __cpp_impl_coroutine); \
with clang and libstdc++ use clang 14 or later."
#endif

#include "smtpipe/version.hpp"

#endif  // !SMTPIPE_CONFIG_HPP
