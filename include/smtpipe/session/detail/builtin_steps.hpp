// smtpipe/session/detail/builtin_steps.hpp - The session operations only built-in states use.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_DETAIL_BUILTIN_STEPS_HPP
#define SMTPIPE_SESSION_DETAIL_BUILTIN_STEPS_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/protocol/command.hpp"
#include "smtpipe/session/session.hpp"

#include <asio/awaitable.hpp>

#include <cstddef>
#include <string>
#include <system_error>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::detail {

/// The steps of the built-in states that change what a custom state only reads: the
/// capabilities, the transactions, the body, authentication. Not part of the state-author
/// API: a custom state that needs one of these is a built-in state in disguise.
struct builtin_steps {
  // ---- EHLO, STARTTLS, AUTH, QUIT -----------------------------------------------------------

  /// Records the capabilities of a successful EHLO/LHLO and whether to pipeline.
  static void set_capabilities(session& s, const reply& ehlo_reply) {
    s.caps_ = capabilities::parse(ehlo_reply);
    s.esmtp_ = true;
    s.pipelining_ = s.options_.pipelining && s.caps_.pipelining();
    s.ledger_.result().esmtp = true;
    s.ledger_.result().pipelining = s.pipelining_;
  }
  /// Forgets what EHLO taught (before EHLO, and so after HELO).
  static void reset_capabilities(session& s) noexcept {
    s.caps_.clear();
    s.esmtp_ = false;
    s.pipelining_ = false;
    s.ledger_.result().pipelining = false;
  }
  /// Opportunistic TLS failed here: a fresh plaintext connection may follow.
  static void set_tls_fallback(session& s, std::error_code why) noexcept {
    s.ledger_.result().tls_fallback_reason = why;
  }
  static void set_authenticated(session& s) noexcept { s.ledger_.result().authenticated = true; }
  /// The connection can still carry a polite QUIT: no I/O, protocol or timeout error, no 421.
  static bool can_quit(const session& s) noexcept { return s.can_quit(); }

  // ---- transactions -----------------------------------------------------------------------

