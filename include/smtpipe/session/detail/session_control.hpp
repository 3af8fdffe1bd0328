// smtpipe/session/detail/session_control.hpp - What the runner does to a session.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_DETAIL_SESSION_CONTROL_HPP
#define SMTPIPE_SESSION_DETAIL_SESSION_CONTROL_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/protocol/address.hpp"
#include "smtpipe/session/session.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <span>
#include <string_view>
#include <system_error>
#include <utility>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::detail {

/// What the runner needs of one state, whichever path registered it: plain function
/// pointers and a context (null for static states, the `smtp_state` for runtime ones).
struct state_entry {
  int id = -1;
  std::string_view name;
  int init_local_state = 0;
  int stage = 0;  ///< The default stage code (22, unknown, unless the state type names one).
  bool (*applies)(const session&, const void*) = nullptr;
  asio::awaitable<transition> (*run)(session&, const void*) = nullptr;
  int (*tostage)(const session&, const void*) = nullptr;  ///< Runtime states only.
  const char* (*tostring)(int) = nullptr;
  const void* context = nullptr;
};

/// The runner's side of a session: its life (prepare, start, stop, result) and the entry
/// into and exit from each state.
struct session_control {
  /// Validates the configuration and every message; the error when nothing can be sent.
  static std::error_code prepare(session& s);
  static void set_names(session& s, std::span<const std::string_view> names) noexcept {
    s.ledger_.set_names(names);
  }
  /// Makes the greeting the first reply due and starts the session clock.
  static void start(session& s) { s.engine_.start({&on_greeting, nullptr, 0}, state_id::banner); }
  template <class Ended>
  static void start_helpers(session& s, const asio::any_io_executor& executor, Ended ended) {
    s.engine_.start_helpers(executor, std::move(ended));
  }
  static void helper_ended(session& s) noexcept { s.engine_.helper_ended(); }
  static asio::awaitable<void> helpers_ended(session& s) { return s.engine_.helpers_ended(); }
  static void stop(session& s) noexcept { s.engine_.stop(); }
  /// Records `ec` and drops the connection without QUIT.
  static transition broken(session& s, std::error_code ec) {
    s.set_error(ec);
    s.engine_.set_broken();
    return transition::fail_session();
  }
  /// What a state's transition becomes once the session has an error.
  static transition failed() noexcept { return transition::fail_session(); }
  static void note(session& s, std::string_view text) {
    if (s.options_.observer) s.options_.observer->note(s, text);
  }
  static void set_closure(session& s, void* closure) noexcept { s.state_closure_ = closure; }

  static void enter(session& s, const state_entry& e) {
    s.state_id_ = e.id;
    s.state_name_ = e.name;
    s.local_state_ = e.init_local_state;
    s.state_closure_ = nullptr;
    s.entry_stamped_ = false;
    s.stage_ = e.stage;
    s.stage_set_ = false;
    s.stage_fn_ = e.tostage;
    s.stage_ctx_ = e.context;
    s.tostring_fn_ = e.tostring;
    s.has_request_ = false;
    if (s.options_.observer) {
      s.stamp_entry();
      s.options_.observer->state_entered(s, e.id, e.name);
    }
  }
  static transition leave(session& s, const state_entry& e, transition t) {
    if (t.what() == transition::kind::next && s.has_request_) t = s.requested_;
    s.has_request_ = false;
    if (s.options_.observer) s.options_.observer->state_left(s, e.id, t);
    s.state_closure_ = nullptr;
    return t;
  }
  static void skipped(session& s, const state_entry& e) {
    if (s.options_.observer) s.options_.observer->state_skipped(s, e.id, e.name);
  }

  /// Decides every recipient still open and hands the result over.
  static session_result take_result(session& s);

  /// A session kept open after its messages (a connection pool): the result of the messages
  /// delivered so far (every reply due has been read), the connection's own fields kept for
  /// the next ones.
  static session_result take_batch(session& s) {
    s.ledger_.finalize(s.error_, nullptr, s.current_decider());
    session_result out = std::move(s.ledger_.result());
    session_result& kept = s.ledger_.result();
    kept = session_result{};
    kept.greeting = out.greeting;
    kept.esmtp = out.esmtp;
    kept.pipelining = out.pipelining;
    kept.tls = out.tls;
    kept.tls_fallback_reason = out.tls_fallback_reason;
    kept.authenticated = out.authenticated;
    s.ledger_.reload({});  // no messages until the next `load`
    return out;
  }
  /// The same session goes on with `messages` (validated as at the start); RSET is still
  /// sent before the next MAIL only when the last transaction was left unfinished.
  static std::error_code load(session& s, std::span<const message> messages) {
    s.ledger_.reload(messages);
    return s.ledger_.prepare();
  }

 private:
  static void on_greeting(session& s, const reply& r, void*, std::size_t);
};

}  // namespace smtpipe::detail

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/session/impl/session_control.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_SESSION_DETAIL_SESSION_CONTROL_HPP
