// smtpipe/states/mail.hpp - The mail state: open a transaction with MAIL FROM.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_MAIL_HPP
#define SMTPIPE_STATES_MAIL_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/detail/builtin_steps.hpp"
#include "smtpipe/session/session.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

/// RFC 5321 §4.1.1.2: MAIL FROM for the next message (or recipient batch), with SIZE,
/// SMTPUTF8, BODY and DSN parameters as the server allows. Pipelinable: with PIPELINING the
/// command waits for the group's flush. A parameter the server cannot take fails the message
/// before any of its bytes is written.
struct mail {
  static constexpr std::string_view name = "mail";
  static constexpr smtpipe::stage stage = smtpipe::stage::during_mail_from;

  static bool applies(const session& s) { return s.has_next_transaction(); }

  asio::awaitable<transition> run(session& s);
};

}  // namespace smtpipe::states

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/states/impl/mail.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_MAIL_HPP
