// smtpipe/states/impl/helo.hpp - Bodies of the helo state.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_IMPL_HELO_HPP
#define SMTPIPE_STATES_IMPL_HELO_HPP

#include "smtpipe/states/helo.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

SMTPIPE_DECL asio::awaitable<transition> helo::run(session& s) {
  if (auto ec = co_await s.exchange(command_kind::helo, format_helo, s.options().helo_name))
    co_return s.fail_session(ec);
  const reply& r = s.last_reply();
  if (r.code == 250) co_return transition::next();
  co_return s.fail_session(r, errc::unexpected_reply);
}

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_IMPL_HELO_HPP
