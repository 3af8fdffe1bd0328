// smtpipe/states/auth.hpp - The auth state: authenticate with SASL (RFC 4954).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_AUTH_HPP
#define SMTPIPE_STATES_AUTH_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/protocol/base64.hpp"
#include "smtpipe/protocol/xtext.hpp"  // detail::to_upper
#include "smtpipe/sasl/login.hpp"
#include "smtpipe/sasl/plain.hpp"
#include "smtpipe/sasl/registry.hpp"
#include "smtpipe/sasl/xoauth2.hpp"
#include "smtpipe/session/detail/builtin_steps.hpp"
#include "smtpipe/session/session.hpp"

#include <array>
#include <memory>
#include <string>
#include <string_view>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

/// RFC 4954: AUTH when credentials are configured. Never before TLS unless plaintext
/// authentication is explicitly allowed. The mechanism is the one named in the options, or
/// the strongest both sides support: SCRAM-SHA-256 and CRAM-MD5 (from the TLS provider),
/// then PLAIN, then LOGIN. The initial response goes with AUTH when it fits the line; 334
/// challenges are answered in turn, at most 8 of them; an undecodable or unexpected challenge
/// is cancelled with "*". 235 goes on (after SCRAM has verified the server); 535 fails the
/// session permanently, 454 transiently; there is no retry with a weaker mechanism.
struct auth {
  static constexpr std::string_view name = "auth";
  static constexpr smtpipe::stage stage = smtpipe::stage::unknown;  // Momentum has no AUTH stage
  static constexpr int max_challenges = 8;

  static bool applies(const session& s) {
    return s.options().auth.has_value() && !s.authenticated();
  }

  asio::awaitable<transition> run(session& s);

 private:
  static std::unique_ptr<sasl_mechanism> choose(const session& s, const auth_options& options);

  // Some servers put SCRAM's server-final message in the 235 reply itself.
  static void verify_in_success(sasl_mechanism& mechanism, std::string_view text);
};

}  // namespace smtpipe::states

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/states/impl/auth.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_AUTH_HPP
