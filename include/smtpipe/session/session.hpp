// smtpipe/session/session.hpp - One SMTP conversation, as the states see it.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_SESSION_HPP
#define SMTPIPE_SESSION_SESSION_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/pipeline/stage.hpp"
#include "smtpipe/pipeline/transition.hpp"
#include "smtpipe/protocol/capabilities.hpp"
#include "smtpipe/protocol/reply.hpp"
#include "smtpipe/session/command_kind.hpp"
#include "smtpipe/session/detail/io_engine.hpp"
#include "smtpipe/session/detail/transaction_ledger.hpp"
#include "smtpipe/session/message.hpp"
#include "smtpipe/session/result.hpp"
#include "smtpipe/session/session_options.hpp"
#include "smtpipe/session/transport.hpp"

#include <asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

namespace detail {
struct session_control;
struct builtin_steps;
}  // namespace detail

/// One SMTP conversation over one connection, as the states see it.
///
/// A state talks to the server with four verbs:
/// - `co_await exchange(kind, format, args...)`: a command whose reply the state needs now
///   (a sync point: everything queued before leaves with it); the reply is `last_reply()`.
/// - `queue(kind, format, args...)`: a pipelinable command, no I/O; it leaves with the next
///   flush or exchange. A `reply_handler` before `format` gets its reply, in order.
/// - `co_await flush()`: writes everything queued in one write and waits for every reply.
/// - `queue_raw(bytes)`: bytes that get no reply (a PROXY header...).
///
/// `format` is a formatter of <smtpipe/protocol/command.hpp> (or any callable): it is called
/// as `format(out, args...)`, appends the command to `out` and returns a `std::error_code`;
/// a refused argument queues nothing and is returned. Failures are reported by returning
/// `fail_transaction(...)` or `fail_session(...)`.
///
/// The I/O (`detail::io_engine`) and the recipients' bookkeeping
/// (`detail::transaction_ledger`) are the session's own; any timeout, I/O error, protocol
/// error or cancellation makes the session unusable, and the connection is then closed.
class session {
 public:
  using clock = std::chrono::steady_clock;

  session(transport& io, const session_options& options, std::span<const message> messages);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // ---- What states read ------------------------------------------------------------------

  const session_options& options() const noexcept { return options_; }
  transport& io() noexcept { return engine_.io(); }
  std::span<const message> messages() const noexcept { return ledger_.messages(); }
  const session_result& result() const noexcept { return ledger_.result(); }
  /// The capabilities of the last successful EHLO/LHLO; empty after HELO.
  const capabilities& server_capabilities() const noexcept { return caps_; }
  bool esmtp() const noexcept { return esmtp_; }
  /// PIPELINING is advertised and enabled: queued commands wait for a flush.
  bool pipelining() const noexcept { return pipelining_; }
  /// The server's greeting (valid once the banner state has flushed).
  const reply& greeting() const noexcept { return greeting_; }
  /// The reply of the last `exchange`.
  const reply& last_reply() const noexcept { return exchanged_; }
  /// False after any error, after a 421, or once QUIT has been sent: no more commands.
  bool usable() const noexcept { return !error_ && !engine_.closing() && !engine_.quit_sent(); }
  /// Why the session cannot go on, if it cannot.
  std::error_code error() const noexcept { return error_; }
  /// The current (or last) transaction.
  const transaction& current_transaction() const noexcept { return ledger_.current(); }
  /// Whether another transaction can start: a valid message or recipient batch is left and
  /// `max_messages` is not reached.
  bool has_next_transaction() const noexcept { return usable() && ledger_.has_next(); }

  // ---- TLS and authentication ----------------------------------------------------------------

  /// The connection is encrypted.
  bool tls_active() const noexcept { return engine_.io().secure(); }
  /// The name the server certificate is checked against and sent as SNI: `tls_server_name`
  /// from the options, else the host the session connected to.
  std::string_view server_name() const noexcept { return server_name_; }
  /// After a STARTTLS 220: runs the TLS handshake over the same socket, then discards every
  /// capability learnt before it (RFC 3207 §4.2); EHLO must be sent again.
  asio::awaitable<std::error_code> start_tls();
  /// AUTH succeeded on this connection.
  bool authenticated() const noexcept { return ledger_.result().authenticated; }

  // ---- The commands --------------------------------------------------------------------------

