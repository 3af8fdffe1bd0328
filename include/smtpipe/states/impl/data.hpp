// smtpipe/states/impl/data.hpp - Bodies of the data state.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_IMPL_DATA_HPP
#define SMTPIPE_STATES_IMPL_DATA_HPP

#include "smtpipe/states/data.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

SMTPIPE_DECL asio::awaitable<transition> data::run(session& s) {
  if (smtpipe::detail::builtin_steps::uses_bdat(s)) return run_bdat(s);
  return run_data(s);
}

SMTPIPE_DECL asio::awaitable<transition> data::run_bdat(session& s) {
  const auto& tx = s.current_transaction();
  if (auto ec = co_await s.flush()) co_return s.fail_session(ec);
  if (tx.mail_code / 100 != 2)
    co_return s.fail_transaction(smtpipe::detail::builtin_steps::mail_reply(s));
  if (tx.accepted == 0) co_return s.fail_transaction();
  s.set_stage(smtpipe::stage::sending_body);
  if (auto ec = co_await smtpipe::detail::builtin_steps::send_bdat(s)) co_return s.fail_session(ec);
  if (smtpipe::detail::builtin_steps::bdat_refused(s)) {
    if (auto ec = co_await s.flush()) co_return s.fail_session(ec);
    co_return s.fail_transaction();
  }
  s.set_stage(smtpipe::stage::reading_confirmation);
  if (!s.pipelining())
    if (auto ec = co_await s.flush()) co_return s.fail_session(ec);
  co_return transition::next();
}

SMTPIPE_DECL asio::awaitable<transition> data::run_data(session& s) {
  const auto& tx = s.current_transaction();
  if (auto ec = co_await s.exchange(command_kind::data, format_data)) co_return s.fail_session(ec);
  const reply& r = s.last_reply();
  const bool go_ahead = r.code == 354;
  const bool mail_accepted = tx.mail_code / 100 == 2;
  if (!mail_accepted || tx.accepted == 0) {
    if (go_ahead) {  // the server waits for data nobody should get: end it with a lone "."
      if (auto ec = smtpipe::detail::builtin_steps::queue_empty_dot(s))
        co_return s.fail_session(ec);
      if (auto ec = co_await s.flush()) co_return s.fail_session(ec);
    }
    co_return mail_accepted ? s.fail_transaction(r)
                            : s.fail_transaction(smtpipe::detail::builtin_steps::mail_reply(s));
  }
  if (!go_ahead) co_return s.fail_transaction(r);
  s.set_stage(smtpipe::stage::sending_body);
  if (auto ec = co_await smtpipe::detail::builtin_steps::send_body(s)) co_return s.fail_session(ec);
  s.set_stage(smtpipe::stage::reading_confirmation);
  if (!s.pipelining())
    if (auto ec = co_await s.flush()) co_return s.fail_session(ec);
  co_return transition::next();
}

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_IMPL_DATA_HPP
