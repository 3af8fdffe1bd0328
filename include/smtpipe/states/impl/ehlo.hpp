// smtpipe/states/impl/ehlo.hpp - Bodies of the ehlo state.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_IMPL_EHLO_HPP
#define SMTPIPE_STATES_IMPL_EHLO_HPP

#include "smtpipe/states/ehlo.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

SMTPIPE_DECL asio::awaitable<transition> ehlo::run(session& s) {
  smtpipe::detail::builtin_steps::reset_capabilities(s);
  if (s.options().lmtp) co_return co_await run_lhlo(s);
  if (auto ec = co_await s.exchange(command_kind::ehlo, format_ehlo, s.options().helo_name))
    co_return s.fail_session(ec);
  const reply& r = s.last_reply();
  if (r.code == 250) {
    smtpipe::detail::builtin_steps::set_capabilities(s, r);
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

SMTPIPE_DECL asio::awaitable<transition> ehlo::run_lhlo(session& s) {
  if (auto ec = co_await s.exchange(command_kind::lhlo, format_lhlo, s.options().helo_name))
    co_return s.fail_session(ec);
  const reply& r = s.last_reply();
  if (r.code != 250) co_return s.fail_session(r, errc::unexpected_reply);
  smtpipe::detail::builtin_steps::set_capabilities(s, r);
  co_return transition::next();
}

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_IMPL_EHLO_HPP
