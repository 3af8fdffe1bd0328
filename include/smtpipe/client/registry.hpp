// smtpipe/client/registry.hpp - Momentum's C API over a process-wide default state machine.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLIENT_REGISTRY_HPP
#define SMTPIPE_CLIENT_REGISTRY_HPP

#include "smtpipe/client/smtp_state.hpp"
#include "smtpipe/client/state_machine.hpp"
#include "smtpipe/config.hpp"

namespace smtpipe {

/// The process-wide machine behind the Momentum-compatible functions below; sessions run it
/// when they are given no pipeline of their own.
inline state_machine& default_state_machine() {
  static state_machine machine;
  return machine;
}

/// Momentum's `register_smtp_client_state`: registers a copy of `*state` (its `closure`
/// pointer kept) after the state `insert_after` (-1: before `banner`). Returns the new ID,
/// or -1 if `state` is null or the registration is refused (see `state_machine`).
inline int register_smtp_client_state(const smtp_state* state, int insert_after) {
  return state ? default_state_machine().register_state(*state, insert_after) : -1;
}

/// Momentum's `smtp_get_state`: the state with `id`, or nullptr.
inline const smtp_state* smtp_get_state(int id) { return default_state_machine().get_state(id); }

/// Momentum's `smtp_get_state_machine`: the first state; walk it with `next`.
inline const smtp_state* smtp_get_state_machine() { return default_state_machine().head(); }

}  // namespace smtpipe

#endif  // !SMTPIPE_CLIENT_REGISTRY_HPP
