// smtpipe/states/starttls.hpp - The starttls state: upgrade the connection to TLS (RFC 3207).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_STARTTLS_HPP
#define SMTPIPE_STATES_STARTTLS_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/detail/builtin_steps.hpp"
#include "smtpipe/session/session.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

/// RFC 3207: STARTTLS when the TLS mode asks for it, the handshake over the same socket, then
/// back to `ehlo`: everything learnt before TLS is forgotten. Under `tls_mode::required` a
/// missing STARTTLS, any reply but 220, or a failed handshake ends the session transiently
/// before any credential or message byte is sent; under `opportunistic` the same failures
/// end this connection and `deliver` retries on a fresh plaintext one. Plaintext that follows
/// the 220 is never read as a reply: the session fails (`errc::tls_plaintext_injection`).
struct starttls {
  static constexpr std::string_view name = "starttls";
  static constexpr smtpipe::stage stage = smtpipe::stage::during_starttls;

  static bool applies(const session& s) {
    const tls_mode mode = s.options().tls;
    return (mode == tls_mode::opportunistic || mode == tls_mode::required) && !s.tls_active();
  }
  asio::awaitable<transition> run(session& s);
};

}  // namespace smtpipe::states

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/states/impl/starttls.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_STARTTLS_HPP
