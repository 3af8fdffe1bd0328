// smtpipe/error.hpp - smtpipe's error codes and their std::error_category.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ERROR_HPP
#define SMTPIPE_ERROR_HPP

#include "smtpipe/config.hpp"

#include <string>
#include <system_error>

namespace smtpipe {

/// Every error smtpipe itself reports. Values are stable; 0 is never used.
///
/// I/O errors from the transport (connection refused, reset, ...) keep their own category
/// (`asio::error`, `std::system_category`); cancellation is `asio::error::operation_aborted`.
enum class errc {
  // Reply parsing (RFC 5321 §4.2).
  reply_line_too_long = 1,     ///< A reply line exceeded the parser's line cap.
  reply_too_long,              ///< A reply exceeded the parser's size or line-count cap.
  malformed_reply_code,        ///< Not `[2-5][0-5][0-9]` followed by SP, '-' or end of line.
  reply_code_mismatch,         ///< Lines of one multi-line reply carry different codes.
  control_character_in_reply,  ///< NUL, a bare CR or another control character in reply text.

  // Command arguments (RFC 5321 §4.1, §4.5.3.1; RFC 3461).
  control_character_in_argument,  ///< CR, LF, NUL, another C0 control or DEL in an argument.
  invalid_address,                ///< Not an RFC 5321 Mailbox (or Postmaster for RCPT).
  local_part_too_long,            ///< Local part over 64 octets.
  domain_too_long,                ///< Domain over 255 octets.
  path_too_long,                  ///< Path over 256 octets including the angle brackets.
  command_line_too_long,          ///< Command line over 512 octets including CRLF.
  address_needs_smtputf8,         ///< Non-ASCII mailbox without the SMTPUTF8 parameter.
  invalid_domain,                 ///< EHLO/HELO/LHLO argument is not a domain or address literal.
  invalid_esmtp_keyword,          ///< ESMTP parameter keyword outside `[A-Za-z0-9][A-Za-z0-9-]*`.
  invalid_esmtp_value,            ///< ESMTP parameter value outside RFC 5321 esmtp-value.
  invalid_argument,               ///< Any other argument that cannot be formatted safely.

  // Message bodies (RFC 5321 §4.5.2, §4.5.3.1.6).
  nul_in_body,         ///< The body contains a NUL octet.
  body_line_too_long,  ///< A body line exceeds 998 octets and the policy refuses it.

  // Codecs.
  invalid_base64,  ///< Input is not canonical base64 (RFC 4648 §4).
  invalid_xtext,   ///< Input is not valid xtext (RFC 3461 §4).

  // Pipelines and sessions.
  timeout,                   ///< A per-state timeout fired.
  session_deadline,          ///< The whole-session deadline passed.
  connection_closed,         ///< The server closed the connection while a reply was due.
  unexpected_reply,          ///< A reply code the current state does not allow.
  unsolicited_reply,         ///< Bytes arrived while no reply was outstanding.
  service_not_available,     ///< The server answered 421 (RFC 5321 §3.8).
  greeting_refused,          ///< The banner was 554 (or another 5yz): no service here.
  extension_not_supported,   ///< A required extension was not advertised (SMTPUTF8, SIZE...).
  message_too_big,           ///< Message larger than the server's advertised SIZE.
  tls_not_available,         ///< TLS was requested but this build or connection cannot do it.
  auth_not_available,        ///< AUTH was requested but cannot be performed.
  unknown_state,             ///< A transition named a state ID that is not in the pipeline.
  state_failed,              ///< A state ended the session with a failure of its own.
  body_read_failed,          ///< The message body source could not be read.
  not_attempted,             ///< The session ended before this recipient was tried.
  early_reply,               ///< The server replied while the message body was being sent.
  tls_handshake_failed,      ///< The TLS handshake failed (not a certificate problem).
  tls_certificate_rejected,  ///< The server certificate failed the configured checks.
  tls_plaintext_injection,   ///< Bytes followed the STARTTLS 220 before the handshake.
  starttls_refused,          ///< TLS was required and STARTTLS was absent or refused.

