// smtpipe/session/impl/session_control.hpp - Bodies of the runner's side of a session.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_IMPL_SESSION_CONTROL_HPP
#define SMTPIPE_SESSION_IMPL_SESSION_CONTROL_HPP

#include "smtpipe/session/detail/session_control.hpp"

namespace smtpipe::detail {

SMTPIPE_DECL std::error_code session_control::prepare(session& s) {
  if (auto ec = validate_domain(s.options_.helo_name, false)) return ec;
  const auto& o = s.options_;
  if (o.tls != tls_mode::none && !o.tls_provider) return errc::tls_not_available;
  if (o.tls != tls_mode::none && s.server_name_.empty()) return errc::invalid_domain;
  if (o.auth) {
    // No SASL identity holds a NUL (RFC 4422 §3.4.1, RFC 4616 §2): refused before
    // connecting, whichever mechanism the server will offer.
    const sasl_credentials& c = o.auth->credentials;
    const auto has_nul = [](std::string_view v) { return v.find('\0') != v.npos; };
    if (c.user.empty() || has_nul(c.user) || has_nul(c.authzid)) return errc::invalid_argument;
  }
  return s.ledger_.prepare();
}

SMTPIPE_DECL session_result session_control::take_result(session& s) {
  s.ledger_.finalize(s.error_, s.has_session_reply_ ? &s.session_reply_ : nullptr,
                     s.current_decider());
  return std::move(s.ledger_.result());
}

SMTPIPE_DECL void session_control::on_greeting(session& s, const reply& r, void*, std::size_t) {
  s.greeting_ = r;
  s.ledger_.result().greeting = r.sanitized_text();
}

}  // namespace smtpipe::detail

#endif  // !SMTPIPE_SESSION_IMPL_SESSION_CONTROL_HPP
