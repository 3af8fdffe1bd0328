// smtpipe/session/session.hpp - One SMTP conversation: the command queue, the reply FIFO, results.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_SESSION_HPP
#define SMTPIPE_SESSION_SESSION_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/pipeline/stage.hpp"
#include "smtpipe/pipeline/state_id.hpp"
#include "smtpipe/pipeline/transition.hpp"
#include "smtpipe/protocol/body_encoder.hpp"
#include "smtpipe/protocol/capabilities.hpp"
#include "smtpipe/protocol/command.hpp"
#include "smtpipe/protocol/disposition.hpp"
#include "smtpipe/protocol/reply.hpp"
#include "smtpipe/protocol/reply_parser.hpp"
#include "smtpipe/session/command_kind.hpp"
#include "smtpipe/session/message.hpp"
#include "smtpipe/session/result.hpp"
#include "smtpipe/session/session_options.hpp"
#include "smtpipe/session/transport.hpp"

#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace smtpipe {

class session;

/// What to do with one reply: a function and two words of context, so that queueing a
/// command allocates nothing. `fn` may be null (the reply is only checked and observed).
struct reply_handler {
  using function = void (*)(session&, const reply&, void* context, std::size_t index);
  function fn = nullptr;
  void* context = nullptr;
  std::size_t index = 0;
};

namespace detail {
struct runner_access;
}  // namespace detail

/// One SMTP conversation over one connection, as the states see it.
///
/// States talk to the server through three verbs:
/// - `queue(kind, format, handler)`: append a command and the handler of its reply. With
///   PIPELINING the bytes wait for the next flush, so consecutive queued commands leave in
///   one write; without it, `queue` flushes at once (strict lock-step).
/// - `flush()`: write everything queued in one write, then wait until every outstanding
///   reply has arrived and its handler has run, in order.
/// - `exchange(kind, format)`: queue + flush, the reply in `last_reply()`: a sync point.
///
/// A reader runs beside the states for the whole session: it pairs every reply with the
/// oldest outstanding command, strictly in order, and treats bytes that arrive while no
/// reply is outstanding (or before the command was written) as a protocol error. Any
/// timeout, I/O error, protocol error or cancellation makes the session unusable; the
/// connection is then closed, never reused.
class session {
 public:
  using clock = std::chrono::steady_clock;

  session(transport& io, const session_options& options, std::span<const message> messages)
      : io_(io),
        options_(options),
        messages_(messages),
        parser_(options.replies),
        timer_(io.get_executor()),
        park_(io.get_executor()),
        server_name_(options.tls_server_name) {
    result_.messages.resize(messages.size());
    phases_.resize(messages.size());
    for (std::size_t m = 0; m < messages.size(); ++m) {
      auto& rs = result_.messages[m].recipients;
      rs.resize(messages[m].recipients.size());
      for (std::size_t i = 0; i < rs.size(); ++i) {
        rs[i].address = messages[m].recipients[i].address;
        rs[i].error = errc::not_attempted;
      }
      phases_[m].assign(rs.size(), phase::not_sent);
    }
    tick_ = options.timeouts.shortest();
  }
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // ---- What states read ------------------------------------------------------------------

  const session_options& options() const noexcept { return options_; }
  transport& io() noexcept { return io_; }
  std::span<const message> messages() const noexcept { return messages_; }
  const session_result& result() const noexcept { return result_; }

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
  bool usable() const noexcept { return !error_ && !closing_ && !quit_sent_; }
  /// The connection can still carry a polite QUIT: no I/O, protocol or timeout error, no 421.
  bool can_quit() const noexcept { return !broken_ && !closing_ && !quit_sent_; }
  /// Why the session cannot go on, if it cannot.
  std::error_code error() const noexcept { return error_; }

  // ---- TLS and authentication ----------------------------------------------------------------

