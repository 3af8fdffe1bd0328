// smtpipe/routing/dns_answer.hpp - One DNS answer: rcode, records, TTL and DNSSEC status.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_DNS_ANSWER_HPP
#define SMTPIPE_ROUTING_DNS_ANSWER_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/routing/dns_security.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace smtpipe {

/// The answer to one question, as libunbound gave it. A lookup that got an answer completes
/// without error even when the answer is NXDOMAIN or SERVFAIL: `rcode` and `nxdomain` say so.
struct dns_answer {
  std::string name;            ///< The name asked for.
  int type = 0;                ///< The RR type asked for (see `dns_type`).
  std::string canonical_name;  ///< The name after CNAMEs; empty when the server gave none.
  int rcode = 0;               ///< DNS RCODE: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED...
  bool nxdomain = false;       ///< The name does not exist.
  /// RDATA of each record of the asked type, in wire format (names uncompressed).
  std::vector<std::string> records;
  std::uint32_t ttl = 0;                           ///< Seconds the answer stays valid.
  dns_security security = dns_security::insecure;  ///< DNSSEC status.
  std::string why_bogus;                           ///< libunbound's reason when bogus.

  /// NOERROR with records of the asked type.
  bool has_data() const noexcept { return !records.empty(); }
  /// NOERROR without records of the asked type (NODATA): the name exists.
  bool no_data() const noexcept { return rcode == 0 && !nxdomain && records.empty(); }
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_DNS_ANSWER_HPP
