// smtpipe/routing/route.hpp - Where a domain's mail goes: its MX hosts in order, or why nowhere.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_ROUTE_HPP
#define SMTPIPE_ROUTING_ROUTE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/protocol/enhanced_status.hpp"
#include "smtpipe/routing/dns_security.hpp"
#include "smtpipe/routing/host_attempt.hpp"
#include "smtpipe/routing/mx_host.hpp"

#include <string>
#include <system_error>
#include <vector>

namespace smtpipe {

/// The outcome of MX resolution for one domain (RFC 5321 §5.1, RFC 7505).
struct route {
  std::string domain;
  /// The hosts to try, most preferred first (equal preferences shuffled), each with at least
  /// one address.
  std::vector<mx_host> hosts;
  /// Hosts left out: no address, an address literal as MX target, a failed address lookup.
  std::vector<host_attempt> skipped;
  bool implicit = false;  ///< No MX record: the domain itself is the host.
  /// Set when there is no host to try; `permanent` says whether trying later can help.
  std::error_code error;
  bool permanent = false;
  enhanced_status status;  ///< RFC 3463 code for `error` (5.1.10, 5.1.2, 4.4.3...).
  std::string text;        ///< What went wrong, for reports.
  dns_security security = dns_security::insecure;  ///< DNSSEC status of the MX answer.
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_ROUTE_HPP
