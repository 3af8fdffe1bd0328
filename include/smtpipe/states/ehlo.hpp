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

  asio::awaitable<transition> run(session& s);

  /// RFC 2033 §4.1: LMTP has no HELO; any reply but 250 to LHLO ends the session.
  static asio::awaitable<transition> run_lhlo(session& s);
};

}  // namespace smtpipe::states

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/states/impl/ehlo.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_EHLO_HPP
