// smtpipe/states/starttls.hpp - The starttls state: upgrade the connection to TLS (RFC 3207).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_STARTTLS_HPP
#define SMTPIPE_STATES_STARTTLS_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/session.hpp"

namespace smtpipe::states {

/// RFC 3207: STARTTLS. Applies only when a TLS mode asks for it; this build has no TLS yet,
/// so asking for TLS is refused before connecting (`errc::tls_not_available`) and the state
/// never runs: a session never continues in plaintext when TLS was asked for.
struct starttls {
  static constexpr std::string_view name = "starttls";
  static constexpr stage stage_code = stage::during_starttls;

  static bool applies(const session& s) {
    return s.options().tls == tls_mode::opportunistic || s.options().tls == tls_mode::required;
  }

  asio::awaitable<transition> run(session& s) {
    co_return s.fail_session(errc::tls_not_available);
  }
};

}  // namespace smtpipe::states

#endif  // !SMTPIPE_STATES_STARTTLS_HPP
