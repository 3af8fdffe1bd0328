// smtpipe/routing/dns_type.hpp - The DNS record types routing asks for (RFC 1035, 3596, 6698).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_DNS_TYPE_HPP
#define SMTPIPE_ROUTING_DNS_TYPE_HPP

#include "smtpipe/config.hpp"

namespace smtpipe {

/// DNS RR type codes; any other type can be asked for by its number.
enum class dns_type : int {
  a = 1,      ///< IPv4 address (RFC 1035).
  cname = 5,  ///< Canonical name (RFC 1035).
  mx = 15,    ///< Mail exchanger (RFC 1035, RFC 7505 null MX).
  txt = 16,   ///< Text (RFC 1035): MTA-STS and TLSRPT records.
  aaaa = 28,  ///< IPv6 address (RFC 3596).
  tlsa = 52,  ///< TLSA (RFC 6698): DANE.
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_DNS_TYPE_HPP