  /// Starts the next transaction; false if none is left.
  static bool begin_transaction(session& s) noexcept { return s.usable() && s.ledger_.begin(); }
  /// Queues MAIL FROM for the current transaction with the parameters the server supports;
  /// a parameter the server cannot take is an error and nothing is queued.
  static std::error_code queue_mail(session& s) {
    mail_parameters p;
    const message& msg = s.ledger_.messages()[s.ledger_.current().message];
    if (msg.params.requiretls) {
      // RFC 8689 §4.2.1: TLS whose server certificate was authenticated (DANE or PKIX).
      const tls_status& tls = s.io().tls();
      if (!tls.active || !tls.verified || tls.authentication == "none")
        return errc::requiretls_not_possible;
    }
    if (auto ec = s.ledger_.mail_parameters(s.caps_, p)) return ec;
    auto ec = s.queue(command_kind::mail, {&on_mail, nullptr, 0}, format_mail_from, msg.sender, p);
    if (!ec) s.ledger_.mail_queued();
    return ec;
  }
  /// The reply to MAIL when it was not positive.
  static const reply& mail_reply(const session& s) noexcept { return s.ledger_.mail_reply(); }
  static std::error_code check_rcpt_parameters(const session& s) {
    return s.ledger_.check_rcpt_parameters(s.caps_);
  }
  /// Queues RCPT TO for recipient `i` of the current message.
  static std::error_code queue_rcpt(session& s, std::size_t i) {
    auto ec = s.queue(command_kind::rcpt, {&on_rcpt, nullptr, i},
                      [&](std::string& out) { return s.ledger_.format_rcpt(out, i, s.caps_); });
    if (!ec) s.ledger_.rcpt_queued(i);
    return ec;
  }
  /// Whether recipient `i` of the current transaction needs its RCPT: false for one an
  /// earlier transaction carried past the server's recipient limit.
  static bool rcpt_due(const session& s, std::size_t i) noexcept { return s.ledger_.rcpt_due(i); }
  /// Streams the body of the current transaction (after a 354), dot-stuffed, then queues the
  /// final "." whose reply (under LMTP: replies) decides its recipients.
  static asio::awaitable<std::error_code> send_body(session& s) {
    const message& msg = s.ledger_.messages()[s.ledger_.current().message];
    if (auto ec = co_await s.engine_.send_body(msg.body, end_of_data_handler(), s.state_id_))
      co_return ec;
    co_return queue_end_of_data_replies(s);
  }
  /// The handler of the (first) reply to the end of data: the final "." or `BDAT n LAST`.
  static reply_handler end_of_data_handler() noexcept { return {&on_dot, nullptr, 0}; }
  /// After the end of data was queued with `end_of_data_handler()` (the "." or BDAT LAST):
  /// under LMTP, one more reply is due per further accepted recipient (RFC 2033 §4.2), each
  /// deciding its own recipient in RCPT order. Queues nothing for SMTP.
  static std::error_code queue_end_of_data_replies(session& s) {
    const std::size_t n = s.ledger_.dot_replies_due();
    for (std::size_t k = 1; k < n; ++k)
      s.engine_.append_reply_only(command_kind::dot, {&on_dot, nullptr, k}, s.state_id_);
    return {};
  }
  /// True if the current message goes with BDAT (RFC 3030): the server advertises CHUNKING
  /// and the session options allow it.
  static bool uses_bdat(const session& s) noexcept {
    return s.options_.chunking && s.caps_.chunking();
  }
  /// Sends the body of the current transaction with BDAT chunks; the last one is queued and
  /// its reply (under LMTP: its replies, one per accepted recipient) decides the recipients
  /// through the same handler as DATA's final ".".
  static asio::awaitable<std::error_code> send_bdat(session& s) {
    const message& msg = s.ledger_.messages()[s.ledger_.current().message];
    const bool binary = msg.params.body == body_type::binary_mime;
    if (auto ec = co_await s.engine_.send_bdat(msg.body, binary, {&on_chunk, nullptr, 0},
                                               end_of_data_handler(), s.state_id_))
      co_return ec;
    if (s.engine_.bdat_refused()) co_return std::error_code{};  // no BDAT LAST was queued
    co_return queue_end_of_data_replies(s);
  }
  /// A BDAT chunk before the last was refused: its reply decided the recipients.
  static bool bdat_refused(const session& s) noexcept { return s.engine_.bdat_refused(); }
  /// Queues a lone "." (DATA got 354 but no recipient was accepted, RFC 2920 §3.1). Under LMTP
  /// it gets no reply: there is no accepted recipient to report on.
  static std::error_code queue_empty_dot(session& s) {
    return s.engine_.append_empty_dot(s.state_id_, !s.options_.lmtp);
  }
  /// MAIL was queued for a transaction that ended without its final "." (RFC 5321
  /// §4.1.1.5: RSET before the next one).
  static bool transaction_needs_reset(const session& s) noexcept { return s.ledger_.needs_reset(); }
  static std::error_code queue_rset(session& s) {
    s.ledger_.reset_queued();
    return s.queue(command_kind::rset, {&on_rset, nullptr, 0}, format_rset);
  }

 private:
  static transaction_ledger::decider decider(const session& s) noexcept { return {s.decider_, {}}; }
  static void on_mail(session& s, const reply& r, void*, std::size_t) { s.ledger_.on_mail(r); }
  static void on_rcpt(session& s, const reply& r, void*, std::size_t i) {
    s.ledger_.on_rcpt(r, i, decider(s));
  }
  static void on_dot(session& s, const reply& r, void*, std::size_t k) {
    s.ledger_.on_dot(r, k, decider(s));
  }
  // RFC 3030 §4.2: a failure reply to any chunk ends the transaction; that reply decides
  // every recipient still open, and no further chunk is sent.
  static void on_chunk(session& s, const reply& r, void*, std::size_t) {
    if (r.positive() || s.engine_.bdat_refused()) return;
    s.ledger_.decide_open(r, {}, decider(s));
    s.engine_.chunk_refused();
  }
  static void on_rset(session& s, const reply& r, void*, std::size_t) {
    if (r.positive()) return;
    // The server's state is unknown (the commands pipelined behind RSET may have opened a
    // transaction, even DATA): drop the connection, never add QUIT behind them.
    s.engine_.set_broken();
    s.set_error(errc::unexpected_reply, r.sanitized_text());
  }
};

}  // namespace smtpipe::detail

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_SESSION_DETAIL_BUILTIN_STEPS_HPP
