// smtpipe/session/impl/session.hpp - Bodies of the session's I/O engine and TLS upgrade.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_IMPL_SESSION_HPP
#define SMTPIPE_SESSION_IMPL_SESSION_HPP

#include "smtpipe/session/session.hpp"

#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>

#include <algorithm>
#include <exception>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

namespace detail {

SMTPIPE_DECL std::string redacted(std::string_view line) {
  // "AUTH PLAIN <secret>" keeps the mechanism; SASL response lines are secrets entirely.
  if (line.size() > 5 && (line.substr(0, 5) == "AUTH " || line.substr(0, 5) == "auth ")) {
    const std::size_t space = line.find(' ', 5);
    return std::string(line.substr(0, space)) + (space == line.npos ? "" : " <redacted>");
  }
  return "<redacted>";
}

SMTPIPE_DECL io_engine::~io_engine() = default;

SMTPIPE_DECL std::chrono::milliseconds io_engine::timeout_for(command_kind k) const noexcept {
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

// Records the session's error and gives up the connection.
SMTPIPE_DECL void io_engine::fail(std::error_code ec, std::string_view detail) {
  owner_.set_error(ec, detail);
  broken_ = true;
}

// ---- the body -------------------------------------------------------------------------------

SMTPIPE_DECL asio::awaitable<std::error_code> io_engine::send_body(const body_source& body,
                                                                   reply_handler on_dot,
                                                                   int state_id) {
  constexpr std::size_t block = 64 * 1024;
  body_encoder encoder({true, options_.long_lines, 998});
  std::error_code ec = body.open(body_);
  std::uint64_t octets = 0;
  in_body_ = true;
  while (!ec && !owner_.error_) {
    std::string_view chunk;
    if ((ec = body_.next(chunk, block)) || chunk.empty()) break;
    const std::size_t before = out_.size();
    if ((ec = encoder.encode(chunk, out_))) break;
    octets += out_.size() - before;
    if (out_.size() >= block) co_await write_out(options_.timeouts.data_block);
  }
  body_ = body_reader{};
  if (ec || owner_.error_) {
    // Part of the body may be on the wire: never send the final dot, drop the connection.
    in_body_ = false;
    broken_ = true;
    if (ec) {
      owner_.set_error(ec);
      ledger_.decide_open(
          ec == errc::body_read_failed ? delivery_status::transient : delivery_status::permanent,
          ec, ec.message(), owner_.current_decider());
    }
    ledger_.abandon();
    co_return owner_.error_;
  }
  const std::size_t before = out_.size();
  (void)encoder.finish(out_);
  octets += out_.size() - before - 3;
  if (options_.observer) {
    options_.observer->body_sent(owner_, octets);
    log_.push_back({out_.size() - 3, 3, false});
  }
  pending_.push_back({on_dot, command_kind::dot, state_id, false});
  in_body_ = false;
  dot_queued_ = true;
  dot_end_ = out_.size();
  ledger_.dot_queued();
  co_return std::error_code{};
}

// Appends "BDAT n[ LAST]" and the first n octets of chunk_ to out_, its reply held until the
// write that carries it is complete. The last chunk's reply is kept as the end of the data,
// like the final ".".
SMTPIPE_DECL void io_engine::queue_chunk(std::size_t n, bool last, reply_handler handler,
                                         int state_id) {
  const std::size_t mark = out_.size();
  (void)format_bdat(out_, n, last);
  if (options_.observer) log_.push_back({mark, out_.size() - mark, false});
  out_.append(chunk_.data(), n);
  chunk_.erase(0, n);
  if (hold_from_ == static_cast<std::size_t>(-1)) hold_from_ = pending_.size();
  pending_.push_back({handler, last ? command_kind::dot : command_kind::bdat, state_id, false});
}

SMTPIPE_DECL asio::awaitable<std::error_code> io_engine::send_bdat(const body_source& body,
                                                                   bool binary,
                                                                   reply_handler on_chunk,
                                                                   reply_handler on_last,
                                                                   int state_id) {
  constexpr std::size_t block = 64 * 1024;
  const std::size_t chunk_size = std::max<std::size_t>(options_.bdat_chunk_size, 1);
  body_encoder encoder({false, options_.long_lines, 998});
  std::error_code ec = body.open(body_);
  chunk_refused_ = false;
  chunk_.clear();
  while (!ec && !owner_.error_ && !broken_ && !chunk_refused_) {
    std::string_view piece;
    if ((ec = body_.next(piece, block)) || piece.empty()) break;
    if (binary) chunk_.append(piece);
    else if ((ec = encoder.encode(piece, chunk_))) break;
    while (chunk_.size() >= chunk_size && !owner_.error_ && !broken_ && !chunk_refused_) {
      queue_chunk(chunk_size, false, on_chunk, state_id);
      co_await write_out(options_.timeouts.data_block);
      // Without PIPELINING each chunk's reply comes before the next chunk (RFC 3030 §4.2).
      if (!owner_.pipelining())
        while (!broken_ && head_ < pending_.size()) co_await wait_for_reader();
    }
  }
  body_ = body_reader{};
  if (ec || owner_.error_ || broken_) {
    // Chunks may be on the wire and the server waits for the rest: drop the connection.
    broken_ = true;
    if (ec) {
      owner_.set_error(ec);
      ledger_.decide_open(
          ec == errc::body_read_failed ? delivery_status::transient : delivery_status::permanent,
          ec, ec.message(), owner_.current_decider());
    }
    ledger_.abandon();
    chunk_.clear();
    co_return owner_.error_ ? owner_.error_ : make_error_code(errc::connection_closed);
  }
  if (chunk_refused_) {  // the recipients are decided; the caller resets the transaction
    chunk_.clear();
    co_return std::error_code{};
  }
  if (!binary) (void)encoder.finish(chunk_);
  queue_chunk(chunk_.size(), true, on_last, state_id);
  if (chunk_.capacity() > 256 * 1024) chunk_.shrink_to_fit();
  // No body_sent for BDAT: the observer sees every chunk's size in its "BDAT n" line.
  dot_queued_ = true;
  dot_end_ = out_.size();
  ledger_.dot_queued();
  co_return std::error_code{};
}

// ---- writing --------------------------------------------------------------------------------

SMTPIPE_DECL asio::awaitable<void> io_engine::write_out(
    std::chrono::milliseconds progress_timeout) {
  // Part of a reply that arrived while no written command waited for one is premature: the
  // commands written now must not take its end as their reply.
  if (parser_.in_progress() && !reply_due() && !in_body_) {
    fail(errc::unsolicited_reply, "reply started before its command was sent");
    wake();
    co_return;
  }
  owner_.stamp_entry();
  // From here on the server may answer every queued command, but a BDAT chunk (and what
  // follows it) only once all of its octets are written: a reply before that is early.
  const std::size_t held = std::min(hold_from_, pending_.size());
  hold_from_ = static_cast<std::size_t>(-1);
  const bool holding = held < pending_.size();
  const bool front_was_unsent = head_ < held && !pending_[head_].sent;
  for (std::size_t i = head_; i < held; ++i) pending_[i].sent = true;
  if (front_was_unsent) arm_read_deadline();
  if (holding) in_body_ = true;
  const bool dot_in_write = dot_queued_;
  if (dot_queued_) {
    dot_queued_ = false;
    ledger_.dot_written(true);
  }
  if (options_.observer) {
    for (const auto& c : log_) {
      const std::string_view line(out_.data() + c.offset, c.length - 2);
      if (c.redact) options_.observer->command_sent(owner_, redacted(line));
      else options_.observer->command_sent(owner_, line);
    }
    log_.clear();
  }
  write_deadline_ = clock::now() + progress_timeout;
  auto [ec, n] = co_await io_.write(asio::buffer(out_));
  write_deadline_ = clock::time_point::max();
  if (holding) {
    in_body_ = false;
    if (!ec && !broken_) {
      const bool front_held = head_ >= held && head_ < pending_.size() && !pending_[head_].sent;
      for (std::size_t i = std::max(head_, held); i < pending_.size(); ++i) pending_[i].sent = true;
      if (front_held) arm_read_deadline();
    }
  }
  if (ec) {
    // The server cannot have seen a final dot that was not written.
    if (dot_in_write && n < dot_end_) ledger_.dot_written(false);
    fail(ec);
    wake();
  }
  out_.clear();
  if (out_.capacity() > 256 * 1024) out_.shrink_to_fit();
}

// ---- waiting --------------------------------------------------------------------------------

SMTPIPE_DECL void io_engine::wake() noexcept {
  if (!waiter_) return;
  auto w = std::move(*waiter_);
  waiter_.reset();
  asio::post(std::move(w));
}

SMTPIPE_DECL void io_engine::resume_states() {
  if (!waiter_) return;
  auto w = std::move(*waiter_);
  waiter_.reset();
  asio::dispatch(std::move(w));
}

SMTPIPE_DECL asio::awaitable<void> io_engine::wait_for_wake() {
  struct on_cancel {
    io_engine* e;
    void operator()(asio::cancellation_type) const { e->wake(); }
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [this](waiter w) {
        auto slot = asio::get_associated_cancellation_slot(w);
        if (slot.is_connected()) slot.template emplace<on_cancel>(on_cancel{this});
        waiter_.emplace(std::move(w));
      },
      asio::use_awaitable);
}

SMTPIPE_DECL asio::awaitable<void> io_engine::wait_for_reader() {
  owner_.stamp_entry();
  co_await wait_for_wake();
  if (!broken_ && head_ < pending_.size()) {
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) fail(asio::error::operation_aborted);
  }
}

// ---- reading --------------------------------------------------------------------------------

SMTPIPE_DECL bool io_engine::on_reply(const reply& r) {
  if (options_.observer) options_.observer->reply_received(owner_, r);
  if (!reply_due()) {
    if (in_body_) {
      // A reply to message data not yet ended: a refusal decides the recipients; a 2yz is
      // no success, only a protocol error. Early to BDAT LAST, which may share its write with
      // the next message's MAIL and RCPTs: those stay undecided (transient), the last
      // chunk's recipients unknown.
      const bool last_chunk = head_ < pending_.size() && pending_[head_].kind == command_kind::dot;
      if (!r.positive() && !last_chunk)
        ledger_.decide_open(r, errc::early_reply, owner_.current_decider());
      fail(errc::early_reply, r.sanitized_text());
    } else {
      fail(r.code == 421 ? errc::service_not_available : errc::unsolicited_reply,
           r.sanitized_text());
    }
    io_.cancel();
    wake();
    return false;
  }
  const pending_reply p = pending_[head_++];
  // RFC 5321 §3.8: 421 may answer any command and means that the server closes the channel
  // (a 421 to QUIT is just QUIT's reply).
  const bool closes = r.code == 421 && p.kind != command_kind::quit;
  if (closes) {
    closing_ = true;
    closing_reply_ = r;
  }
  if (p.handler.fn) {
    owner_.decider_ = p.state_id;
    p.handler.fn(owner_, r, p.handler.context, p.handler.index);
    owner_.decider_ = -1;
  }
  // From a 354 on, the server takes message data: any reply before the final "." is early,
  // even one that arrives before the first octet of the body is written.
  if (p.kind == command_kind::data && r.code == 354) in_body_ = true;
  // RFC 3207 §4: after 220 the next bytes belong to the TLS handshake; read no more plaintext.
  if (p.kind == command_kind::starttls && r.code == 220) reader_paused_ = true;
  if (closes) {
    // No later reply will come: the commands after this one are not waited for.
    fail(errc::service_not_available, r.sanitized_text());
    read_deadline_ = clock::time_point::max();
    wake();
    return false;
  }
  if (head_ == pending_.size()) {
    pending_.clear();
    head_ = 0;
    read_deadline_ = clock::time_point::max();
    resume_due_ = true;  // once every byte read so far is parsed (reader)
  } else {
    arm_read_deadline();
  }
  return true;
}

SMTPIPE_DECL asio::awaitable<void> io_engine::reader() {
  reader_guard guard{*this};
  for (;;) {
    while (in_begin_ < in_end_) {
      const auto res = parser_.parse({in_.data() + in_begin_, in_end_ - in_begin_});
      in_begin_ += res.consumed;
      if (res.st == reply_parser::status::need_more) break;
      if (res.st == reply_parser::status::error) {
        fail(res.ec);
        io_.cancel();
        wake();
        co_return;
      }
      if (!on_reply(parser_.get())) co_return;
      if (reader_paused_) break;
    }
    if (resume_due_) {
      resume_due_ = false;
      // Every byte read is parsed: bytes after the group's last reply would have been
      // unsolicited, so the next group may go out now, before the next read.
      if (stopped_ || broken_ || reader_paused_) {
        wake();
      } else {
        resume_states();
        continue;
      }
    }
    // After a failure that left the conversation in step, QUIT's reply is still read.
    if (stopped_ || broken_) co_return;
    if (reader_paused_) {
      const bool resumed = co_await park_reader();
      if (!resumed) co_return;
      continue;
    }
    in_begin_ = in_end_ = 0;
    if (in_.empty()) in_.resize(512);
    auto [ec, n] = co_await io_.read_some(asio::buffer(in_));
    if (ec) {
      // Closed by stop(), or cancelled by the session itself once it gave up the connection
      // (the error that made it give up, if any, is already recorded).
      if (stopped_ || (broken_ && ec == asio::error::operation_aborted)) co_return;
      broken_ = true;
      // After QUIT a close is the expected end, whether or not QUIT was answered.
      const bool only_quit_due =
          head_ >= pending_.size() ||
          (head_ + 1 == pending_.size() && pending_[head_].kind == command_kind::quit);
      if (ec == asio::error::eof && quit_sent_ && only_quit_due && !parser_.in_progress()) {
        pending_.clear();
        head_ = 0;
      } else if (ec == asio::error::eof) {
        owner_.set_error(closing_ ? make_error_code(errc::service_not_available)
                                  : make_error_code(errc::connection_closed),
                         closing_ ? closing_reply_.sanitized_text() : std::string{});
      } else {
        owner_.set_error(ec);
      }
      wake();
      co_return;
    }
    in_end_ = n;
    if (n == in_.size() && n < 8192) in_.resize(2 * n);
  }
}

// If the reader's frame is destroyed unfinished (its io_context shuts down), nothing will resume
// the states: their waiter is destroyed with it, as Asio destroys pending handlers.
SMTPIPE_DECL io_engine::reader_guard::~reader_guard() {
  if (!e.stopped_ && !e.broken_ && std::uncaught_exceptions() == 0) e.drop_waiter();
}

// ---- deadlines ------------------------------------------------------------------------------

// The watchdog is a timer callback, not a coroutine: an idle session pays one timer wait.
SMTPIPE_DECL void io_engine::watch() {
  if (stopped_) return helper_ended();
  const auto now = clock::now();
  const auto due = std::min({read_deadline_, write_deadline_, session_deadline_});
  if (due > now) {
    timer_.expires_at(std::min(due, now + tick_));
    timer_.async_wait([this](std::error_code) {
      try {
        watch();
      } catch (...) {  // an observer threw: the session ends, the watchdog with it
        fail(make_error_code(errc::state_failed));
        stop();
        helper_ended();
      }
    });
    return;
  }
  broken_ = true;
  io_.cancel();
  if (head_ + 1 == pending_.size() && pending_[head_].kind == command_kind::quit &&
      due != session_deadline_) {
    // A late reply to QUIT is only worth a note: everything else is settled.
    if (options_.observer) options_.observer->note(owner_, "no reply to QUIT");
    pending_.clear();
    head_ = 0;
  } else if (!owner_.error_) {
    // Name the stage of what is late: the reply due, or the body being written.
    const int late_stage = in_body_                  ? int(stage::sending_body)
                           : head_ < pending_.size() ? int(waiting_stage(pending_[head_].kind))
                                                     : owner_.stage_code();
    owner_.set_error(due == session_deadline_ ? errc::session_deadline : errc::timeout);
    ledger_.result().error_stage = late_stage;
  }
  wake();
  helper_ended();
}

// ---- the life of the session ----------------------------------------------------------

SMTPIPE_DECL void io_engine::start(reply_handler on_greeting, int banner_id) {
  reader_paused_ = options_.tls == tls_mode::implicit;
  if (options_.timeouts.session.count() > 0)
    session_deadline_ = clock::now() + options_.timeouts.session;
  // The server speaks first: its greeting is the first reply due, before any state runs.
  pending_.push_back({on_greeting, command_kind::greeting, banner_id, true});
  arm_read_deadline();
}

SMTPIPE_DECL void io_engine::stop() noexcept {
  stopped_ = true;
  io_.close();
  timer_.cancel();
  wake();
  park_.cancel();
}

// ---- TLS ------------------------------------------------------------------------------------

// The reader waits here while TLS is negotiated. Bytes already buffered behind the STARTTLS
// 220 (a whole injected reply or part of a line) are plaintext an attacker could have sent:
// they are never read as a reply after TLS; the session fails instead (start_tls).
SMTPIPE_DECL asio::awaitable<bool> io_engine::park_reader() {
  using asio::experimental::as_tuple;
  if (in_begin_ < in_end_ || parser_.in_progress()) plaintext_after_starttls_ = true;
  while (reader_paused_ && !stopped_ && !broken_) {
    park_.expires_at(clock::time_point::max());
    co_await park_.async_wait(as_tuple(asio::use_awaitable));
  }
  in_begin_ = in_end_ = 0;
  parser_.reset();
  co_return !stopped_ && !broken_;
}

SMTPIPE_DECL asio::awaitable<std::error_code> io_engine::start_tls(tls_provider& provider,
                                                                   std::string_view server_name) {
  owner_.stamp_entry();
  if (plaintext_after_starttls_) {
    if (options_.observer)
      options_.observer->note(owner_,
                              "plaintext bytes followed the STARTTLS 220: not reading them");
    fail(errc::tls_plaintext_injection);
    wake();
    co_return owner_.error_;
  }
  write_deadline_ = clock::now() + options_.timeouts.starttls;
  const std::error_code ec = co_await io_.start_tls(provider, server_name);
  write_deadline_ = clock::time_point::max();
  ledger_.result().tls = io_.tls();
  if (ec) {
    fail(owner_.error_ ? owner_.error_ : ec, ledger_.result().tls.verify_result);
    wake();
    co_return owner_.error_;
  }
  reader_paused_ = false;
  park_.cancel();
  co_return std::error_code{};
}

}  // namespace detail

SMTPIPE_DECL asio::awaitable<std::error_code> session::start_tls() {
  if (!options_.tls_provider) co_return make_error_code(errc::tls_not_available);
  if (auto ec = co_await engine_.start_tls(*options_.tls_provider, server_name_)) co_return ec;
  // RFC 3207 §4.2: forget what the plaintext EHLO said.
  caps_.clear();
  esmtp_ = false;
  pipelining_ = false;
  ledger_.result().pipelining = false;
  co_return std::error_code{};
}

SMTPIPE_DECL session::session(transport& io, const session_options& options,
                              std::span<const message> messages)
    : options_(options),
      ledger_(messages, options),
      engine_(*this, io, options, ledger_),
      server_name_(options.tls_server_name) {}

SMTPIPE_DECL session::~session() = default;

SMTPIPE_DECL transition session::fail_session(std::error_code ec, std::string_view detail) {
  if (engine_.closing()) return fail_session(engine_.closing_reply(), errc::service_not_available);
  set_error(ec, detail);
  return transition::fail_session();
}

}  // namespace smtpipe

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_SESSION_IMPL_SESSION_HPP
