// smtpipe/routing/domain_result.hpp - How one recipient domain was routed and who took its mail.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_DOMAIN_RESULT_HPP
#define SMTPIPE_ROUTING_DOMAIN_RESULT_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/routing/host_attempt.hpp"
#include "smtpipe/routing/route.hpp"
#include "smtpipe/session/result.hpp"

#include <string>
#include <system_error>
#include <vector>

namespace smtpipe {

/// The routing of one domain: its route, every host and address tried (or skipped) with why
/// it was left, and the session that decided its recipients.
struct domain_result {
  std::string domain;
  smtpipe::route route;  ///< The MX resolution (its `error` when there was nowhere to go).
  std::vector<host_attempt> tried;  ///< In order; skipped hosts first, then connections.
  std::string host;                 ///< The host whose session decided; empty if none did.
  std::string address;              ///< Its IP address.
  std::error_code error;            ///< Why no host decided (route error, all hosts failed).
  /// How the deciding (or last) session's server was authenticated: "mta-sts" (TLS verified
  /// for the MX name under an enforced MTA-STS policy), "pkix" (the certificate verified
  /// otherwise), "none" (plaintext or unverified TLS); empty when no session ran.
  std::string authentication;
  /// The MTA-STS mode applied ("enforce", "testing"); empty without a policy.
  std::string mta_sts;
  /// The deciding session (or the last one tried), with this domain's recipients only.
  session_result session;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_DOMAIN_RESULT_HPP