  /// The connection is encrypted.
  bool tls_active() const noexcept { return io_.secure(); }
  /// The name the server certificate is checked against and sent as SNI: `tls_server_name`
  /// from the options, else the host the session connected to.
  std::string_view server_name() const noexcept { return server_name_; }
  /// After a STARTTLS 220 (the reader is then paused): runs the TLS handshake over the same
  /// socket, then discards every capability learnt before it (RFC 3207 §4.2); EHLO must be
  /// sent again. Plaintext that followed the 220 fails the session (`tls_plaintext_injection`).
  asio::awaitable<std::error_code> start_tls();
  /// AUTH succeeded on this connection.
  bool authenticated() const noexcept { return authenticated_; }
  void set_authenticated() noexcept {
    authenticated_ = true;
    result_.authenticated = true;
  }
  /// Records that opportunistic TLS failed here: a fresh plaintext connection may follow.
  void set_tls_fallback(std::error_code why) noexcept { result_.tls_fallback_reason = why; }

  // ---- Momentum's per-connection bookkeeping ----------------------------------------------

  int state_id() const noexcept { return state_id_; }
  std::string_view state_name() const noexcept { return state_name_; }
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
  /// The current state's stage code (0-22) and its text.
  int stage_code() const { return stage_fn_ ? stage_fn_(*this, stage_ctx_) : int(stage::unknown); }
  const char* stage_string() const {
    int code = stage_code();
    return tostring_fn_ ? tostring_fn_(code) : stage_text(code);
  }

  /// Asks for a transition; it takes effect when the current state returns
  /// `transition::next()` (Momentum's `smtp_next_state`).
  void request_transition(transition t) noexcept {
    requested_ = t;
    has_request_ = true;
  }

  // ---- The command queue ------------------------------------------------------------------

  /// Appends a command made by `format(std::string&) -> std::error_code` (a formatter of
  /// `protocol/command.hpp`) and registers `handler` for its reply. Does no I/O. A refused
  /// argument returns its error and appends nothing.
  template <class Format>
  std::error_code enqueue(command_kind kind, Format&& format, reply_handler handler = {}) {
    // After a failure on a connection still in step, QUIT still closes it politely.
    if (!usable() && !(kind == command_kind::quit && can_quit()))
      return error_ ? error_ : make_error_code(errc::connection_closed);
    const std::size_t mark = out_.size();
    if (auto ec = format(out_)) {
      out_.resize(mark);
      return ec;
    }
    if (options_.observer) log_.push_back({mark, out_.size() - mark, kind == command_kind::auth});
    pending_.push_back({handler, kind, state_id_, false});
    if (kind == command_kind::quit) quit_sent_ = true;
    return {};
  }

  /// `enqueue`, then `flush` unless PIPELINING lets the command wait for the next group.
  template <class Format>
  asio::awaitable<std::error_code> queue(command_kind kind, Format&& format,
                                         reply_handler handler = {}) {
    if (auto ec = enqueue(kind, std::forward<Format>(format), handler)) co_return ec;
    if (!pipelining_) co_return co_await flush();
    co_return std::error_code{};
  }

  /// A sync point: queue, flush, and leave the reply in `last_reply()`.
  template <class Format>
  asio::awaitable<std::error_code> exchange(command_kind kind, Format&& format) {
    if (auto ec = enqueue(kind, std::forward<Format>(format), {&capture_reply, nullptr, 0}))
      co_return ec;
    co_return co_await flush();
  }

  /// Appends bytes that get no reply (e.g. a PROXY protocol header); they leave with the
  /// next flush.
  std::error_code enqueue_raw(std::string_view bytes) {
    if (!usable()) return error_ ? error_ : make_error_code(errc::connection_closed);
    out_.append(bytes);
    return {};
  }

  /// Writes everything queued in one write, then waits until every outstanding reply has
  /// arrived and been handled. Returns the session's error, if any (a 421 in the group is
  /// `errc::service_not_available`).
  asio::awaitable<std::error_code> flush() {
    if (!out_.empty()) co_await write_out(options_.timeouts.command);
    while (!broken_ && head_ < pending_.size()) co_await wait_for_reader();
    co_return error_;
  }

  // ---- Messages and transactions ------------------------------------------------------------

  /// The recipients `[first, last)` of message `message` that one MAIL transaction carries.
  struct transaction {
    std::size_t message = 0;
    std::size_t first = 0;
    std::size_t last = 0;
    bool open = false;         ///< Begun and not yet ended.
    int mail_code = 0;         ///< 0 until the MAIL reply arrived.
    std::size_t accepted = 0;  ///< Recipients accepted so far.
    std::size_t answered = 0;  ///< RCPT replies received so far.
  };