  /// Queues the command `format(out, args...)` makes; no I/O. With `handler`, the handler
  /// gets its reply when it arrives.
  template <class Format, class... Args>
  std::error_code queue(command_kind kind, Format&& format, Args&&... args) {
    return queue(kind, reply_handler{}, std::forward<Format>(format), std::forward<Args>(args)...);
  }
  template <class Format, class... Args>
  std::error_code queue(command_kind kind, reply_handler handler, Format&& format, Args&&... args) {
    // After a failure on a connection still in step, QUIT still closes it politely.
    if (!usable() && !(kind == command_kind::quit && can_quit()))
      return error_ ? error_ : make_error_code(errc::connection_closed);
    return engine_.append(kind, handler, state_id_, [&](std::string& out) -> std::error_code {
      return format(out, args...);
    });
  }
  /// Queues bytes that get no reply; they leave with the next flush.
  std::error_code queue_raw(std::string_view bytes) {
    if (!usable()) return error_ ? error_ : make_error_code(errc::connection_closed);
    engine_.append_raw(bytes);
    return {};
  }
  /// Writes everything queued in one write, then waits until every outstanding reply has
  /// arrived and been handled. Returns the session's error, if any (a 421 in the group is
  /// `errc::service_not_available`).
  asio::awaitable<std::error_code> flush() {
    co_await engine_.flush();
    co_return error_;
  }
  /// A sync point: queues the command, flushes, and leaves its reply in `last_reply()`.
  template <class Format, class... Args>
  asio::awaitable<std::error_code> exchange(command_kind kind, Format&& format, Args&&... args) {
    // A one-line command with one text argument (EHLO, HELO, AUTH responses...) shares one
    // coroutine whatever the formatter: less code per program than one per call site.
    if constexpr (sizeof...(Args) == 1 && std::is_convertible_v<Format, line_format> &&
                  (std::is_convertible_v<Args, std::string_view> && ...))
      return exchange_line(kind, format, std::string_view(args)...);
    else
      return exchange_with(kind, std::decay_t<Format>(std::forward<Format>(format)),
                           std::decay_t<Args>(std::forward<Args>(args))...);
  }

  // ---- Failures ------------------------------------------------------------------------------

  /// Records `r` as the failure of every undecided recipient of the current transaction
  /// and ends it; the runner goes on with `rset`.
  transition fail_transaction(const reply& r) {
    ledger_.decide_open(r, {}, current_decider());
    ledger_.end();
    return transition::fail_transaction();
  }
  /// The same for an error that no reply carries (an invalid parameter, a missing extension).
  transition fail_transaction(std::error_code ec, delivery_status status) {
    ledger_.refuse_message(ec);
    ledger_.decide_open(status, ec, ec.message(), current_decider());
    ledger_.end();
    return transition::fail_transaction();
  }
  /// Ends the transaction whose recipients are all decided already.
  transition fail_transaction() {
    ledger_.end();
    return transition::fail_transaction();
  }
  /// Ends the session because of reply `r` (a 421, a refused greeting...): every recipient
  /// not yet decided gets `r`; no further command but QUIT is sent.
  transition fail_session(const reply& r, std::error_code ec) {
    set_error(ec, r.sanitized_text());
    session_reply_ = r;
    has_session_reply_ = true;
    ledger_.decide_open(r, ec, current_decider());
    return transition::fail_session();
  }
  /// Ends the session because of an error. After a 421 every undecided recipient gets the
  /// 421 reply; after an I/O or protocol error the connection is dropped without QUIT.
  transition fail_session(std::error_code ec, std::string_view detail = {});

  // ---- The current state (Momentum's per-connection bookkeeping) -----------------------------

  int state_id() const noexcept { return state_id_; }
  std::string_view state_name() const noexcept { return state_name_; }
  /// The stage code (0-22) the current state reports, and its text. A state type's
  /// `static constexpr smtpipe::stage stage` is the default; `set_stage` changes it.
  int stage_code() const {
    if (stage_set_ || !stage_fn_) return stage_;
    return stage_fn_(*this, stage_ctx_);
  }
  const char* stage_string() const {
    const int code = stage_code();
    return tostring_fn_ ? tostring_fn_(code) : stage_text(code);
  }
  void set_stage(stage st) noexcept {
    stage_ = static_cast<int>(st);
    stage_set_ = true;
  }
  /// Per-state scratch value, seeded from the state's `init_local_state` on entry.
  int& local_state() noexcept { return local_state_; }
  int local_state() const noexcept { return local_state_; }
  /// The current state's scratch value for the whole connection: zero when the session
  /// starts and kept across entries, unlike `local_state()`. Lets a state that is entered
  /// again (after a jump back) remember what it already did, e.g. that XCLIENT was sent.
  long& connection_state() {
    const auto i = static_cast<std::size_t>(state_id_ < 0 ? 0 : state_id_ + 1);
    if (i >= connection_states_.size()) connection_states_.resize(i + 1, 0);
    return connection_states_[i];
  }
  /// The closure the current state's `setup` made (for a state type, static or registered
  /// through `make_state`: the state object).
  void* state_closure() const noexcept { return state_closure_; }
  /// When the current state was entered (Momentum's `statetime`). The clock is read lazily:
  /// at entry when an observer is set, otherwise at the state's first wait on the session
  /// (a write, a reply, a handshake) or its first call here, whichever comes first; a state
  /// that awaits something else first (a lookup) and needs the exact time calls this before.
  clock::time_point state_entered_at() const noexcept {
    stamp_entry();
    return entered_at_;
  }
  // ---- Argument dictionaries (Momentum's smtp_client_args) ------------------------------