  // Authentication (RFC 4422, RFC 4954).
  sasl_bad_challenge,        ///< Malformed or unexpected server data in a SASL exchange.
  sasl_server_not_verified,  ///< The server failed to prove knowledge of the credentials (SCRAM).
  auth_failed,               ///< The server refused AUTH (535; 454 transiently...): see the reply.

  // Routing (RFC 5321 §5.1, RFC 7505): DNS answers and MX hosts.
  dns_timeout,       ///< A DNS lookup got no answer within its timeout (transient).
  dns_failure,       ///< SERVFAIL, REFUSED or a resolver error (transient).
  dns_bogus,         ///< DNSSEC validation failed for the answer (transient).
  domain_not_found,  ///< NXDOMAIN: the recipient domain does not exist (permanent, 5.1.2).
  null_mx,           ///< The domain publishes a null MX, `MX 0 .` (permanent, 5.1.10).
  no_mx_address,     ///< No MX host (or the implicit MX) has an address to connect to.
  resolver_setup,    ///< The DNS resolver could not be configured (forwarder, file...).
  all_hosts_failed,  ///< Every MX host and address was tried and none took the message.
  mail_loop,         ///< This host is the domain's most preferred MX (permanent, 5.4.6).

  // Bounce classification (Momentum's classes and override rules).
  invalid_bounce_rule,   ///< A classification rule (or a line of rules) cannot be parsed.
  unknown_bounce_class,  ///< A rule names a class code that is neither built in nor registered.
  bounce_class_clash,    ///< A custom class code is built in or already registered otherwise.
  invalid_bounce_class,  ///< A custom class code outside 1-99, or an empty class name.

  // Message content (RFC 6152, RFC 3030).
  eight_bit_not_supported,   ///< 8-bit body, server without 8BITMIME (permanent, 5.6.3).
  binarymime_not_supported,  ///< BODY=BINARYMIME needs CHUNKING and BINARYMIME (5.6.3).

