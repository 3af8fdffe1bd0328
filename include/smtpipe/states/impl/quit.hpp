// smtpipe/states/impl/quit.hpp - Bodies of the quit state.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_IMPL_QUIT_HPP
#define SMTPIPE_STATES_IMPL_QUIT_HPP

#include "smtpipe/states/quit.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

SMTPIPE_DECL asio::awaitable<transition> quit::run(session& s) {
  if (auto ec = s.queue(command_kind::quit, format_quit)) co_return transition::close();
  (void)co_await s.flush();
  co_return transition::next();
}

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_IMPL_QUIT_HPP
