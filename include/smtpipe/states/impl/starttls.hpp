// smtpipe/states/impl/starttls.hpp - Bodies of the starttls state.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_IMPL_STARTTLS_HPP
#define SMTPIPE_STATES_IMPL_STARTTLS_HPP

#include "smtpipe/states/starttls.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

SMTPIPE_DECL asio::awaitable<transition> starttls::run(session& s) {
  const bool required = s.options().tls == tls_mode::required;
  if (!s.server_capabilities().starttls()) {
    if (!required) co_return transition::next();  // opportunistic: plaintext it is
    co_return s.fail_session(errc::starttls_refused, "STARTTLS not advertised");
  }
  if (auto ec = co_await s.exchange(command_kind::starttls, format_starttls))
    co_return s.fail_session(ec);
  const reply& r = s.last_reply();
  if (r.code != 220) {
    if (!required) smtpipe::detail::builtin_steps::set_tls_fallback(s, errc::starttls_refused);
    co_return s.fail_session(errc::starttls_refused, r.sanitized_text());
  }
  s.set_stage(smtpipe::stage::handshaking_tls);
  if (auto ec = co_await s.start_tls()) {
    if (!required && ec != errc::tls_plaintext_injection)
      smtpipe::detail::builtin_steps::set_tls_fallback(s, ec);
    co_return s.fail_session(ec);
  }
  s.set_stage(smtpipe::stage::after_starttls);
  co_return transition::jump(state_id::ehlo);
}

}  // namespace smtpipe::states

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_IMPL_STARTTLS_HPP