  /// The current (or last) transaction.
  const transaction& current_transaction() const noexcept { return tx_; }
  /// Whether another transaction can start: a valid message or recipient batch is left and
  /// `max_messages` is not reached.
  bool has_next_transaction() const noexcept { return find_next(nullptr, nullptr); }
  /// Starts the next transaction (used by the `mail` state); false if none is left.
  bool begin_transaction() noexcept {
    std::size_t m = 0, first = 0;
    if (!find_next(&m, &first)) return false;
    const std::size_t n = messages_[m].recipients.size();
    const std::size_t batch =
        options_.max_recipients_per_transaction ? options_.max_recipients_per_transaction : n;
    if (m != next_message_ || first == 0) ++messages_started_;
    tx_ = transaction{m, first, std::min(n, first + batch), true, 0, 0, 0};
    mail_queued_ = false;
    next_message_ = m;
    next_recipient_ = tx_.last;
    ++result_.messages[m].transactions;
    ++result_.transactions;
    return true;
  }
  /// MAIL was queued for a transaction that ended without its final "." (RFC 5321
  /// §4.1.1.5: RSET before the next one).
  bool transaction_needs_reset() const noexcept { return needs_rset_; }
  /// Queues RSET (used by the `rset` state).
  std::error_code enqueue_rset() {
    needs_rset_ = false;
    return enqueue(command_kind::rset, format_rset, {&on_rset, nullptr, 0});
  }

  /// Queues MAIL FROM for the current transaction with the parameters the server supports;
  /// a parameter the server cannot take (SIZE over its limit, SMTPUTF8 not advertised...)
  /// is an error and nothing is queued.
  std::error_code enqueue_mail();
  /// The reply to MAIL when it was not positive.
  const reply& mail_reply() const noexcept { return mail_reply_; }
  /// Checks that the server takes every RCPT parameter of the current transaction.
  std::error_code check_rcpt_parameters() const;
  /// Queues RCPT TO for recipient `index` of the current message.
  std::error_code enqueue_rcpt(std::size_t index);
  /// Streams the body of the current transaction (after a 354), dot-stuffed, then queues
  /// the final "." with the handler that decides its recipients.
  asio::awaitable<std::error_code> send_body();
  /// Queues a lone "." (DATA got 354 but no recipient was accepted, RFC 2920 §3.1).
  std::error_code enqueue_empty_dot() {
    in_body_ = false;
    return enqueue(command_kind::dot, format_dot, {});
  }

  /// Records `r` as the failure of every undecided recipient of the current transaction
  /// and ends it; returns the transition that goes on with `rset`.
  transition fail_transaction(const reply& r) {
    decide_open(r, {});
    end_transaction();
    return transition::fail_transaction();
  }
  /// The same for an error that no reply carries (an invalid parameter, a missing extension).
  transition fail_transaction(std::error_code ec, delivery_status status) {
    auto& message_error = result_.messages[tx_.message].error;
    if (!message_error) message_error = ec;
    decide_open(status, ec, ec.message());
    end_transaction();
    return transition::fail_transaction();
  }
  /// Ends the session because of reply `r` (a 421, a refused greeting...): every recipient
  /// not yet decided gets `r`; no further command but QUIT is sent.
  transition fail_session(const reply& r, std::error_code ec) {
    set_error(ec, r.sanitized_text());
    session_reply_ = r;
    has_session_reply_ = true;
    decide_open(r, ec);
    return transition::fail_session();
  }
  /// Ends the session because of an error. After a 421 every undecided recipient gets the
  /// 421 reply; after an I/O or protocol error the connection is dropped without QUIT.
  transition fail_session(std::error_code ec, std::string_view detail = {}) {
    if (closing_) return fail_session(closing_reply_, errc::service_not_available);
    set_error(ec, detail);
    return transition::fail_session();
  }

  // ---- Handlers built-in states use ----------------------------------------------------------

  /// Copies the reply into `last_reply()`.
  static void capture_reply(session& s, const reply& r, void*, std::size_t) { s.exchanged_ = r; }

