// smtpipe/routing/resolver_options.hpp - Which DNS server to ask, how long, with which anchor.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_RESOLVER_OPTIONS_HPP
#define SMTPIPE_ROUTING_RESOLVER_OPTIONS_HPP

#include "smtpipe/config.hpp"

#include <chrono>
#include <string>

namespace smtpipe {

/// Configuration of a `dns_resolver`.
struct resolver_options {
  resolver_options() = default;  // not an aggregate (g++ 12 and braced temporaries)

  /// Forward every query to this server, "IP" or "IP@PORT" (libunbound's syntax; "IP:PORT"
  /// and "[IPv6]:PORT" are accepted too). Empty: the servers of `resolv_conf`.
  std::string forwarder;
  /// The resolv.conf whose nameservers are used when `forwarder` is empty; empty: the
  /// system's /etc/resolv.conf.
  std::string resolv_conf;
  /// A DNSSEC trust anchor file (zone-file format DS or DNSKEY records) for validation;
  /// empty: the system's root key (`default_trust_anchor_file()`), if one is installed.
  std::string trust_anchor_file;
  /// Validate answers with DNSSEC (bogus ones are never used for routing); false: every
  /// answer is `insecure`, whatever `trust_anchor_file` says.
  bool dnssec = true;
  /// How long one lookup may take before it fails with `errc::dns_timeout`.
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_RESOLVER_OPTIONS_HPP
