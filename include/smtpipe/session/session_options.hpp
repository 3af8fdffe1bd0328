// smtpipe/session/session_options.hpp - Everything that configures one session.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_SESSION_OPTIONS_HPP
#define SMTPIPE_SESSION_SESSION_OPTIONS_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/protocol/body_encoder.hpp"
#include "smtpipe/protocol/reply_parser.hpp"
#include "smtpipe/session/observer.hpp"
#include "smtpipe/session/timeouts.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace smtpipe {

/// When to use TLS.
enum class tls_mode {
  none,           ///< Never.
  opportunistic,  ///< STARTTLS when advertised.
  required,       ///< STARTTLS or fail before any credential or message byte is sent.
  implicit,       ///< TLS from the first byte (port 465, RFC 8314).
};

/// AUTH credentials (RFC 4954).
struct auth_credentials {
  std::string user;
  std::string password;
  std::string mechanism;  ///< Empty: the strongest mechanism both sides support.
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
  std::size_t max_recipients_per_transaction = 100;  ///< More recipients: more transactions.
  reply_limits replies;                               ///< Caps on reply lines and sizes.
  long_line_policy long_lines = long_line_policy::refuse;  ///< Body lines over 998 octets.
  session_observer* observer = nullptr;                    ///< Not owned; may be null.
  tls_mode tls = tls_mode::none;
  std::optional<auth_credentials> auth;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_SESSION_OPTIONS_HPP
