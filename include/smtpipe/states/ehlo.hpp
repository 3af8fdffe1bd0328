// smtpipe/states/ehlo.hpp - The ehlo state: EHLO and the server's extensions.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_EHLO_HPP
#define SMTPIPE_STATES_EHLO_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/detail/builtin_steps.hpp"
#include "smtpipe/session/session.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

/// RFC 5321 §4.1.1.1: EHLO (LHLO under `session_options::lmtp`, RFC 2033); a 250 records the
/// capabilities (and whether to pipeline). Only 500 and 502 (command not recognised / not
/// implemented) fall back to HELO: the `helo` state then applies. A 421 ends the session
/// transiently; any other refusal ends it with that reply, and never on a closed connection. Under
/// `tls_mode::required` (before TLS), a refused EHLO ends the session instead: HELO would mean no
/// STARTTLS.
struct ehlo {
  static constexpr std::string_view name = "ehlo";
  static constexpr smtpipe::stage stage = smtpipe::stage::during_ehlo;

  asio::awaitable<transition> run(session& s) {
    detail::builtin_steps::reset_capabilities(s);
    if (s.options().lmtp) co_return co_await run_lhlo(s);
    if (auto ec = co_await s.exchange(command_kind::ehlo, format_ehlo, s.options().helo_name))
      co_return s.fail_session(ec);
    const reply& r = s.last_reply();
    if (r.code == 250) {
      detail::builtin_steps::set_capabilities(s, r);
      co_return transition::next();
    }
    if (r.code == 500 || r.code == 502) {
      // No ESMTP, so no STARTTLS: falling back to HELO would dodge a TLS requirement.
      if (s.options().tls == tls_mode::required && !s.tls_active())
        co_return s.fail_session(errc::starttls_refused, "EHLO refused: STARTTLS impossible");
      co_return transition::next();
    }
    co_return s.fail_session(r, errc::unexpected_reply);
  }

  /// RFC 2033 §4.1: LMTP has no HELO; any reply but 250 to LHLO ends the session.
  static asio::awaitable<transition> run_lhlo(session& s) {
    if (auto ec = co_await s.exchange(command_kind::lhlo, format_lhlo, s.options().helo_name))
      co_return s.fail_session(ec);
    const reply& r = s.last_reply();
    if (r.code != 250) co_return s.fail_session(r, errc::unexpected_reply);
    detail::builtin_steps::set_capabilities(s, r);
    co_return transition::next();
  }
};

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_EHLO_HPP