  /// Records the capabilities of a successful EHLO/LHLO and whether to pipeline.
  void set_capabilities(const reply& ehlo_reply) {
    caps_ = capabilities::parse(ehlo_reply);
    esmtp_ = true;
    pipelining_ = options_.pipelining && caps_.pipelining();
    result_.esmtp = true;
    result_.pipelining = pipelining_;
  }
  /// Forgets what EHLO taught (after HELO, or after STARTTLS as RFC 3207 §4.2 requires).
  void reset_capabilities() noexcept {
    caps_.clear();
    esmtp_ = false;
    pipelining_ = false;
    result_.pipelining = false;
  }

 private:
  friend struct detail::runner_access;

  enum class phase : std::uint8_t { not_sent, queued, accepted, dot_sent, decided };

  struct message_info {
    std::optional<std::uint64_t> size;  // for SIZE=
    bool utf8 = false;                  // needs SMTPUTF8
  };

  std::error_code validate_message(std::size_t m);
  /// Validates the configuration and every message; the error when nothing can be sent.
  std::error_code prepare();
  /// Makes the greeting the first reply due and starts the session clock.
  void start();
  void end_transaction() noexcept {
    if (tx_.open && mail_queued_) needs_rset_ = true;
    tx_.open = false;
  }

  struct pending_reply {
    reply_handler handler;
    command_kind kind;
    int state_id;
    bool sent;
  };
  struct logged_command {
    std::size_t offset;
    std::size_t length;
    bool redact;
  };

  static std::error_code format_dot(std::string& out) {
    out += ".\r\n";
    return {};
  }

  std::chrono::milliseconds timeout_for(command_kind k) const noexcept {
    const auto& t = options_.timeouts;
    switch (k) {
      case command_kind::greeting: return t.greeting;
      case command_kind::ehlo:
      case command_kind::helo:
      case command_kind::lhlo: return t.ehlo;
      case command_kind::starttls: return t.starttls;
      case command_kind::auth: return t.auth;
      case command_kind::mail: return t.mail;
      case command_kind::rcpt: return t.rcpt;
      case command_kind::data: return t.data_init;
      case command_kind::dot:
      case command_kind::bdat: return t.data_done;
      case command_kind::rset: return t.rset;
      case command_kind::quit: return t.quit;
      case command_kind::noop:
      case command_kind::custom: return t.command;
    }
    return t.command;
  }

  bool find_next(std::size_t* message_out, std::size_t* first_out) const noexcept {
    if (!usable()) return false;
    std::size_t m = next_message_, first = next_recipient_;
    while (m < messages_.size() &&
           (result_.messages[m].error || first >= messages_[m].recipients.size())) {
      ++m;
      first = 0;
    }
    if (m >= messages_.size()) return false;
    if (first == 0 && options_.max_messages && messages_started_ >= options_.max_messages)
      return false;
    if (message_out) *message_out = m;
    if (first_out) *first_out = first;
    return true;
  }

  // -- results
  void decide(std::size_t m, std::size_t i, delivery_status status, const reply* r,
              std::error_code ec, std::string_view text) {
    auto& rr = result_.messages[m].recipients[i];
    rr.status = status;
    rr.code = r ? r->code : 0;
    rr.enhanced = r ? r->enhanced : enhanced_status{};
    rr.text = r ? r->sanitized_text() : std::string(text);
    rr.error = ec;
    rr.state_id = decider_ >= 0 ? decider_ : state_id_;
    rr.state = rr.state_id >= 0 && std::size_t(rr.state_id) < names_.size() ? names_[rr.state_id]
                                                                            : state_name_;
    phases_[m][i] = phase::decided;
  }
  static delivery_status status_of(const reply& r) noexcept {
    switch (disposition_of(r.code)) {
      case disposition::positive: return delivery_status::delivered;
      case disposition::transient: return delivery_status::transient;
      case disposition::permanent: return delivery_status::permanent;
    }
    return delivery_status::permanent;
  }
  static delivery_status failure_of(const reply& r) noexcept {
    return r.permanent() ? delivery_status::permanent : delivery_status::transient;
  }
  void decide_open(const reply& r, std::error_code ec) {
    if (!tx_.open) return;
    for (std::size_t i = tx_.first; i < tx_.last; ++i)
      if (phases_[tx_.message][i] != phase::decided)
        decide(tx_.message, i, failure_of(r), &r, ec, {});
  }
  void decide_open(delivery_status status, std::error_code ec, std::string_view text) {
    if (!tx_.open) return;
    for (std::size_t i = tx_.first; i < tx_.last; ++i)
      if (phases_[tx_.message][i] != phase::decided)
        decide(tx_.message, i, status, nullptr, ec, text);
  }

