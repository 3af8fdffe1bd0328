// smtpipe/client/next_state.hpp - Momentum's smtp_next_state over a session.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLIENT_NEXT_STATE_HPP
#define SMTPIPE_CLIENT_NEXT_STATE_HPP

#include "smtpipe/client/smtp_state.hpp"
#include "smtpipe/config.hpp"
#include "smtpipe/session/session.hpp"

struct timeval;

namespace smtpipe {

/// Momentum's `smtp_next_state`: when the running state returns `transition::next()`, go to
/// `state` instead of the default next state; `state == nullptr` keeps the default. Only the
/// ID of `state` is used, so a pointer from `smtp_get_state` or `state_machine::get_state`
/// works for any session running a pipeline with that ID. `now` is accepted for source
/// compatibility and ignored: the session clocks states with `std::chrono::steady_clock`.
inline void smtp_next_state(session& s, const smtp_state* state, const ::timeval* now = nullptr) {
  (void)now;
  s.request_transition(state ? transition::jump(state->id) : transition::next());
}

}  // namespace smtpipe

#endif  // !SMTPIPE_CLIENT_NEXT_STATE_HPP
