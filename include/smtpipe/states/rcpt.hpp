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

  asio::awaitable<transition> run(session& s) {
    const auto& tx = s.current_transaction();
    if (auto ec = detail::builtin_steps::check_rcpt_parameters(s))
      co_return s.fail_transaction(ec, delivery_status::permanent);
    for (std::size_t i = tx.first; i < tx.last; ++i) {
      if (!detail::builtin_steps::rcpt_due(s, i)) continue;
      if (auto ec = detail::builtin_steps::queue_rcpt(s, i))
        co_return s.fail_transaction(ec, delivery_status::permanent);
      if (!s.pipelining())
        if (auto ec = co_await s.flush()) co_return s.fail_session(ec);
    }
    if (!s.pipelining() && tx.accepted == 0) co_return s.fail_transaction();
    co_return transition::next();
  }
};

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_RCPT_HPP
