// smtpipe/sasl/mechanism.hpp - The interface of a SASL client mechanism (RFC 4422).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SASL_MECHANISM_HPP
#define SMTPIPE_SASL_MECHANISM_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace smtpipe {

/// What a SASL mechanism authenticates with. Mechanisms copy what they need on construction
/// and wipe their copies; this struct is the caller's and is never wiped by smtpipe.
struct sasl_credentials {
  std::string authzid;  ///< Authorisation identity; empty: the same as `user`.
  std::string user;     ///< Authentication identity.
  std::string secret;   ///< The password, or the OAuth 2.0 access token for XOAUTH2.
};

/// One SASL client exchange (RFC 4422). Challenges and responses are raw octets: the AUTH state
/// base64-codes them.
///
/// A mechanism is used once, for one AUTH command. Once `step` has returned an error the
/// exchange is over: `expects_challenge()` is false and every further `step` fails.
/// Responses may contain secrets (PLAIN, LOGIN, XOAUTH2 send them): the caller owns
/// `response` and should wipe it once it is written.
class sasl_mechanism {
 public:
  virtual ~sasl_mechanism() = default;
  /// The IANA-registered name: "PLAIN", "SCRAM-SHA-256", ...
  virtual std::string_view name() const noexcept = 0;
  /// Has an initial response (RFC 4954 §4).
  virtual bool client_first() const noexcept = 0;
  /// Produces the client's next message into `response` (cleared first). First call:
  /// `challenge` empty for client-first mechanisms. Errors: errc::sasl_bad_challenge
  /// (malformed/unexpected server data), errc::sasl_server_not_verified (SCRAM server
  /// signature mismatch), errc::invalid_argument (bad credentials, e.g. NUL in PLAIN user).
  virtual std::error_code step(std::string_view challenge, std::string& response) = 0;
  /// True once the mechanism has verified the server (SCRAM: server-final checked), or for
  /// mechanisms without server verification (always true).
  virtual bool server_verified() const noexcept = 0;
  /// Whether a further challenge is acceptable (false once the exchange is complete); a server
  /// that keeps sending 334 beyond this is refused by the AUTH state.
  virtual bool expects_challenge() const noexcept = 0;
};

namespace detail {

/// Overwrites the whole buffer of `s` (its capacity, not only its size) with zeros through a
/// volatile pointer, so the stores are not optimised away, then empties `s`. Best effort: a
/// buffer the string had before it last grew is out of reach, so secrets are built in buffers
/// reserved to their final size.
inline void wipe(std::string& s) noexcept {
  s.resize(s.capacity());  // within the capacity: never allocates
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

}  // namespace detail

}  // namespace smtpipe

#endif  // !SMTPIPE_SASL_MECHANISM_HPP
