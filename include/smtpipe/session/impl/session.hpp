// smtpipe/session/impl/session.hpp - Bodies of session's I/O, validation and result members.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_IMPL_SESSION_HPP
#define SMTPIPE_SESSION_IMPL_SESSION_HPP

#include "smtpipe/protocol/address.hpp"
#include "smtpipe/protocol/bounce_classifier.hpp"
#include "smtpipe/session/session.hpp"

#include <algorithm>

namespace smtpipe {

namespace detail {

inline std::string redacted(std::string_view line) {
  // "AUTH PLAIN <secret>" keeps the mechanism; SASL response lines are secrets entirely.
  if (line.size() > 5 && (line.substr(0, 5) == "AUTH " || line.substr(0, 5) == "auth ")) {
    const std::size_t space = line.find(' ', 5);
    return std::string(line.substr(0, space)) + (space == line.npos ? "" : " <redacted>");
  }
  return "<redacted>";
}

}  // namespace detail

// ---- validation, before any byte is written ----------------------------------------------

inline std::error_code session::validate_message(std::size_t m) {
  const message& msg = messages_[m];
  if (msg.recipients.empty()) return errc::invalid_argument;
  bool utf8 = msg.params.smtputf8 || needs_smtputf8(msg.sender);
  for (const auto& r : msg.recipients) utf8 = utf8 || needs_smtputf8(r.address);
  // Formatting into a scratch buffer runs every check on the final bytes.
  std::string scratch;
  mail_parameters p = msg.params;
  p.smtputf8 = utf8;
  if (auto ec = format_mail_from(scratch, msg.sender, p)) return ec;
  for (const auto& r : msg.recipients)
    if (auto ec = format_rcpt_to(scratch, r.address, r.params, utf8)) return ec;
  if (p.body == body_type::binary_mime) return errc::extension_not_supported;  // needs BDAT

  body_scanner scanner({true, options_.long_lines, 998});
  body_reader reader;
  if (auto ec = msg.body.open(reader)) return ec;
  for (;;) {
    std::string_view chunk;
    if (auto ec = reader.next(chunk, body_reader::file_chunk)) return ec;
    if (chunk.empty()) break;
    if (auto ec = scanner.scan(chunk)) return ec;
  }
  if (auto ec = scanner.finish()) return ec;
  // SIZE= (RFC 1870) counts the message as sent, line ends as CRLF: the canonical size
  // without the ".\r\n" terminator (stuffed dots make it a slight overestimate, never less).
  info_[m] = {scanner.bytes_out() - 3, utf8};
  return {};
}

inline std::error_code session::prepare() {
  if (auto ec = validate_domain(options_.helo_name, false)) return ec;
  if (options_.tls != tls_mode::none && !options_.tls_provider) return errc::tls_not_available;
  if (options_.tls != tls_mode::none && server_name_.empty()) return errc::invalid_domain;
  if (options_.auth) {
    // No SASL identity holds a NUL (RFC 4422 §3.4.1, RFC 4616 §2): refused before connecting,
    // whichever mechanism the server will offer.
    const sasl_credentials& c = options_.auth->credentials;
    const auto has_nul = [](std::string_view s) { return s.find('\0') != s.npos; };
    if (c.user.empty() || has_nul(c.user) || has_nul(c.authzid)) return errc::invalid_argument;
  }
  info_.resize(messages_.size());
  std::error_code first;
  bool any = messages_.empty();
  for (std::size_t m = 0; m < messages_.size(); ++m) {
    if (auto ec = validate_message(m)) {
      result_.messages[m].error = ec;
      for (std::size_t i = 0; i < phases_[m].size(); ++i)
        decide(m, i, delivery_status::permanent, nullptr, ec, ec.message());
      if (!first) first = ec;
    } else {
      any = true;
    }
  }
  return any ? std::error_code{} : first;
}

// ---- commands of a transaction --------------------------------------------------------------

inline std::error_code session::enqueue_mail() {
  const message& msg = messages_[tx_.message];
  const message_info& info = info_[tx_.message];
  mail_parameters p = msg.params;
  if (caps_.has("SIZE")) {
    if (!p.size) p.size = info.size;
    const auto limit = caps_.size_limit();
    if (limit && *limit > 0 && p.size && *p.size > *limit) return errc::message_too_big;
  } else {
    p.size.reset();
  }
  if (info.utf8) {
    if (!caps_.smtputf8()) return errc::extension_not_supported;
    p.smtputf8 = true;
  }
  if (p.body == body_type::eight_bit_mime && !caps_.eightbitmime())
    return errc::extension_not_supported;
  if (p.body == body_type::binary_mime) return errc::extension_not_supported;
  if (!caps_.dsn()) {  // DSN parameters are dropped, as Postfix does, when DSN is absent.
    p.ret = dsn_ret::unspecified;
    p.envid.clear();
  }
  for (const auto& e : p.extra)
    if (!caps_.has(e.keyword)) return errc::extension_not_supported;
  auto ec = enqueue(command_kind::mail,
                    [&](std::string& out) { return format_mail_from(out, msg.sender, p); },
                    {&on_mail, nullptr, 0});
  if (!ec) tx_.open = mail_queued_ = true;
  return ec;
}

inline std::error_code session::check_rcpt_parameters() const {
  const message& msg = messages_[tx_.message];
  for (std::size_t i = tx_.first; i < tx_.last; ++i)
    for (const auto& e : msg.recipients[i].params.extra)
      if (!caps_.has(e.keyword)) return errc::extension_not_supported;
  return {};
}

inline std::error_code session::enqueue_rcpt(std::size_t i) {
  const recipient& r = messages_[tx_.message].recipients[i];
  const bool utf8 = info_[tx_.message].utf8;
  const bool strip_dsn =
      !caps_.dsn() && (r.params.notify != notify_unspecified || !r.params.orcpt.empty());
  auto ec =
      enqueue(command_kind::rcpt,
              [&](std::string& out) {
                if (!strip_dsn) return format_rcpt_to(out, r.address, r.params, utf8);
                return format_rcpt_to(
                    out, r.address, rcpt_parameters{notify_unspecified, {}, r.params.extra}, utf8);
              },
              {&on_rcpt, nullptr, i});
  if (!ec) phases_[tx_.message][i] = phase::queued;
  return ec;
}

inline asio::awaitable<std::error_code> session::send_body() {
  constexpr std::size_t block = 64 * 1024;
  const message& msg = messages_[tx_.message];
  body_encoder encoder({true, options_.long_lines, 998});
  std::error_code ec = msg.body.open(body_);
  std::uint64_t octets = 0;
  in_body_ = true;
  while (!ec && !error_) {
    std::string_view chunk;
    if ((ec = body_.next(chunk, block)) || chunk.empty()) break;
    const std::size_t before = out_.size();
    if ((ec = encoder.encode(chunk, out_))) break;
    octets += out_.size() - before;
    if (out_.size() >= block) co_await write_out(options_.timeouts.data_block);
  }
  body_ = body_reader{};
  if (ec || error_) {
    // Part of the body may be on the wire: never send the final dot, drop the connection.
    in_body_ = false;
    broken_ = true;
    if (ec) {
      set_error(ec);
      decide_open(
          ec == errc::body_read_failed ? delivery_status::transient : delivery_status::permanent,
          ec, ec.message());
    }
    end_transaction();
    needs_rset_ = false;  // the connection is dropped, not reset
    co_return error_;
  }
  const std::size_t before = out_.size();
  (void)encoder.finish(out_);
  octets += out_.size() - before - 3;
  if (options_.observer) {
    options_.observer->body_sent(*this, octets);
    log_.push_back({out_.size() - 3, 3, false});
  }
  pending_.push_back({{&on_dot, nullptr, 0}, command_kind::dot, state_id_, false});
  in_body_ = false;
  dot_queued_ = true;
  dot_end_ = out_.size();
  dot_tx_ = tx_;
  tx_.open = false;
  co_return std::error_code{};
}

// ---- I/O ------------------------------------------------------------------------------------

inline asio::awaitable<void> session::write_out(std::chrono::milliseconds progress_timeout) {
  using asio::experimental::as_tuple;
  // Part of a reply that arrived while no written command waited for one is premature: the
  // commands written now must not take its end as their reply.
  if (parser_.in_progress() && !reply_due() && !in_body_) {
    set_error(errc::unsolicited_reply, "reply started before its command was sent");
    broken_ = true;
    wake();
    co_return;
  }
  stamp_entry();
  // From here on the server may answer every queued command.
  const bool front_was_unsent = head_ < pending_.size() && !pending_[head_].sent;
  for (std::size_t i = head_; i < pending_.size(); ++i) pending_[i].sent = true;
  if (front_was_unsent) arm_read_deadline();
  const bool dot_in_write = dot_queued_;
  if (dot_queued_) {
    dot_queued_ = false;
    dot_pending_ = true;
    for (std::size_t i = dot_tx_.first; i < dot_tx_.last; ++i)
      if (phases_[dot_tx_.message][i] == phase::accepted)
        phases_[dot_tx_.message][i] = phase::dot_sent;
  }
  if (options_.observer) {
    for (const auto& c : log_) {
      const std::string_view line(out_.data() + c.offset, c.length - 2);
      if (c.redact) options_.observer->command_sent(*this, detail::redacted(line));
      else options_.observer->command_sent(*this, line);
    }
    log_.clear();
  }
  write_deadline_ = clock::now() + progress_timeout;
  auto [ec, n] = co_await io_.write(asio::buffer(out_));
  write_deadline_ = clock::time_point::max();
  if (ec) {
    if (dot_in_write && n < dot_end_) {  // the server cannot have seen the final dot
      dot_pending_ = false;
      for (std::size_t i = dot_tx_.first; i < dot_tx_.last; ++i)
        if (phases_[dot_tx_.message][i] == phase::dot_sent)
          phases_[dot_tx_.message][i] = phase::accepted;
    }
    set_error(ec);
    broken_ = true;
    wake();
  }
  out_.clear();
  if (out_.capacity() > 256 * 1024) out_.shrink_to_fit();
}

inline asio::awaitable<void> session::wait_for_wake() {
  struct on_cancel {
    session* s;
    void operator()(asio::cancellation_type) const { s->wake(); }
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [this](waiter w) {
        auto slot = asio::get_associated_cancellation_slot(w);
        if (slot.is_connected()) slot.template emplace<on_cancel>(on_cancel{this});
        waiter_.emplace(std::move(w));
      },
      asio::use_awaitable);
}

inline asio::awaitable<void> session::wait_for_reader() {
  stamp_entry();
  co_await wait_for_wake();
  if (!broken_ && head_ < pending_.size()) {
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) {
      set_error(asio::error::operation_aborted);
      broken_ = true;
    }
  }
}

