// tests/support/sasl_checks.hpp - What the SASL mechanism tests share: credentials, and the
// checks of an exchange that has ended or that input the mechanism cannot send ended at once.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TESTS_SUPPORT_SASL_CHECKS_HPP
#define SMTPIPE_TESTS_SUPPORT_SASL_CHECKS_HPP

#include "smtpipe/error.hpp"
#include "smtpipe/sasl/mechanism.hpp"

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<
#include <string>
#include <string_view>

namespace smtpipe::test {

inline sasl_credentials creds(std::string user, std::string secret, std::string authzid = {}) {
  sasl_credentials c;
  c.authzid = std::move(authzid);
  c.user = std::move(user);
  c.secret = std::move(secret);
  return c;
}

/// After the exchange: no further challenge is acceptable, neither an empty one nor `late`
/// (one the mechanism would have taken earlier), and a refused one sends nothing.
inline void check_finished(sasl_mechanism& m, std::string_view late = "more") {
  CHECK_FALSE(m.expects_challenge());
  std::string r = "stale";
  CHECK(m.step("", r) == errc::sasl_bad_challenge);
  CHECK(r.empty());
  CHECK(m.step(late, r) == errc::sasl_bad_challenge);
  CHECK_FALSE(m.expects_challenge());
}

/// Credentials the mechanism cannot send: the first step, answering `challenge`, fails with
/// invalid_argument, sends nothing, and ends the exchange.
inline void check_refused_input(sasl_mechanism& m, std::string_view challenge,
                                std::string_view late = "more") {
  std::string r = "junk";
  CHECK(m.step(challenge, r) == errc::invalid_argument);
  CHECK(r.empty());
  check_finished(m, late);
}

}  // namespace smtpipe::test

#endif  // !SMTPIPE_TESTS_SUPPORT_SASL_CHECKS_HPP
