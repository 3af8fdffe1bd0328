// smtpipe/states/impl/banner.hpp - Bodies of the banner state.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_IMPL_BANNER_HPP
#define SMTPIPE_STATES_IMPL_BANNER_HPP

#include "smtpipe/states/banner.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

SMTPIPE_DECL asio::awaitable<transition> banner::run(session& s) {
  const std::error_code ec = co_await s.flush();
  const reply& g = s.greeting();
  if (g.code == 0) co_return s.fail_session(ec ? ec : make_error_code(errc::connection_closed));
  if (g.code == 220) co_return transition::next();
  if (g.code == 421) co_return s.fail_session(g, errc::service_not_available);
  if (g.transient() || g.permanent()) co_return s.fail_session(g, errc::greeting_refused);
  co_return s.fail_session(errc::unexpected_reply, g.sanitized_text());
}

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_IMPL_BANNER_HPP
