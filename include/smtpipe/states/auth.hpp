// smtpipe/states/auth.hpp - The auth state: authenticate (RFC 4954).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_AUTH_HPP
#define SMTPIPE_STATES_AUTH_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/session.hpp"

namespace smtpipe::states {

/// RFC 4954: AUTH. Applies only when credentials are configured; this build refuses
/// credentials before connecting (`errc::auth_not_available`) until AUTH lands.
struct auth {
  static constexpr std::string_view name = "auth";
  static constexpr stage stage_code = stage::unknown;

  static bool applies(const session& s) { return s.options().auth.has_value(); }

  asio::awaitable<transition> run(session& s) {
    co_return s.fail_session(errc::auth_not_available);
  }
};

}  // namespace smtpipe::states

#endif  // !SMTPIPE_STATES_AUTH_HPP
