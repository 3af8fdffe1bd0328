// smtpipe/routing/mx_host.hpp - One host to deliver to: its MX name, preference and addresses.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_MX_HOST_HPP
#define SMTPIPE_ROUTING_MX_HOST_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/routing/dns_security.hpp"

#include <asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace smtpipe {

/// A host of a route, with the addresses to try in order.
struct mx_host {
  std::string name;  ///< The MX exchange as published (or the domain for an implicit MX).
  std::uint16_t preference = 0;
  bool implicit = false;  ///< No MX record: the domain itself (RFC 5321 §5.1).
  std::vector<asio::ip::address> addresses;
  /// DNSSEC status of the address answers (the least secure of them).
  dns_security security = dns_security::insecure;
  /// The name after CNAMEs when `name` is an alias (lower case, no final dot); else empty.
  std::string canonical_name;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_MX_HOST_HPP
