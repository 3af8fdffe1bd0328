// smtpipe/session/result.hpp - What happened to every recipient, message and session.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_RESULT_HPP
#define SMTPIPE_SESSION_RESULT_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/pipeline/stage.hpp"
#include "smtpipe/protocol/bounce_classifier.hpp"
#include "smtpipe/protocol/enhanced_status.hpp"
#include "smtpipe/session/tls_layer.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace smtpipe {

/// The fate of one recipient.
enum class delivery_status {
  delivered,  ///< The server accepted the message for this recipient (2yz after ".").
  transient,  ///< Not delivered; trying again later may succeed (4yz, I/O errors, not tried).
  permanent,  ///< Not delivered; the server refused it for good (5yz) or the input is invalid.
  unknown,    ///< The final "." was sent but no reply came: it may have been delivered.
};

constexpr const char* to_string(delivery_status s) noexcept {
  switch (s) {
    case delivery_status::delivered: return "delivered";
    case delivery_status::transient: return "transient";
    case delivery_status::permanent: return "permanent";
    case delivery_status::unknown: return "unknown";
  }
  return "unknown";
}

/// One recipient's result: the reply (or error) that decided it and the state that did.
struct recipient_result {
  std::string address;
  delivery_status status = delivery_status::transient;
  int code = 0;              ///< Basic reply code; 0 when no reply decided (see `error`).
  enhanced_status enhanced;  ///< RFC 3463 code when the server sent one.
  std::string text;          ///< Reply text (lines joined by '\n'), or the error message.
  std::string state;         ///< Name of the state that decided, e.g. "rcpt" or "data".
  int state_id = -1;         ///< ID of that state; -1 when the message was never started.
  std::error_code error;     ///< Set when an error, not a reply, decided (timeout, I/O...).
  std::string host;          ///< The host that decided (an MX host when routed); may be empty.
  std::string host_address;  ///< That host's IP address; empty when no connection decided.
  /// How that connection's server was authenticated when it used TLS (routed delivery):
  /// "dane-ee", "dane-ta", "pkix" or "none" (`tls_status::authentication`); empty without TLS.
  std::string tls_auth;
  /// Momentum's bounce class of the failure (protocol/bounce_class.hpp), or a registered custom
  /// class; 0 when delivered. Set with `session_options::bounce_classifier`.
  int bounce_class = 0;
  std::string bounce_class_name;  ///< Its name, e.g. "Invalid Recipient"; "" when delivered.
};

/// One message's result: a result per recipient, in the order of `message::recipients`.
struct message_result {
  std::vector<recipient_result> recipients;
  std::error_code error;  ///< Why the message was refused unsent (validation, SIZE, SMTPUTF8...).
  std::size_t transactions = 0;  ///< MAIL transactions used (recipients are split by limit).

  bool all_delivered() const noexcept {
    return std::all_of(recipients.begin(), recipients.end(),
                       [](const auto& r) { return r.status == delivery_status::delivered; });
  }
  std::size_t count(delivery_status s) const noexcept {
    return static_cast<std::size_t>(std::count_if(recipients.begin(), recipients.end(),
                                                  [s](const auto& r) { return r.status == s; }));
  }
};

/// A whole session's result. `error` says why the session ended early, if it did; the
/// per-recipient results are complete either way.
struct session_result {
  std::error_code error;
  std::string error_state;  ///< Name of the state running when `error` happened.
  int error_stage = static_cast<int>(stage::unknown);  ///< Its stage code at that moment.
  std::string error_text;  ///< Sanitised server text or detail that goes with `error`.
  std::vector<message_result> messages;
  std::string greeting;     ///< The server's banner text (sanitised).
  bool esmtp = false;       ///< EHLO succeeded.
  bool pipelining = false;  ///< PIPELINING was advertised and used.
  tls_status tls;           ///< Whether TLS was used, and how; never more than happened.
  /// Set when opportunistic TLS failed and the messages went over a fresh plaintext
  /// connection: why TLS failed.
  std::error_code tls_fallback_reason;
  bool authenticated = false;  ///< AUTH succeeded.
  std::size_t transactions = 0;

  bool all_delivered() const noexcept {
    return std::all_of(messages.begin(), messages.end(),
                       [](const auto& m) { return m.all_delivered(); });
  }
  std::size_t count(delivery_status s) const noexcept {
    std::size_t n = 0;
    for (const auto& m : messages) n += m.count(s);
    return n;
  }
};

/// Sets `rr`'s bounce class (0 when delivered): from the reply that decided it, else from its
/// error (`session_error` for a recipient never tried), with the recipient's domain for the
/// classifier's per-domain rules.
inline void classify_recipient(recipient_result& rr, const bounce_classifier& classifier,
                               std::error_code session_error = {}) {
  rr.bounce_class_name.clear();
  if (rr.status == delivery_status::delivered) {
    rr.bounce_class = 0;
    return;
  }
  const std::size_t at = rr.address.rfind('@');
  const std::string_view domain =
      at == std::string::npos ? std::string_view{} : std::string_view(rr.address).substr(at + 1);
  std::error_code ec = rr.error;
  if (ec == errc::not_attempted && session_error) ec = session_error;
  int c = rr.code >= 400 ? classifier.classify(rr.code, rr.enhanced, rr.text, domain)
                         : classifier.classify_error(ec, domain);
  if (c == 0) c = code_of(bounce_class::undetermined);
  rr.bounce_class = c;
  rr.bounce_class_name = std::string(classifier.class_name(c));
}

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_RESULT_HPP
