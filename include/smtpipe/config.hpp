// smtpipe/config.hpp - Compiler requirements and configuration; every header includes it first.
// SPDX-License-Identifier: BSL-1.0
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

// Asio 1.22 decides how it allocates the blocks it recycles per thread (aligned_alloc/free or
// operator new/delete) from what libstdc++ defined before Asio's configuration: units that
// include things in another order disagree and free each other's blocks. The pin is
// ASIO_DISABLE_STD_ALIGNED_ALLOC in every unit (Meson's smtpipe dependency and smtpipe.pc add
// it; plain -I users add it themselves). A unit without it gets it here when Asio is not yet
// configured, which agrees with units that include Asio before any standard header; a unit
// whose Asio already chose aligned_alloc cannot agree with the others and is refused.
#if !defined(ASIO_DISABLE_STD_ALIGNED_ALLOC)
#if defined(ASIO_HAS_STD_ALIGNED_ALLOC)
#error \
    "smtpipe: Asio was configured for aligned_alloc before smtpipe was included (a standard \
header came first), so this unit frees memory other units allocate differently: compile every \
unit with -DASIO_DISABLE_STD_ALIGNED_ALLOC (Meson's smtpipe dependency and smtpipe.pc add it)."
#endif
#define ASIO_DISABLE_STD_ALIGNED_ALLOC 1
#endif

#if !defined(__cpp_impl_coroutine) || !__has_include(<coroutine>)
#error \
    "smtpipe requires C++20 coroutine support (<coroutine> and __cpp_impl_coroutine); \
with clang and libstdc++ use clang 14 or later."
#endif

#include "smtpipe/version.hpp"

// g++ 12 reports -Wmismatched-new-delete on coroutine frames that use the promise's own
// operator new and delete (a false positive, GCC PR 109224): headers whose coroutines meet it
// wrap them in these.
#if defined(__GNUC__) && !defined(__clang__)
#define SMTPIPE_COROUTINE_WARNINGS_BEGIN \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmismatched-new-delete\"")
#define SMTPIPE_COROUTINE_WARNINGS_END _Pragma("GCC diagnostic pop")
#else
#define SMTPIPE_COROUTINE_WARNINGS_BEGIN
#define SMTPIPE_COROUTINE_WARNINGS_END
#endif

// Header-only by default. With SMTPIPE_SEPARATE_COMPILATION defined in every translation unit,
// the non-template machinery (the session's I/O engine: command queue, reader, watchdog, body
// streaming, TLS upgrade; the transaction ledger's validation and results; the built-in
// states' bodies; deliver's resolve and connect) is compiled once, in the one translation unit
// that includes <smtpipe/impl/src.hpp>, as Asio does. What stays in every unit is the
// pipeline's own code: the run loop and dispatch for its states, and the custom states.
#if defined(SMTPIPE_SEPARATE_COMPILATION)
#define SMTPIPE_DECL
#else
#define SMTPIPE_DECL inline
#endif

#endif  // !SMTPIPE_CONFIG_HPP
