// smtpipe/states/helo.hpp - The helo state: HELO when EHLO was not understood.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_HELO_HPP
#define SMTPIPE_STATES_HELO_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/detail/builtin_steps.hpp"
#include "smtpipe/session/session.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

/// RFC 5321 §4.1.1.1: HELO, for servers that refused EHLO with 500/502. Skipped after a
/// successful EHLO, and never under LMTP (RFC 2033 has no HELO).
struct helo {
  static constexpr std::string_view name = "helo";
  static constexpr smtpipe::stage stage = smtpipe::stage::during_ehlo;

  static bool applies(const session& s) { return !s.esmtp() && !s.options().lmtp; }

  asio::awaitable<transition> run(session& s);
};

}  // namespace smtpipe::states

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/states/impl/helo.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_HELO_HPP
