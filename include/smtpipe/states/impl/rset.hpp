// smtpipe/states/impl/rset.hpp - Bodies of the rset state.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_IMPL_RSET_HPP
#define SMTPIPE_STATES_IMPL_RSET_HPP

#include "smtpipe/states/rset.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

SMTPIPE_DECL asio::awaitable<transition> rset::run(session& s) {
  if (!s.has_next_transaction()) co_return transition::next();
  if (smtpipe::detail::builtin_steps::transaction_needs_reset(s)) {
    if (auto ec = smtpipe::detail::builtin_steps::queue_rset(s)) co_return s.fail_session(ec);
    if (!s.pipelining())
      if (auto ec = co_await s.flush()) co_return s.fail_session(ec);
  }
  co_return transition::jump(state_id::mail);
}

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_IMPL_RSET_HPP