inline bool session::on_reply(const reply& r) {
  if (options_.observer) options_.observer->reply_received(*this, r);
  if (!reply_due()) {
    if (in_body_) {
      // A reply to message data not yet ended: a refusal decides the recipients; a 2yz is
      // no success, only a protocol error.
      if (!r.positive()) decide_open(r, errc::early_reply);
      set_error(errc::early_reply, r.sanitized_text());
    } else {
      set_error(r.code == 421 ? errc::service_not_available : errc::unsolicited_reply,
                r.sanitized_text());
    }
    broken_ = true;
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
  decider_ = p.state_id;
  if (p.handler.fn) p.handler.fn(*this, r, p.handler.context, p.handler.index);
  decider_ = -1;
  // From a 354 on, the server takes message data: any reply before the final "." is early,
  // even one that arrives before the first octet of the body is written.
  if (p.kind == command_kind::data && r.code == 354) in_body_ = true;
  // RFC 3207 §4: after 220 the next bytes belong to the TLS handshake; read no more plaintext.
  if (p.kind == command_kind::starttls && r.code == 220) reader_paused_ = true;
  if (closes) {
    // No later reply will come: the commands after this one are not waited for.
    set_error(errc::service_not_available, r.sanitized_text());
    broken_ = true;
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

inline asio::awaitable<void> session::reader() {
  using asio::experimental::as_tuple;
  // If this frame is destroyed unfinished (its io_context shuts down), nothing will resume
  // the states: their waiter is destroyed with it, as Asio destroys pending handlers.
  struct drop_unresumed_waiter {
    session& s;
    ~drop_unresumed_waiter() {
      if (!s.stopped_ && !s.broken_ && std::uncaught_exceptions() == 0) s.drop_waiter();
    }
  } guard{*this};
  for (;;) {
    while (in_begin_ < in_end_) {
      const auto res = parser_.parse({in_.data() + in_begin_, in_end_ - in_begin_});
      in_begin_ += res.consumed;
      if (res.st == reply_parser::status::need_more) break;
      if (res.st == reply_parser::status::error) {
        set_error(res.ec);
        broken_ = true;
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
        set_error(closing_ ? make_error_code(errc::service_not_available)
                           : make_error_code(errc::connection_closed),
                  closing_ ? closing_reply_.sanitized_text() : std::string{});
      } else {
        set_error(ec);
      }
      wake();
      co_return;
    }
    in_end_ = n;
    if (n == in_.size() && n < 8192) in_.resize(2 * n);
  }
}

// The watchdog is a timer callback, not a coroutine: an idle session pays one timer wait.
inline void session::watch() {
  if (stopped_) return helper_ended();
  const auto now = clock::now();
  const auto due = std::min({read_deadline_, write_deadline_, session_deadline_});
  if (due > now) {
    timer_.expires_at(std::min(due, now + tick_));
    timer_.async_wait([this](std::error_code) {
      try {
        watch();
      } catch (...) {  // an observer threw: the session ends, the watchdog with it
        set_error(make_error_code(errc::state_failed));
        broken_ = true;
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
    if (options_.observer) options_.observer->note(*this, "no reply to QUIT");
    pending_.clear();
    head_ = 0;
  } else if (!error_) {
    // Name the stage of what is late: the reply due, or the body being written.
    const int late_stage = in_body_                  ? int(stage::sending_body)
                           : head_ < pending_.size() ? int(waiting_stage(pending_[head_].kind))
                                                     : stage_code();
    set_error(due == session_deadline_ ? errc::session_deadline : errc::timeout);
    result_.error_stage = late_stage;
  }
  wake();
  helper_ended();
}

inline void session::start() {
  reader_paused_ = options_.tls == tls_mode::implicit;
  if (options_.timeouts.session.count() > 0)
    session_deadline_ = clock::now() + options_.timeouts.session;
  // The server speaks first: its greeting is the first reply due, before any state runs.
  pending_.push_back({{&on_greeting, nullptr, 0}, command_kind::greeting, state_id::banner, true});
  arm_read_deadline();
}

// ---- TLS ------------------------------------------------------------------------------------

// The reader waits here while TLS is negotiated. Bytes already buffered behind the STARTTLS
// 220 (a whole injected reply or part of a line) are plaintext an attacker could have sent:
// they are never read as a reply after TLS; the session fails instead (start_tls).
inline asio::awaitable<bool> session::park_reader() {
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

inline asio::awaitable<std::error_code> session::start_tls() {
  stamp_entry();
  if (!options_.tls_provider) co_return make_error_code(errc::tls_not_available);
  if (plaintext_after_starttls_) {
    if (options_.observer)
      options_.observer->note(*this, "plaintext bytes followed the STARTTLS 220: not reading them");
    set_error(errc::tls_plaintext_injection);
    broken_ = true;
    wake();
    co_return error_;
  }
  write_deadline_ = clock::now() + options_.timeouts.starttls;
  const std::error_code ec = co_await io_.start_tls(*options_.tls_provider, server_name_);
  write_deadline_ = clock::time_point::max();
  result_.tls = io_.tls();
  if (ec) {
    set_error(error_ ? error_ : ec, result_.tls.verify_result);
    broken_ = true;
    wake();
    co_return error_;
  }
  reset_capabilities();  // RFC 3207 §4.2: forget what the plaintext EHLO said
  reader_paused_ = false;
  park_.cancel();
  co_return std::error_code{};
}

inline void session::stop() noexcept {
  stopped_ = true;
  io_.close();
  timer_.cancel();
  wake();
  park_.cancel();
}

inline void session::finalize() {
  for (std::size_t m = 0; m < phases_.size(); ++m) {
    for (std::size_t i = 0; i < phases_[m].size(); ++i) {
      auto& rr = result_.messages[m].recipients[i];
      switch (phases_[m][i]) {
        case phase::decided: break;
        case phase::not_sent:
          if (has_session_reply_) {
            decide(m, i, failure_of(session_reply_), &session_reply_, error_, {});
            rr.state = result_.error_state;
          } else {
            rr.status = delivery_status::transient;
            rr.error = errc::not_attempted;
            rr.text = error_ ? "not attempted: " + error_.message() : rr.error.message();
          }
          break;
        case phase::queued:
        case phase::accepted:
          decide(m, i, delivery_status::transient, nullptr,
                 error_ ? error_ : make_error_code(errc::connection_closed),
                 error_ ? error_.message() : "session ended before the final reply");
          rr.state = result_.error_state;
          break;
        case phase::dot_sent:
          decide(m, i, delivery_status::unknown, nullptr,
                 error_ ? error_ : make_error_code(errc::connection_closed),
                 "no reply to the final \".\": the message may have been delivered");
          rr.state = "data";
          rr.state_id = state_id::data;
          break;
      }
    }
  }
  classify_results();
}

// Every recipient's bounce class: from the reply that decided it, else from the error (the
// session's error for a recipient never tried), with the recipient's domain for its rules.
inline void session::classify_results() {
  const bounce_classifier& classifier =
      options_.bounce_classifier ? *options_.bounce_classifier : bounce_classifier::builtin();
  for (auto& m : result_.messages) {
    for (auto& rr : m.recipients) {
      rr.bounce_class_name.clear();
      if (rr.status == delivery_status::delivered) {
        rr.bounce_class = 0;
        continue;
      }
      const std::size_t at = rr.address.rfind('@');
      const std::string_view domain = at == std::string::npos
                                          ? std::string_view{}
                                          : std::string_view(rr.address).substr(at + 1);
      std::error_code ec = rr.error;
      if (ec == errc::not_attempted && error_) ec = error_;
      int c = rr.code >= 400 ? classifier.classify(rr.code, rr.enhanced, rr.text, domain)
                             : classifier.classify_error(ec, domain);
      if (c == 0) c = code_of(smtpipe::bounce_class::undetermined);
      rr.bounce_class = c;
      rr.bounce_class_name = std::string(classifier.class_name(c));
    }
  }
}

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_IMPL_SESSION_HPP
