// smtpipe/session/detail/transaction_ledger.hpp - Which recipient is where, and its result.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_DETAIL_TRANSACTION_LEDGER_HPP
#define SMTPIPE_SESSION_DETAIL_TRANSACTION_LEDGER_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/pipeline/state_id.hpp"
#include "smtpipe/protocol/address.hpp"
#include "smtpipe/protocol/body_encoder.hpp"
#include "smtpipe/protocol/bounce_classifier.hpp"
#include "smtpipe/protocol/capabilities.hpp"
#include "smtpipe/protocol/command.hpp"
#include "smtpipe/protocol/disposition.hpp"
#include "smtpipe/protocol/reply.hpp"
#include "smtpipe/session/client_args.hpp"
#include "smtpipe/session/message.hpp"
#include "smtpipe/session/result.hpp"
#include "smtpipe/session/session_options.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace smtpipe {

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

namespace detail {

/// The transaction ledger of a session: the messages, how far each recipient got (not sent,
/// queued, accepted, "." sent, decided), the transactions, and the results. No I/O: the
/// session's reply handlers and the built-in states tell it what happened.
class transaction_ledger {
 public:
  /// Who decides a recipient: a state's ID and name.
  struct decider {
    int id = -1;
    std::string_view name;
  };

  transaction_ledger(std::span<const message> messages, const session_options& options);
  ~transaction_ledger();

  /// The connection goes on with other messages (a connection pool): the ledger starts over
  /// with `messages`, keeping what belongs to the connection (the greeting, ESMTP,
  /// PIPELINING, TLS, AUTH in the result) and whether RSET is due before the next MAIL.
  void reload(std::span<const message> messages);

  std::span<const message> messages() const noexcept { return messages_; }
  session_result& result() noexcept { return result_; }
  const session_result& result() const noexcept { return result_; }
  const transaction& current() const noexcept { return tx_; }
  transaction& current() noexcept { return tx_; }
  /// State names by ID (the runner's), for the results.
  void set_names(std::span<const std::string_view> names) noexcept { names_ = names; }

  // ---- validation, before any byte is written ---------------------------------------------

  /// Validates every message: a refused one is decided (permanent) and never started.
  /// Returns the first error when no message is left to send.
  std::error_code prepare();

  // ---- transactions -------------------------------------------------------------------------

  /// Whether another transaction can start: a valid message or recipient batch is left and
  /// `max_messages` is not reached.
  bool has_next() const noexcept { return find_next(nullptr, nullptr); }
  /// Starts the next transaction; false if none is left.
  bool begin() noexcept {
    std::size_t m = 0, first = 0;
    if (!find_next(&m, &first)) return false;
    const std::size_t n = messages_[m].recipients.size();
    const std::size_t batch =
        options_.max_recipients_per_transaction ? options_.max_recipients_per_transaction : n;
    if (m != next_message_ || first == 0) {
      ++messages_started_;
      carried_.clear();
    }
    limit_hit_ = false;
    tx_ = transaction{m, first, std::min(n, first + batch), true, 0, 0, 0};
    mail_queued_ = false;
    next_message_ = m;
    next_recipient_ = tx_.last;
    ++result_.messages[m].transactions;
    ++result_.transactions;
    return true;
  }
  /// Ends the current transaction; RSET is due if its MAIL went out without a final ".".
  void end() noexcept {
    if (tx_.open && mail_queued_) needs_rset_ = true;
    tx_.open = false;
  }
  /// The connection is dropped, not reset.
  void abandon() noexcept {
    end();
    needs_rset_ = false;
  }
  bool needs_reset() const noexcept { return needs_rset_; }
  void reset_queued() noexcept { needs_rset_ = false; }

  /// The MAIL FROM parameters of the current transaction for a server with `caps`; an error
  /// when the server cannot take the message (SIZE over its limit, SMTPUTF8 not advertised...).
  std::error_code mail_parameters(const capabilities& caps, smtpipe::mail_parameters& p) const;
  void mail_queued() noexcept { tx_.open = mail_queued_ = true; }

