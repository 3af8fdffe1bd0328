// smtpipe/states/impl/auth.hpp - Bodies of the auth state.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_IMPL_AUTH_HPP
#define SMTPIPE_STATES_IMPL_AUTH_HPP

#include "smtpipe/states/auth.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::detail {

// "AUTH mechanism [initial-response]"; an initial response too long for the line is left for
// the first (empty) 334 instead (RFC 4954 §4), and `deferred` says so.
struct auth_line {
  std::string_view mechanism;
  std::string_view initial;
  bool client_first;
  bool* deferred;

  std::error_code operator()(std::string& out) const {
    auto e = format_auth(out, mechanism, initial, client_first);
    if (e == errc::command_line_too_long) {
      *deferred = true;
      e = format_auth(out, mechanism);
    }
    return e;
  }
};

}  // namespace smtpipe::detail

namespace smtpipe::states {

SMTPIPE_DECL asio::awaitable<transition> auth::run(session& s) {
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
    smtpipe::detail::wipe(response);
  }
  const std::string_view mech_name = mechanism->name();
  auto ec = co_await s.exchange(
      command_kind::auth,
      smtpipe::detail::auth_line{mech_name, encoded, mechanism->client_first(), &initial_pending});
  for (int challenges = 0; !ec; ++challenges) {
    const reply& r = s.last_reply();
    if (r.code == 235) {
      if (!mechanism->server_verified() && !r.text.empty()) verify_in_success(*mechanism, r.text);
      smtpipe::detail::wipe(encoded);
      if (!mechanism->server_verified())
        co_return s.fail_session(errc::sasl_server_not_verified, "235 from an unverified server");
      smtpipe::detail::builtin_steps::set_authenticated(s);
      co_return transition::next();
    }
    if (r.code != 334) {
      smtpipe::detail::wipe(encoded);
      co_return s.fail_session(r, r.code == 421 ? errc::service_not_available : errc::auth_failed);
    }
    std::error_code why;
    if (initial_pending) {
      initial_pending = false;
    } else if (challenges >= max_challenges || !mechanism->expects_challenge()) {
      why = errc::sasl_bad_challenge;
    } else {
      std::string challenge;
      smtpipe::detail::wipe(encoded);
      if (!(why = base64_decode(r.text, challenge)) &&
          !(why = mechanism->step(challenge, response))) {
        base64_encode(response, encoded);
        smtpipe::detail::wipe(response);
      }
    }
    if (why) {  // cancel the exchange (RFC 4954 §4), then end the session
      (void)co_await s.exchange(command_kind::auth, format_auth_response, "*");
      co_return s.fail_session(why, "AUTH cancelled");
    }
    ec = co_await s.exchange(command_kind::auth, format_auth_response, encoded);
  }
  smtpipe::detail::wipe(encoded);
  co_return s.fail_session(ec);
}

SMTPIPE_DECL std::unique_ptr<sasl_mechanism> auth::choose(const session& s,
                                                          const auth_options& options) {
  const capabilities& caps = s.server_capabilities();
  if (!options.mechanism.empty()) {
    // SASL names are upper case (RFC 4422 §3.1), as the registry compares them.
    std::string named = options.mechanism;
    for (char& c : named) c = smtpipe::detail::to_upper(c);
    return caps.auth(named) ? sasl_registry::make(named, options.credentials) : nullptr;
  }
  std::unique_ptr<sasl_mechanism> chosen;
  sasl_registry::strongest_first([&](std::string_view mech) {
    if (caps.auth(mech)) chosen = sasl_registry::make(mech, options.credentials);
    return chosen != nullptr;
  });
  return chosen;
}

SMTPIPE_DECL void auth::verify_in_success(sasl_mechanism& mechanism, std::string_view text) {
  std::string data, ignored;
  if (!base64_decode(text, data)) (void)mechanism.step(data, ignored);
}

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_IMPL_AUTH_HPP
