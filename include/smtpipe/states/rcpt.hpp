// smtpipe/states/rcpt.hpp - The rcpt state: one RCPT TO per recipient of the transaction.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_RCPT_HPP
#define SMTPIPE_STATES_RCPT_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/detail/builtin_steps.hpp"
#include "smtpipe/session/session.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

/// RFC 5321 §4.1.1.3: RCPT TO for each recipient of the transaction; each reply decides its
/// recipient (a refusal is final for that recipient; the message goes on while one is
/// accepted). Pipelinable; in lock-step, a transaction with no accepted recipient ends here.
struct rcpt {
  static constexpr std::string_view name = "rcpt";
  static constexpr smtpipe::stage stage = smtpipe::stage::during_rcpt_to;

  static bool applies(const session& s) { return s.current_transaction().open; }

  asio::awaitable<transition> run(session& s);
};

}  // namespace smtpipe::states

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/states/impl/rcpt.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_RCPT_HPP