  static void on_greeting(session& s, const reply& r, void*, std::size_t) {
    s.greeting_ = r;
    s.result_.greeting = r.sanitized_text();
  }
  static void on_mail(session& s, const reply& r, void*, std::size_t) {
    s.tx_.mail_code = r.code;
    if (!r.positive()) s.mail_reply_ = r;
  }
  static void on_rcpt(session& s, const reply& r, void*, std::size_t i) {
    ++s.tx_.answered;
    const bool mail_accepted =
        s.tx_.mail_code != 0 && disposition_of(s.tx_.mail_code) == disposition::positive;
    if (r.positive() && mail_accepted) {
      s.phases_[s.tx_.message][i] = phase::accepted;
      ++s.tx_.accepted;
      auto& rr = s.result_.messages[s.tx_.message].recipients[i];
      rr.code = r.code;
      rr.enhanced = r.enhanced;
      rr.text = r.sanitized_text();
    } else if (!mail_accepted) {
      // MAIL was refused, so no transaction exists: the MAIL reply decides, whatever RCPT
      // got (a 503 "need MAIL first" says nothing about the recipient).
      s.decide(s.tx_.message, i, failure_of(s.mail_reply_), &s.mail_reply_, {}, {});
    } else {
      s.decide(s.tx_.message, i, failure_of(r), &r, {}, {});
    }
  }
  static void on_dot(session& s, const reply& r, void*, std::size_t) {
    const transaction& d = s.dot_tx_;
    for (std::size_t i = d.first; i < d.last; ++i)
      if (s.phases_[d.message][i] == phase::dot_sent)
        s.decide(d.message, i, status_of(r), &r, {}, {});
    s.dot_pending_ = false;
  }
  static void on_rset(session& s, const reply& r, void*, std::size_t) {
    if (r.positive()) return;
    // The server's state is unknown (the commands pipelined behind RSET may have opened a
    // transaction, even DATA): drop the connection, never add QUIT behind them.
    s.set_error(errc::unexpected_reply, r.sanitized_text());
    s.broken_ = true;
  }

  // -- errors
  void set_error(std::error_code ec, std::string_view detail = {}) {
    if (error_ || !ec) return;
    error_ = ec;
    result_.error = ec;
    result_.error_state = state_name_;
    result_.error_stage = stage_code();
    result_.error_text = std::string(detail);
  }

  // -- I/O
  /// Reads the clock for `state_entered_at()` if this state has not yet: a clock read costs
  /// as much as a whole transition, and most states never wait or ask.
  void stamp_entry() const noexcept {
    if (entry_stamped_) return;
    entered_at_ = clock::now();
    entry_stamped_ = true;
  }
  asio::awaitable<void> write_out(std::chrono::milliseconds progress_timeout);
  asio::awaitable<void> wait_for_reader();
  /// Lets the states waiting for replies go on, later (the waiter is posted).
  void wake() noexcept {
    if (!waiter_) return;
    auto w = std::move(*waiter_);
    waiter_.reset();
    asio::post(std::move(w));
  }
  /// The same, now: the reader calls it once its buffer is consumed, so that the states
  /// write the next group in this turn (one scheduler round and one poll less per group).
  void resume_states() {
    if (!waiter_) return;
    auto w = std::move(*waiter_);
    waiter_.reset();
    asio::dispatch(std::move(w));
  }
  /// Destroys a waiter no one will resume: the reader's frame is being destroyed unfinished
  /// (its io_context shuts down). The waiter owns the states' frames, and so this session.
  void drop_waiter() noexcept {
    if (!waiter_) return;
    auto w = std::move(*waiter_);
    waiter_.reset();
  }
  /// A written command waits for its reply: bytes from the server are expected.
  bool reply_due() const noexcept { return head_ < pending_.size() && pending_[head_].sent; }
  void arm_read_deadline() noexcept {
    read_deadline_ = head_ < pending_.size() && pending_[head_].sent
                         ? clock::now() + timeout_for(pending_[head_].kind)
                         : clock::time_point::max();
  }
  bool on_reply(const reply& r);
  asio::awaitable<void> reader();
  asio::awaitable<bool> park_reader();
  /// Checks the deadlines, then waits on the timer until the next one is due; ends (as a
  /// helper) once the session stops or a deadline has passed.
  void watch();
  /// The reader and the watchdog run beside the states until `stop()`; the runner waits for
  /// both to end (each calls this once) before the session goes away.
  void helper_ended() noexcept {
    --helpers_;
    wake();
  }
  /// Parks the states until `wake()` or `resume_states()` (or a cancellation) lets them go on.
  asio::awaitable<void> wait_for_wake();
  void stop() noexcept;
  void finalize();
  void classify_results();