  /// Checks that the server takes every RCPT parameter of the current transaction.
  std::error_code check_rcpt_parameters(const capabilities& caps) const {
    const message& msg = messages_[tx_.message];
    for (std::size_t i = tx_.first; i < tx_.last; ++i)
      for (const auto& e : msg.recipients[i].params.extra)
        if (!caps.has(e.keyword)) return errc::extension_not_supported;
    for (std::size_t i = tx_.first; i < tx_.last; ++i)
      for (const auto& a : rcpt_args_of(tx_.message, i))
        if (a.policy == unadvertised_policy::refuse && !caps.has(a.keyword))
          return errc::extension_not_supported;
    return {};
  }
  /// RCPT TO of recipient `i` of the current message, DSN parameters dropped without DSN.
  std::error_code format_rcpt(std::string& out, std::size_t i, const capabilities& caps) const {
    const recipient& r = messages_[tx_.message].recipients[i];
    const bool utf8 = info_[tx_.message].utf8;
    const client_args& args = rcpt_args_of(tx_.message, i);
    if (!args.empty()) {
      rcpt_parameters p = r.params;
      if (!caps.dsn()) {
        p.notify = notify_unspecified;
        p.orcpt.clear();
      }
      append_advertised(p.extra, args, caps);
      return format_rcpt_to(out, r.address, p, utf8);
    }
    if (caps.dsn() || (r.params.notify == notify_unspecified && r.params.orcpt.empty()))
      return format_rcpt_to(out, r.address, r.params, utf8);
    return format_rcpt_to(out, r.address, rcpt_parameters{notify_unspecified, {}, r.params.extra},
                          utf8);
  }
  void rcpt_queued(std::size_t i) noexcept { phases_[tx_.message][i] = phase::queued; }
  /// Recipient `i` of the current transaction still needs its RCPT (not one an earlier
  /// transaction carried past a recipient limit).
  bool rcpt_due(std::size_t i) const noexcept { return phases_[tx_.message][i] == phase::not_sent; }

  // ---- replies -------------------------------------------------------------------------------

  void on_mail(const reply& r) {
    tx_.mail_code = r.code;
    if (!r.positive()) mail_reply_ = r;
  }
  /// The reply to MAIL when it was not positive.
  const reply& mail_reply() const noexcept { return mail_reply_; }
  void on_rcpt(const reply& r, std::size_t i, decider who);

  // ---- argument dictionaries (smtp_client_args) ---------------------------------------------

  /// Message `m`'s MAIL arguments, RCPT arguments of recipient `i`, XCLIENT attributes: the
  /// session's own copies (made on first use), which states and hooks may change.
  client_args& mail_args(std::size_t m) { return own_args().mail[m]; }
  client_args& rcpt_args(std::size_t m, std::size_t i) { return own_args().rcpt[m][i]; }
  client_args& xclient_args(std::size_t m) { return own_args().xclient[m]; }
  const client_args& mail_args_of(std::size_t m) const noexcept {
    return args_ ? args_->mail[m] : messages_[m].args;
  }
  const client_args& rcpt_args_of(std::size_t m, std::size_t i) const noexcept {
    return args_ ? args_->rcpt[m][i] : messages_[m].recipients[i].args;
  }

  // ---- the final "." -------------------------------------------------------------------------

  /// The body of the current transaction is queued with its "."; the transaction is closed.
  void dot_queued() {
    dot_tx_ = tx_;
    tx_.open = false;
    dot_order_.clear();
    for (std::size_t i = dot_tx_.first; i < dot_tx_.last; ++i)
      if (phases_[dot_tx_.message][i] == phase::accepted) dot_order_.push_back(i);
  }
  /// How many replies the end of data gets: one, or under LMTP one per accepted recipient
  /// (RFC 2033 §4.2), in RCPT order.
  std::size_t dot_replies_due() const noexcept {
    return options_.lmtp && !dot_order_.empty() ? dot_order_.size() : 1;
  }
  /// The "." was written (`true`) or the write failed before the server could see it.
  void dot_written(bool written) noexcept {
    const phase from = written ? phase::accepted : phase::dot_sent;
    const phase to = written ? phase::dot_sent : phase::accepted;
    for (std::size_t i = dot_tx_.first; i < dot_tx_.last; ++i)
      if (phases_[dot_tx_.message][i] == from) phases_[dot_tx_.message][i] = to;
  }
  /// Reply `k` to the end of data: it decides every recipient "." was sent for, or under LMTP
  /// only the k-th accepted one.
  void on_dot(const reply& r, std::size_t k, decider who) {
    const transaction& d = dot_tx_;
    if (options_.lmtp) {
      if (k < dot_order_.size() && phases_[d.message][dot_order_[k]] == phase::dot_sent)
        decide(d.message, dot_order_[k], status_of(r), &r, {}, {}, who);
      return;
    }
    for (std::size_t i = d.first; i < d.last; ++i)
      if (phases_[d.message][i] == phase::dot_sent)
        decide(d.message, i, status_of(r), &r, {}, {}, who);
  }

  // ---- decisions -----------------------------------------------------------------------------

  /// Every undecided recipient of the open transaction gets `r`'s failure.
  void decide_open(const reply& r, std::error_code ec, decider who) {
    if (!tx_.open) return;
    for (std::size_t i = tx_.first; i < tx_.last; ++i)
      if (open_undecided(i)) decide(tx_.message, i, failure_of(r), &r, ec, {}, who);
  }
  /// The same for an error that no reply carries.
  void decide_open(delivery_status status, std::error_code ec, std::string_view text, decider who) {
    if (!tx_.open) return;
    for (std::size_t i = tx_.first; i < tx_.last; ++i)
      if (open_undecided(i)) decide(tx_.message, i, status, nullptr, ec, text, who);
  }
  /// Records `ec` as why the current message was refused unsent (the first reason wins).
  void refuse_message(std::error_code ec) noexcept {
    auto& message_error = result_.messages[tx_.message].error;
    if (!message_error) message_error = ec;
  }