  // Authenticated transport between MTAs (RFC 7672, RFC 8689).
  tlsa_lookup_failed,       ///< The TLSA lookup failed or was bogus: the host is not used (4.7.5).
  dane_required,            ///< The TLS level needs DANE and the host has no usable TLSA (4.7.5).
  requiretls_not_possible,  ///< REQUIRETLS and no authenticated TLS or no REQUIRETLS (5.7.30).
  // MTA-STS (RFC 8461).
  mta_sts_policy_invalid,  ///< The policy (or its TXT record) does not parse strictly.
  mta_sts_fetch_failed,    ///< The policy could not be fetched over verified HTTPS.
  mta_sts_mx_mismatch,     ///< The MX host matches none of the enforced policy's `mx` patterns.
};

namespace detail {

class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smtpipe"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::reply_line_too_long: return "reply line too long";
      case errc::reply_too_long: return "reply too long";
      case errc::malformed_reply_code: return "malformed reply code";
      case errc::reply_code_mismatch: return "reply code differs between lines of one reply";
      case errc::control_character_in_reply: return "control character in reply";
      case errc::control_character_in_argument: return "control character in command argument";
      case errc::invalid_address: return "invalid mailbox address";
      case errc::local_part_too_long: return "local part longer than 64 octets";
      case errc::domain_too_long: return "domain longer than 255 octets";
      case errc::path_too_long: return "path longer than 256 octets";
      case errc::command_line_too_long: return "command line longer than 512 octets";
      case errc::address_needs_smtputf8: return "non-ASCII address requires SMTPUTF8";
      case errc::invalid_domain: return "invalid domain or address literal";
      case errc::invalid_esmtp_keyword: return "invalid ESMTP parameter keyword";
      case errc::invalid_esmtp_value: return "invalid ESMTP parameter value";
      case errc::invalid_argument: return "invalid command argument";
      case errc::nul_in_body: return "NUL octet in message body";
      case errc::body_line_too_long: return "message body line longer than 998 octets";
      case errc::invalid_base64: return "invalid base64";
      case errc::invalid_xtext: return "invalid xtext";
      case errc::timeout: return "timed out waiting for the server";
      case errc::session_deadline: return "session deadline exceeded";
      case errc::connection_closed: return "connection closed by the server";
      case errc::unexpected_reply: return "unexpected reply";
      case errc::unsolicited_reply: return "reply received while none was outstanding";
      case errc::service_not_available: return "service not available (421)";
      case errc::greeting_refused: return "server refused the session in its greeting";
      case errc::extension_not_supported: return "required SMTP extension not advertised";
      case errc::message_too_big: return "message exceeds the server's SIZE limit";
      case errc::tls_not_available: return "TLS not available";
      case errc::auth_not_available: return "authentication not available";
      case errc::unknown_state: return "transition to an unknown state";
      case errc::state_failed: return "state failed";
      case errc::body_read_failed: return "message body could not be read";
      case errc::not_attempted: return "not attempted: the session ended first";
      case errc::early_reply: return "reply received before the end of the message data";
      case errc::tls_handshake_failed: return "TLS handshake failed";
      case errc::tls_certificate_rejected: return "server certificate rejected";
      case errc::tls_plaintext_injection:
        return "plaintext bytes followed the STARTTLS reply (possible injection)";
      case errc::starttls_refused: return "TLS required but STARTTLS not available or refused";
      case errc::sasl_bad_challenge: return "malformed or unexpected SASL challenge";
      case errc::sasl_server_not_verified: return "SASL server signature not verified";
      case errc::auth_failed: return "authentication refused by the server";
      case errc::dns_timeout: return "DNS lookup timed out";
      case errc::dns_failure: return "DNS lookup failed (server failure)";
      case errc::dns_bogus: return "DNSSEC validation failed (bogus answer)";
      case errc::domain_not_found: return "domain not found (NXDOMAIN)";
      case errc::null_mx: return "domain accepts no mail (null MX)";
      case errc::no_mx_address: return "no MX host has an address";
      case errc::resolver_setup: return "DNS resolver could not be configured";
      case errc::eight_bit_not_supported:
        return "8-bit message body, but the server does not advertise 8BITMIME";
      case errc::binarymime_not_supported:
        return "BODY=BINARYMIME, but the server does not advertise CHUNKING and BINARYMIME";
      case errc::mta_sts_policy_invalid: return "MTA-STS policy invalid";
      case errc::mta_sts_fetch_failed: return "MTA-STS policy could not be fetched";
      case errc::mta_sts_mx_mismatch: return "MX host not allowed by the MTA-STS policy";
      case errc::all_hosts_failed: return "no MX host could take the message";
      case errc::mail_loop: return "mail for the domain loops back to this host";
      case errc::tlsa_lookup_failed: return "TLSA lookup failed or not DNSSEC-valid (DANE)";
      case errc::dane_required:
        return "the TLS level requires DANE and the host has no usable TLSA";
      case errc::requiretls_not_possible:
        return "REQUIRETLS: no authenticated TLS to a server supporting REQUIRETLS";
      case errc::invalid_bounce_rule: return "invalid bounce classification rule";
      case errc::unknown_bounce_class: return "unknown bounce class code";
      case errc::bounce_class_clash:
        return "bounce class code already used by a built-in or another registered class";
      case errc::invalid_bounce_class: return "invalid custom bounce class (code 1-99, a name)";
    }
    return "unknown smtpipe error";
  }
};

}  // namespace detail

/// The category of every `errc`; its name is "smtpipe".
inline const std::error_category& error_category() noexcept {
  static const detail::error_category_impl instance;
  return instance;
}

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace smtpipe

template <>
struct std::is_error_code_enum<smtpipe::errc> : std::true_type {};

#endif  // !SMTPIPE_ERROR_HPP