  transport& io_;
  const session_options& options_;
  std::span<const message> messages_;
  session_result result_;
  std::vector<std::vector<phase>> phases_;

  // conversation
  capabilities caps_;
  bool esmtp_ = false;
  bool pipelining_ = false;
  bool closing_ = false;  // a 421 arrived
  bool broken_ = false;   // out of step (I/O, protocol, timeout...): drop without QUIT
  bool quit_sent_ = false;
  reply greeting_, exchanged_, mail_reply_, closing_reply_, session_reply_;
  bool has_session_reply_ = false;
  std::error_code error_;

  // transactions
  std::vector<message_info> info_;
  transaction tx_, dot_tx_;
  bool mail_queued_ = false;  // MAIL of tx_ queued (a refused parameter queues none)
  bool needs_rset_ = false;
  bool dot_queued_ = false;   // the final "." is in out_, not yet written
  bool dot_pending_ = false;  // the final "." was written, its reply is due
  std::size_t dot_end_ = 0;   // offset just past the "." in out_
  std::size_t next_message_ = 0, next_recipient_ = 0, messages_started_ = 0;
  body_reader body_;

  // state bookkeeping (set by the runner)
  int state_id_ = -1;
  std::string_view state_name_;
  int local_state_ = 0;
  std::vector<long> connection_states_;  // by state ID + 1 (slot 0 outside any state)
  void* state_closure_ = nullptr;
  mutable clock::time_point entered_at_{};
  mutable bool entry_stamped_ = true;
  int (*stage_fn_)(const session&, const void*) = nullptr;
  const void* stage_ctx_ = nullptr;
  const char* (*tostring_fn_)(int) = nullptr;
  transition requested_ = transition::next();
  bool has_request_ = false;
  std::span<const std::string_view> names_;  // state names by ID (the runner's), for results
  int decider_ = -1;                         // the state whose reply is being handled

  // output
  std::string out_;
  std::vector<logged_command> log_;
  std::vector<pending_reply> pending_;
  std::size_t head_ = 0;  // oldest outstanding reply
  bool in_body_ = false;

  // input
  reply_parser parser_;
  // Replies are small: reads start with 512 bytes, allocated when the first read starts,
  // and the buffer doubles (to 8 KiB at most) after a read that fills it.
  std::vector<char> in_;
  std::size_t in_begin_ = 0, in_end_ = 0;
  bool stopped_ = false;

  // time
  asio::steady_timer timer_, park_;
  // The states waiting in `wait_for_reader`, and whether the reader owes them a resume.
  using waiter = asio::async_result<asio::use_awaitable_t<>, void()>::handler_type;
  std::optional<waiter> waiter_;
  bool resume_due_ = false;
  int helpers_ = 0;
  bool reader_paused_ = false;
  bool plaintext_after_starttls_ = false;
  bool authenticated_ = false;
  std::string server_name_;
  clock::time_point read_deadline_ = clock::time_point::max();
  clock::time_point write_deadline_ = clock::time_point::max();
  clock::time_point session_deadline_ = clock::time_point::max();
  std::chrono::milliseconds tick_{};
};

}  // namespace smtpipe

#include "smtpipe/session/impl/session.hpp"

#endif  // !SMTPIPE_SESSION_SESSION_HPP