  /// Decides every recipient still open when the session ends: never sent (the reply that
  /// ended the session, if any, else not attempted), sent without a final reply (transient),
  /// or "." sent without a reply (unknown: it may have been delivered).
  /// `last`: the state the session ended in, which the recipients left open are charged to
  /// (their `state` is the state of the session's error).
  void finalize(std::error_code error, const reply* session_reply, decider last);
  /// Sets every recipient's bounce class (0 when delivered).
  void classify(std::error_code session_error);

  /// Appends the arguments whose keyword `caps` advertises (the others are refused earlier or
  /// dropped by their policy).
  static void append_advertised(std::vector<esmtp_parameter>& out, const client_args& args,
                                const capabilities& caps) {
    for (const auto& a : args)
      if (caps.has(a.keyword)) out.push_back({a.keyword, a.value.value_or(std::string{})});
  }

  static delivery_status failure_of(const reply& r) noexcept {
    return r.permanent() ? delivery_status::permanent : delivery_status::transient;
  }

 private:
  enum class phase : std::uint8_t { not_sent, queued, accepted, dot_sent, decided };

  struct message_info {
    std::optional<std::uint64_t> size;  // for SIZE=
    bool utf8 = false;                  // needs SMTPUTF8
    bool eight_bit = false;             // an octet >= 0x80 in the body (RFC 6152)
  };

  static delivery_status status_of(const reply& r) noexcept {
    switch (disposition_of(r.code)) {
      case disposition::positive: return delivery_status::delivered;
      case disposition::transient: return delivery_status::transient;
      case disposition::permanent: return delivery_status::permanent;
    }
    return delivery_status::permanent;
  }

  void decide(std::size_t m, std::size_t i, delivery_status status, const reply* r,
              std::error_code ec, std::string_view text, decider who);
  /// Recipient `i` of the open transaction is not decided and not waiting for the reply to an
  /// earlier transaction's "." (a recipient accepted after a recipient limit, RFC 5321
  /// §4.5.3.1.10, stays with that transaction).
  bool open_undecided(std::size_t i) const noexcept {
    const phase p = phases_[tx_.message][i];
    if (limit_hit_ && p == phase::not_sent) return false;  // left for the next transaction
    return p != phase::decided && p != phase::dot_sent && !(p == phase::accepted && carried(i));
  }
  bool carried(std::size_t i) const noexcept {
    for (const auto& c : carried_)
      if (c.first == i && c.second != result_.transactions) return true;
    return false;
  }
  /// 452 or x.5.3 to RCPT: the server's recipient limit, not the recipient's failure.
  // "Too many recipients" (RFC 5321 §4.5.3.1.10): enhanced code 4.5.3 (RFC 3463) on a 4yz,
  // or a bare 452 without an enhanced code. A 452 that says something else (4.2.2 mailbox
  // full, 4.3.1 out of storage) is that recipient's own transient failure.
  static bool recipient_limit(const reply& r) noexcept {
    if (r.enhanced.present())
      return r.code / 100 == 4 && r.enhanced.cls == 4 && r.enhanced.subject == 5 &&
             r.enhanced.detail == 3;
    return r.code == 452;
  }

  bool find_next(std::size_t* message_out, std::size_t* first_out) const noexcept {
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

  std::error_code validate(std::size_t m);

  void start_messages();

  struct args_copy {
    std::vector<client_args> mail, xclient;
    std::vector<std::vector<client_args>> rcpt;
  };
  args_copy& own_args() {
    if (!args_) {
      args_.emplace();
      for (const auto& msg : messages_) {
        args_->mail.push_back(msg.args);
        args_->xclient.push_back(msg.xclient);
        auto& rs = args_->rcpt.emplace_back();
        for (const auto& r : msg.recipients) rs.push_back(r.args);
      }
    }
    return *args_;
  }

  std::span<const message> messages_;
  const session_options& options_;
  session_result result_;
  std::vector<std::vector<phase>> phases_;
  std::optional<args_copy> args_;       // made when a state first asks for an argument dictionary
  std::vector<std::size_t> dot_order_;  // the recipients the end of data was sent for
  // Recipients of the current message accepted after a recipient limit: (index, transaction).
  std::vector<std::pair<std::size_t, std::size_t>> carried_;
  bool limit_hit_ = false;  // the open transaction met the server's recipient limit
  std::vector<message_info> info_;
  std::span<const std::string_view> names_;
  transaction tx_, dot_tx_;
  reply mail_reply_;
  bool mail_queued_ = false;  // MAIL of tx_ queued (a refused parameter queues none)
  bool needs_rset_ = false;
  std::size_t next_message_ = 0, next_recipient_ = 0, messages_started_ = 0;
};

}  // namespace detail
}  // namespace smtpipe

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/session/impl/transaction_ledger.hpp"
#endif

#endif  // !SMTPIPE_SESSION_DETAIL_TRANSACTION_LEDGER_HPP
