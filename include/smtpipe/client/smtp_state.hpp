// smtpipe/client/smtp_state.hpp - A state registered at runtime (Momentum's smtp_state).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLIENT_SMTP_STATE_HPP
#define SMTPIPE_CLIENT_SMTP_STATE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/pipeline/transition.hpp"

#include <asio/awaitable.hpp>

#include <string>

namespace smtpipe {

class session;

/// A state registered at runtime, field for field Momentum's `smtp_state`. Registration
/// copies every field but `closure`, which is kept as a pointer: what it points to must
/// outlive the registration. `callback`, `tostage` and `tostring` are mandatory.
///
/// On entering the state the session seeds `local_state` from `init_local_state`, records
/// the time, and calls `setup` (if any) whose result becomes `session::state_closure()`;
/// then `callback` runs (it is a coroutine: it may talk to the server); on leaving, `free`
/// releases the state closure. `tostage` maps the connection to one of the 23 stage codes,
/// `tostring` a code to its text (`default_tostring` gives Momentum's texts).
struct smtp_state {
  using setup_fn = void* (*)(session& s, void* closure);
  using callback_fn = asio::awaitable<transition> (*)(session& s, void* closure);
  using free_fn = void (*)(session& s, void* state_closure, void* closure);
  using tostage_fn = int (*)(const session& s, void* closure);
  using tostring_fn = const char* (*)(int stage);
  using applies_fn = bool (*)(const session& s, void* closure);

  std::string name;                  ///< Unique, non-empty.
  int id = -1;                       ///< Assigned by registration.
  int init_local_state = 0;          ///< Seed of `session::local_state()` on entry.
  setup_fn setup = nullptr;          ///< Optional: makes the per-connection state closure.
  callback_fn callback = nullptr;    ///< Mandatory: the state's behaviour.
  free_fn free = nullptr;            ///< Optional: releases what `setup` made.
  tostage_fn tostage = nullptr;      ///< Mandatory: the current stage code (0-22).
  tostring_fn tostring = nullptr;    ///< Mandatory: stage code to text.
  const smtp_state* next = nullptr;  ///< The following state; maintained by the machine.
  void* closure = nullptr;           ///< Registration data, kept by pointer, never copied.
  /// smtpipe's addition, optional: when it returns false the state is skipped, not entered.
  applies_fn applies = nullptr;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_CLIENT_SMTP_STATE_HPP
