// smtpipe/states/impl/mail.hpp - Bodies of the mail state.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_IMPL_MAIL_HPP
#define SMTPIPE_STATES_IMPL_MAIL_HPP

#include "smtpipe/states/mail.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

SMTPIPE_DECL asio::awaitable<transition> mail::run(session& s) {
  smtpipe::detail::builtin_steps::begin_transaction(s);
  if (auto ec = smtpipe::detail::builtin_steps::queue_mail(s))
    co_return s.fail_transaction(ec, delivery_status::permanent);
  if (s.pipelining()) co_return transition::next();
  if (auto ec = co_await s.flush()) co_return s.fail_session(ec);
  if (s.current_transaction().mail_code / 100 == 2) co_return transition::next();
  co_return s.fail_transaction(smtpipe::detail::builtin_steps::mail_reply(s));
}

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_IMPL_MAIL_HPP
