// smtpipe/states/impl/rcpt.hpp - Bodies of the rcpt state.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_IMPL_RCPT_HPP
#define SMTPIPE_STATES_IMPL_RCPT_HPP

#include "smtpipe/states/rcpt.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

SMTPIPE_DECL asio::awaitable<transition> rcpt::run(session& s) {
  const auto& tx = s.current_transaction();
  if (auto ec = smtpipe::detail::builtin_steps::check_rcpt_parameters(s))
    co_return s.fail_transaction(ec, delivery_status::permanent);
  for (std::size_t i = tx.first; i < tx.last; ++i) {
    if (!smtpipe::detail::builtin_steps::rcpt_due(s, i)) continue;
    if (auto ec = smtpipe::detail::builtin_steps::queue_rcpt(s, i))
      co_return s.fail_transaction(ec, delivery_status::permanent);
    if (!s.pipelining())
      if (auto ec = co_await s.flush()) co_return s.fail_session(ec);
  }
  if (!s.pipelining() && tx.accepted == 0) co_return s.fail_transaction();
  co_return transition::next();
}

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_IMPL_RCPT_HPP
