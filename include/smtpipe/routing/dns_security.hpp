// smtpipe/routing/dns_security.hpp - DNSSEC status of a DNS answer (secure, insecure, bogus).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_DNS_SECURITY_HPP
#define SMTPIPE_ROUTING_DNS_SECURITY_HPP

#include "smtpipe/config.hpp"

namespace smtpipe {

/// What DNSSEC validation said of an answer (libunbound's `ub_result::secure` and `bogus`).
/// Without a trust anchor every answer is `insecure`. DANE (RFC 7672) needs `secure`.
enum class dns_security {
  insecure,  ///< Not validated: no trust anchor, or an unsigned zone.
  secure,    ///< Validated by a chain of signatures up to a trust anchor.
  bogus,     ///< Validation failed: the data must not be used (treated as a failure).
};

constexpr const char* to_string(dns_security s) noexcept {
  switch (s) {
    case dns_security::insecure: return "insecure";
    case dns_security::secure: return "secure";
    case dns_security::bogus: return "bogus";
  }
  return "insecure";
}

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_DNS_SECURITY_HPP
