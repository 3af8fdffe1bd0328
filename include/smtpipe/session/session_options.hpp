// smtpipe/session/session_options.hpp - Everything that configures one session.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_SESSION_OPTIONS_HPP
#define SMTPIPE_SESSION_SESSION_OPTIONS_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/protocol/body_encoder.hpp"
#include "smtpipe/protocol/bounce_classifier.hpp"
#include "smtpipe/protocol/reply_parser.hpp"
#include "smtpipe/sasl/mechanism.hpp"
#include "smtpipe/session/observer.hpp"
#include "smtpipe/session/timeouts.hpp"
#include "smtpipe/session/tls_layer.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace smtpipe {

/// When to use TLS.
enum class tls_mode {
  none,  ///< Never.
  /// STARTTLS when advertised. If the server refuses it or the handshake fails, this
  /// connection is given up and `deliver` makes a fresh plaintext one (Momentum's
  /// `tls_ifavailable_fallback`); nothing is ever sent on the connection that failed.
  opportunistic,
  /// STARTTLS, or the session fails transiently before any credential or message byte.
  required,
  implicit,  ///< TLS from the first byte (port 465, RFC 8314).
};

/// AUTH settings (RFC 4954).
struct auth_options {
  auth_options() = default;  // not an aggregate: see docs/architecture.md (g++ 12)

  sasl_credentials credentials;  ///< authzid (optional), user, password or OAuth2 token.
  /// Empty: the strongest mechanism both sides support (SCRAM-SHA-256, CRAM-MD5, PLAIN,
  /// LOGIN); XOAUTH2 only when named.
  std::string mechanism;
  /// Allow credentials on a connection without TLS (e.g. loopback). Off by default.
  bool allow_plaintext = false;
};

/// Options of one session. The defaults send mail correctly to any RFC 5321 server.
struct session_options {
  // A declared constructor keeps `session_options{}` from being aggregate initialisation:
  // g++ 12 destroys braced aggregate temporaries in a co_await expression incorrectly.
  session_options() = default;

  std::string helo_name = "localhost";  ///< EHLO/HELO argument: a domain or address literal.
  bool pipelining = true;               ///< Use PIPELINING (RFC 2920) when advertised.
  smtpipe::timeouts timeouts;
  std::size_t max_messages = 0;  ///< Messages started per connection; 0 = unlimited.
  std::size_t max_recipients_per_transaction = 100;        ///< More recipients: more transactions.
  reply_limits replies;                                    ///< Caps on reply lines and sizes.
  long_line_policy long_lines = long_line_policy::refuse;  ///< Body lines over 998 octets.
  /// Send bodies with BDAT (RFC 3030) when the server advertises CHUNKING.
  bool chunking = true;
  /// Octets per BDAT chunk (the last one may be shorter); values below 1 are treated as 1.
  std::size_t bdat_chunk_size = 1024 * 1024;
  /// Send a body with 8-bit octets to a server without 8BITMIME unlabelled instead of refusing
  /// it (RFC 6152 forbids it; a caller who knows the path is 8-bit clean may opt in).
  bool eight_bit_as_is = false;
  session_observer* observer = nullptr;  ///< Not owned; may be null.
  tls_mode tls = tls_mode::none;
  /// Makes the TLS layers (and crypto SASL mechanisms): `make_openssl_provider` from
  /// <smtpipe/openssl.hpp>. Required when `tls` is not `none`.
  std::shared_ptr<smtpipe::tls_provider> tls_provider;
  /// The name checked against the server certificate and sent as SNI; empty: the host given
  /// to `deliver` (never a name learnt from the server).
  std::string tls_server_name;
  std::optional<auth_options> auth;  ///< Authenticate when set.
  /// Classifies every failed recipient into a bounce class (`recipient_result::bounce_class`);
  /// not owned, may be null: `bounce_classifier::builtin()`. Read when results are finalized.
  const smtpipe::bounce_classifier* bounce_classifier = nullptr;
  /// Speak LMTP (RFC 2033): LHLO instead of EHLO (a refused LHLO fails the session, no HELO),
  /// and after the end of data one reply per accepted recipient, in RCPT order.
  bool lmtp = false;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_SESSION_OPTIONS_HPP
