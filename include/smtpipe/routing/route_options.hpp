// smtpipe/routing/route_options.hpp - How routed deliveries find and connect to MX hosts.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_ROUTE_OPTIONS_HPP
#define SMTPIPE_ROUTING_ROUTE_OPTIONS_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/routing/address_preference.hpp"
#include "smtpipe/routing/routing_observer.hpp"
#include "smtpipe/routing/tls_level.hpp"

#include <asio/ip/address.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace smtpipe {

class mta_sts_source;
class tls_report;
class connection_pool;

/// Options of routed delivery. The per-address connect timeout is the session's
/// `timeouts.connect`.
struct route_options {
  route_options() = default;  // not an aggregate (g++ 12 and braced temporaries)

  std::uint16_t port = 25;  ///< The SMTP port of every MX host (tests use another).
  /// Bind every outgoing connection to this local address (IPv4 or IPv6); addresses of the
  /// other family are skipped.
  std::optional<asio::ip::address> source_address;
  address_preference family = address_preference::ipv6_first;
  /// At most this many hosts tried per domain (Postfix's smtp_mx_session_limit); 0: all.
  std::size_t max_hosts = 0;
  /// Deliver every domain to this host instead of its MX hosts (a relay host: its A/AAAA, or
  /// an IP address), still with source binding and fallback between its addresses.
  std::string relay_host;
  /// Domains delivered at once, each over its own connection; 1: one after another.
  std::size_t parallel_domains = 1;
  /// This host's own names (as they appear in MX records). When one of them is an MX host of
  /// a domain, only more preferred hosts are used (RFC 5321 §5.1: no mail loop); when this
  /// host is the most preferred, the route fails with `errc::mail_loop` (5.4.6).
  std::vector<std::string> local_names;
  routing_observer* observer = nullptr;  ///< Not owned; may be null.
  /// The TLS security level of every destination (docs/transport-security.md); unset: the
  /// session options' `tls` mode and the provider's checks apply unchanged. Levels other than
  /// `none` need `session_options::tls_provider`.
  std::optional<smtpipe::tls_level> tls_level;
  /// Levels of particular recipient domains (lower-case), before `tls_level`.
  std::vector<std::pair<std::string, smtpipe::tls_level>> tls_levels;
  /// MTA-STS (RFC 8461): each domain's policy from this source (`mta_sts_client` of
  /// <smtpipe/routing/mta_sts_fetcher.hpp>); not owned; null: no MTA-STS.
  mta_sts_source* mta_sts = nullptr;
  /// TLS reporting data (RFC 8460): every session counted here per policy domain; not owned.
  smtpipe::tls_report* tls_report = nullptr;
  /// Reuse connections through this pool (not owned; may be null: one connection per domain,
  /// closed with QUIT at its end). Domains with the same MX host set (and source address, TLS
  /// mode, port, TLS level and MTA-STS mode) then share connections, one after another or up
  /// to the pool's limits at once; the pool must outlive the delivery, and be used from one
  /// thread.
  connection_pool* pool = nullptr;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_ROUTE_OPTIONS_HPP
