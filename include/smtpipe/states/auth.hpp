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

  asio::awaitable<transition> run(session& s) {
    const auth_options& options = *s.options().auth;
    if (!s.tls_active() && !options.allow_plaintext)
      co_return s.fail_session(errc::auth_not_available,
                               "no AUTH without TLS (plaintext authentication not allowed)");
    auto mechanism = choose(s, options);
    if (!mechanism) co_return s.fail_session(errc::auth_not_available, "no common SASL mechanism");

    std::string response, encoded;
    bool initial_pending = false;  // an initial response too long for the AUTH line
    if (mechanism->client_first()) {
      if (auto ec = mechanism->step({}, response)) co_return s.fail_session(ec);
      base64_encode(response, encoded);
      detail::wipe(response);
    }
    const std::string_view mech_name = mechanism->name();
    auto ec = co_await s.exchange(command_kind::auth, [&](std::string& out) {
      auto e = format_auth(out, mech_name, encoded, mechanism->client_first());
      if (e == errc::command_line_too_long) {  // RFC 4954 §4: send it after an empty 334
        initial_pending = true;
        e = format_auth(out, mech_name);
      }
      return e;
    });
    for (int challenges = 0; !ec; ++challenges) {
      const reply& r = s.last_reply();
      if (r.code == 235) {
        if (!mechanism->server_verified() && !r.text.empty()) verify_in_success(*mechanism, r.text);
        detail::wipe(encoded);
        if (!mechanism->server_verified())
          co_return s.fail_session(errc::sasl_server_not_verified, "235 from an unverified server");
        detail::builtin_steps::set_authenticated(s);
        co_return transition::next();
      }
      if (r.code != 334) {
        detail::wipe(encoded);
        co_return s.fail_session(r,
                                 r.code == 421 ? errc::service_not_available : errc::auth_failed);
      }
      std::error_code why;
      if (initial_pending) {
        initial_pending = false;
      } else if (challenges >= max_challenges || !mechanism->expects_challenge()) {
        why = errc::sasl_bad_challenge;
      } else {
        std::string challenge;
        detail::wipe(encoded);
        if (!(why = base64_decode(r.text, challenge)) &&
            !(why = mechanism->step(challenge, response))) {
          base64_encode(response, encoded);
          detail::wipe(response);
        }
      }
      if (why) {  // cancel the exchange (RFC 4954 §4), then end the session
        (void)co_await s.exchange(command_kind::auth, format_auth_response, "*");
        co_return s.fail_session(why, "AUTH cancelled");
      }
      ec = co_await s.exchange(command_kind::auth, format_auth_response, encoded);
    }
    detail::wipe(encoded);
    co_return s.fail_session(ec);
  }

 private:
  static std::unique_ptr<sasl_mechanism> choose(const session& s, const auth_options& options) {
    const capabilities& caps = s.server_capabilities();
    if (!options.mechanism.empty()) {
      // SASL names are upper case (RFC 4422 §3.1), as the registry compares them.
      std::string named = options.mechanism;
      for (char& c : named) c = detail::to_upper(c);
      return caps.auth(named) ? sasl_registry::make(named, options.credentials) : nullptr;
    }
    std::unique_ptr<sasl_mechanism> chosen;
    sasl_registry::strongest_first([&](std::string_view mech) {
      if (caps.auth(mech)) chosen = sasl_registry::make(mech, options.credentials);
      return chosen != nullptr;
    });
    return chosen;
  }

  // Some servers put SCRAM's server-final message in the 235 reply itself.
  static void verify_in_success(sasl_mechanism& mechanism, std::string_view text) {
    std::string data, ignored;
    if (!base64_decode(text, data)) (void)mechanism.step(data, ignored);
  }
};

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_AUTH_HPP