  /// Message `m`'s MAIL extension parameters: the session's copy of `message::args`, which a
  /// state may add to, read and delete from until the MAIL of `m` is queued.
  client_args& mail_args(std::size_t m) { return ledger_.mail_args(m); }
  /// Recipient `i` of message `m`: its RCPT extension parameters, until its RCPT is queued.
  client_args& rcpt_args(std::size_t m, std::size_t i) { return ledger_.rcpt_args(m, i); }
  /// Message `m`'s XCLIENT attributes, for a custom XCLIENT state.
  client_args& xclient_args(std::size_t m) { return ledger_.xclient_args(m); }

  /// Asks for a transition; it takes effect when the current state returns
  /// `transition::next()` (Momentum's `smtp_next_state`).
  void request_transition(transition t) noexcept {
    requested_ = t;
    has_request_ = true;
  }

 private:
  friend class detail::io_engine;
  friend struct detail::session_control;
  friend struct detail::builtin_steps;

  bool can_quit() const noexcept {
    return !engine_.broken() && !engine_.closing() && !engine_.quit_sent();
  }
  detail::transaction_ledger::decider current_decider() const noexcept {
    return {state_id_, state_name_};
  }
  void set_error(std::error_code ec, std::string_view detail = {}) {
    if (error_ || !ec) return;
    error_ = ec;
    auto& result = ledger_.result();
    result.error = ec;
    result.error_state = state_name_;
    result.error_stage = stage_code();
    result.error_text = std::string(detail);
  }
  /// Reads the clock for `state_entered_at()` if this state has not yet: a clock read costs
  /// as much as a whole transition, and most states never wait or ask.
  void stamp_entry() const noexcept {
    if (entry_stamped_) return;
    entered_at_ = clock::now();
    entry_stamped_ = true;
  }
  static void capture_reply(session& s, const reply& r, void*, std::size_t) { s.exchanged_ = r; }

  using line_format = std::error_code (*)(std::string&, std::string_view);
  asio::awaitable<std::error_code> exchange_line(command_kind kind, line_format format,
                                                 std::string_view argument) {
    if (auto ec = queue(kind, reply_handler{&capture_reply, nullptr, 0}, format, argument))
      co_return ec;
    co_return co_await flush();
  }
  template <class Format, class... Args>
  asio::awaitable<std::error_code> exchange_with(command_kind kind, Format format, Args... args) {
    if (auto ec = queue(kind, reply_handler{&capture_reply, nullptr, 0}, format, args...))
      co_return ec;
    co_return co_await flush();
  }

  const session_options& options_;
  detail::transaction_ledger ledger_;
  detail::io_engine engine_;
  std::error_code error_;

  // conversation
  capabilities caps_;
  bool esmtp_ = false;
  bool pipelining_ = false;
  reply greeting_, exchanged_, session_reply_;
  bool has_session_reply_ = false;
  std::string server_name_;

  // the current state (set by the runner)
  int state_id_ = -1;
  std::string_view state_name_;
  int local_state_ = 0;
  std::vector<long> connection_states_;  // by state ID + 1 (slot 0 outside any state)
  void* state_closure_ = nullptr;
  mutable clock::time_point entered_at_{};
  mutable bool entry_stamped_ = true;
  int stage_ = static_cast<int>(stage::unknown);
  bool stage_set_ = false;
  int (*stage_fn_)(const session&, const void*) = nullptr;
  const void* stage_ctx_ = nullptr;
  const char* (*tostring_fn_)(int) = nullptr;
  transition requested_ = transition::next();
  bool has_request_ = false;
  int decider_ = -1;  // the state whose reply is being handled
};

}  // namespace smtpipe

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/session/impl/session.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_SESSION_SESSION_HPP
