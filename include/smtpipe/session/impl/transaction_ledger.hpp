// smtpipe/session/impl/transaction_ledger.hpp - Bodies of the transaction ledger.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_IMPL_TRANSACTION_LEDGER_HPP
#define SMTPIPE_SESSION_IMPL_TRANSACTION_LEDGER_HPP

#include "smtpipe/session/detail/transaction_ledger.hpp"

namespace smtpipe::detail {

SMTPIPE_DECL transaction_ledger::transaction_ledger(std::span<const message> messages,
                                                    const session_options& options)
    : messages_(messages), options_(options) {
  start_messages();
}

SMTPIPE_DECL void transaction_ledger::reload(std::span<const message> messages) {
  session_result fresh;
  fresh.greeting = std::move(result_.greeting);
  fresh.esmtp = result_.esmtp;
  fresh.pipelining = result_.pipelining;
  fresh.tls = result_.tls;
  fresh.tls_fallback_reason = result_.tls_fallback_reason;
  fresh.authenticated = result_.authenticated;
  result_ = std::move(fresh);
  messages_ = messages;
  phases_.clear();
  args_.reset();
  dot_order_.clear();
  carried_.clear();
  limit_hit_ = false;
  info_.clear();
  tx_ = transaction{};
  dot_tx_ = transaction{};
  mail_reply_ = reply{};
  mail_queued_ = false;
  next_message_ = next_recipient_ = messages_started_ = 0;
  start_messages();
}

SMTPIPE_DECL void transaction_ledger::start_messages() {
  result_.messages.resize(messages_.size());
  phases_.resize(messages_.size());
  for (std::size_t m = 0; m < messages_.size(); ++m) {
    auto& rs = result_.messages[m].recipients;
    rs.resize(messages_[m].recipients.size());
    for (std::size_t i = 0; i < rs.size(); ++i) {
      rs[i].address = messages_[m].recipients[i].address;
      rs[i].error = errc::not_attempted;
    }
    phases_[m].assign(rs.size(), phase::not_sent);
  }
}

SMTPIPE_DECL transaction_ledger::~transaction_ledger() = default;

SMTPIPE_DECL std::error_code transaction_ledger::prepare() {
  info_.resize(messages_.size());
  std::error_code first;
  bool any = messages_.empty();
  for (std::size_t m = 0; m < messages_.size(); ++m) {
    if (auto ec = validate(m)) {
      result_.messages[m].error = ec;
      for (std::size_t i = 0; i < phases_[m].size(); ++i)
        decide(m, i, delivery_status::permanent, nullptr, ec, ec.message(), {});
      if (!first) first = ec;
    } else {
      any = true;
    }
  }
  return any ? std::error_code{} : first;
}

SMTPIPE_DECL std::error_code transaction_ledger::mail_parameters(
    const capabilities& caps, smtpipe::mail_parameters& p) const {
  const message_info& info = info_[tx_.message];
  p = messages_[tx_.message].params;
  if (caps.has("SIZE")) {
    if (!p.size) p.size = info.size;
    const auto limit = caps.size_limit();
    if (limit && *limit > 0 && p.size && *p.size > *limit) return errc::message_too_big;
  } else {
    p.size.reset();
  }
  if (info.utf8) {
    if (!caps.smtputf8()) return errc::extension_not_supported;
    p.smtputf8 = true;
  }
  if (p.body == body_type::eight_bit_mime && !caps.eightbitmime())
    return errc::extension_not_supported;
  // RFC 3030 §3: BINARYMIME only with BDAT, so both extensions and chunking in use.
  if (p.body == body_type::binary_mime &&
      !(options_.chunking && caps.chunking() && caps.has("BINARYMIME")))
    return errc::binarymime_not_supported;
  // RFC 6152: an 8-bit body is labelled; without 8BITMIME it is not sent unless asked for.
  if (p.body == body_type::unspecified && info.eight_bit) {
    if (caps.eightbitmime()) p.body = body_type::eight_bit_mime;
    else if (!options_.eight_bit_as_is) return errc::eight_bit_not_supported;
  }
  // RFC 8689 §4.2.1: REQUIRETLS only to a server that advertises it (after STARTTLS); the
  // session checks that the TLS is authenticated (builtin_steps::queue_mail).
  if (p.requiretls && !caps.has("REQUIRETLS")) return errc::requiretls_not_possible;
  if (!caps.dsn()) {  // DSN parameters are dropped, as Postfix does, when DSN is absent.
    p.ret = dsn_ret::unspecified;
    p.envid.clear();
  }
  for (const auto& e : p.extra)
    if (!caps.has(e.keyword)) return errc::extension_not_supported;
  const client_args& args = mail_args_of(tx_.message);
  for (const auto& a : args)
    if (a.policy == unadvertised_policy::refuse && !caps.has(a.keyword))
      return errc::extension_not_supported;
  append_advertised(p.extra, args, caps);
  return {};
}

SMTPIPE_DECL void transaction_ledger::on_rcpt(const reply& r, std::size_t i, decider who) {
  ++tx_.answered;
  const bool mail_accepted =
      tx_.mail_code != 0 && disposition_of(tx_.mail_code) == disposition::positive;
  if (mail_accepted && (limit_hit_ || tx_.accepted > 0) && recipient_limit(r)) {
    // RFC 5321 §4.5.3.1.10: the server's recipient limit. This recipient and the ones after it
    // go in the next transaction on this connection, not a failure.
    limit_hit_ = true;
    phases_[tx_.message][i] = phase::not_sent;
    next_recipient_ = std::min(next_recipient_, i);
    return;
  }
  if (r.positive() && mail_accepted) {
    phases_[tx_.message][i] = phase::accepted;
    ++tx_.accepted;
    if (limit_hit_) carried_.emplace_back(i, result_.transactions);
    auto& rr = result_.messages[tx_.message].recipients[i];
    rr.code = r.code;
    rr.enhanced = r.enhanced;
    rr.text = r.sanitized_text();
  } else if (!mail_accepted) {
    // MAIL was refused, so no transaction exists: the MAIL reply decides, whatever RCPT
    // got (a 503 "need MAIL first" says nothing about the recipient).
    decide(tx_.message, i, failure_of(mail_reply_), &mail_reply_, {}, {}, who);
  } else {
    decide(tx_.message, i, failure_of(r), &r, {}, {}, who);
  }
}

SMTPIPE_DECL void transaction_ledger::finalize(std::error_code error, const reply* session_reply,
                                               decider last) {
  const std::string& error_state = result_.error_state;
  for (std::size_t m = 0; m < phases_.size(); ++m) {
    for (std::size_t i = 0; i < phases_[m].size(); ++i) {
      auto& rr = result_.messages[m].recipients[i];
      switch (phases_[m][i]) {
        case phase::decided: break;
        case phase::not_sent:
          if (session_reply) {
            decide(m, i, failure_of(*session_reply), session_reply, error, {}, last);
            rr.state = error_state;
          } else {
            rr.status = delivery_status::transient;
            rr.error = errc::not_attempted;
            rr.text = error ? "not attempted: " + error.message() : rr.error.message();
          }
          break;
        case phase::queued:
        case phase::accepted:
          decide(m, i, delivery_status::transient, nullptr,
                 error ? error : make_error_code(errc::connection_closed),
                 error ? error.message() : "session ended before the final reply", last);
          rr.state = error_state;
          break;
        case phase::dot_sent:
          decide(m, i, delivery_status::unknown, nullptr,
                 error ? error : make_error_code(errc::connection_closed),
                 "no reply to the final \".\": the message may have been delivered",
                 {state_id::data, "data"});
          break;
      }
    }
  }
  classify(error);
}

SMTPIPE_DECL void transaction_ledger::classify(std::error_code session_error) {
  const bounce_classifier& classifier =
      options_.bounce_classifier ? *options_.bounce_classifier : bounce_classifier::builtin();
  for (auto& m : result_.messages)
    for (auto& rr : m.recipients) classify_recipient(rr, classifier, session_error);
}

SMTPIPE_DECL void transaction_ledger::decide(std::size_t m, std::size_t i, delivery_status status,
                                             const reply* r, std::error_code ec,
                                             std::string_view text, decider who) {
  auto& rr = result_.messages[m].recipients[i];
  rr.status = status;
  rr.code = r ? r->code : 0;
  rr.enhanced = r ? r->enhanced : enhanced_status{};
  rr.text = r ? r->sanitized_text() : std::string(text);
  rr.error = ec;
  // Refused for its content before any byte was sent: 5.6.3 "conversion required but not
  // supported" (RFC 3463), as Momentum and KumoMTA report it.
  if (!r && (ec == errc::eight_bit_not_supported || ec == errc::binarymime_not_supported))
    rr.enhanced = enhanced_status{5, 6, 3};
  // RFC 8689 §5: "REQUIRETLS support required".
  if (!r && ec == errc::requiretls_not_possible) rr.enhanced = enhanced_status{5, 7, 30};
  rr.state_id = who.id;
  rr.state =
      who.id >= 0 && std::size_t(who.id) < names_.size() ? names_[std::size_t(who.id)] : who.name;
  phases_[m][i] = phase::decided;
}

SMTPIPE_DECL std::error_code transaction_ledger::validate(std::size_t m) {
  const message& msg = messages_[m];
  if (msg.recipients.empty()) return errc::invalid_argument;
  bool utf8 = msg.params.smtputf8 || needs_smtputf8(msg.sender);
  for (const auto& r : msg.recipients) utf8 = utf8 || needs_smtputf8(r.address);
  // Formatting into a scratch buffer runs every check on the final bytes.
  std::string scratch;
  smtpipe::mail_parameters p = msg.params;
  p.smtputf8 = utf8;
  if (auto ec = format_mail_from(scratch, msg.sender, p)) return ec;
  for (const auto& r : msg.recipients)
    if (auto ec = format_rcpt_to(scratch, r.address, r.params, utf8)) return ec;
  if (p.body == body_type::binary_mime) {
    // Sent as is with BDAT (RFC 3030 §3): no canonicalisation, only the size to count.
    body_reader reader;
    if (auto ec = msg.body.open(reader)) return ec;
    std::uint64_t size = 0;
    for (;;) {
      std::string_view chunk;
      if (auto ec = reader.next(chunk, body_reader::file_chunk)) return ec;
      if (chunk.empty()) break;
      size += chunk.size();
    }
    info_[m] = {size, utf8, true};
    return {};
  }

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
  info_[m] = {scanner.bytes_out() - 3, utf8, scanner.has_8bit()};
  return {};
}

}  // namespace smtpipe::detail

#endif  // !SMTPIPE_SESSION_IMPL_TRANSACTION_LEDGER_HPP
