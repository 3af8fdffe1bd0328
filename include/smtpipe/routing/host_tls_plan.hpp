// smtpipe/routing/host_tls_plan.hpp - What TLS a connection to one MX host needs: level, DANE.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_HOST_TLS_PLAN_HPP
#define SMTPIPE_ROUTING_HOST_TLS_PLAN_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/routing/dns_resolver.hpp"
#include "smtpipe/routing/mx_host.hpp"
#include "smtpipe/routing/route.hpp"
#include "smtpipe/routing/route_options.hpp"
#include "smtpipe/routing/tls_level.hpp"
#include "smtpipe/session/session_options.hpp"
#include "smtpipe/session/tls_peer_policy.hpp"

#include <asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

/// How a routed connection to one MX host uses TLS, decided before connecting from the
/// destination's `tls_level` and, for the DANE levels, the host's TLSA records.
struct host_tls_plan {
  tls_mode mode = tls_mode::none;  ///< The session's TLS mode for this host.
  /// The provider with this host's checks (`tls_provider::for_peer`); null: the session's.
  std::shared_ptr<tls_provider> provider;
  /// Set when the host must not be used (nothing is sent to it): `errc::tlsa_lookup_failed`,
  /// `errc::dane_required`, `errc::tls_not_available`; `reason` says why.
  std::error_code refuse;
  std::string reason;  ///< Also set when a DANE level found no DANE for the host: why.
  bool dane = false;   ///< Usable TLSA records: the certificate is authenticated by DANE.
  /// With `dane`: the usable records, as "usage selector matching hex" (RFC 6698 §2.2), for
  /// TLS reports (RFC 8460 `policy-string`).
  std::vector<std::string> tlsa;
};

namespace detail {

/// The level of `domain`: its own entry in `o.tls_levels`, else `o.tls_level`.
inline std::optional<tls_level> level_of(const route_options& o, std::string_view domain) {
  for (const auto& [d, l] : o.tls_levels)
    if (d == domain) return l;
  return o.tls_level;
}

inline host_tls_plan plan_with(tls_mode mode, tls_verify verify, std::vector<std::string> names,
                               const session_options& s, std::string server_name = {}) {
  host_tls_plan p;
  p.mode = mode;
  if (mode == tls_mode::none) return p;
  tls_peer_policy policy;
  policy.verify = verify;
  policy.names = std::move(names);
  policy.server_name = std::move(server_name);
  if (s.tls_provider) p.provider = s.tls_provider->for_peer(policy);
  if (!p.provider) {
    p.refuse = make_error_code(errc::tls_not_available);
    p.reason = "the TLS provider cannot apply per-host certificate checks";
  }
  return p;
}

/// RFC 7672 §2.2: DANE applies when the MX RRset and the host's address records are secure;
/// then the TLSA records of `_PORT._tcp.HOST` decide. `port` is the SMTP port used (25 in
/// production; a test port gives its own label).
inline asio::awaitable<host_tls_plan> plan_host_tls(dns_resolver& resolver, tls_level level,
                                                    const route& r, const mx_host& host,
                                                    std::uint16_t port, const session_options& s) {
  switch (level) {
    case tls_level::none: co_return plan_with(tls_mode::none, tls_verify::none, {}, s);
    case tls_level::may:
      co_return plan_with(tls_mode::opportunistic, tls_verify::none, {host.name}, s);
    case tls_level::encrypt:
      co_return plan_with(tls_mode::required, tls_verify::none, {host.name}, s);
    case tls_level::verify:
      co_return plan_with(tls_mode::required, tls_verify::host, {host.name}, s);
    case tls_level::secure:
      // Postfix's smtp_tls_secure_cert_match default, "nexthop, dot-nexthop": the recipient
      // domain or a subdomain of it; the (possibly forged) MX name is not a reference name,
      // but it is the SNI (as Postfix's smtp_tls_servername = hostname).
      co_return plan_with(tls_mode::required, tls_verify::host, {r.domain, "." + r.domain}, s,
                          host.name);
    case tls_level::dane:
    case tls_level::dane_only: break;
  }
  const bool only = level == tls_level::dane_only;
  auto without_dane = [&](std::string why) {
    if (!only) {
      host_tls_plan p = plan_with(tls_mode::opportunistic, tls_verify::none, {host.name}, s);
      if (!p.refuse) p.reason = "no DANE (" + why + "): opportunistic TLS";
      return p;
    }
    host_tls_plan p;
    p.refuse = make_error_code(errc::dane_required);
    p.reason = std::move(why);
    return p;
  };
  if (r.security != dns_security::secure)
    co_return without_dane("the MX records of " + r.domain + " are not DNSSEC-signed");
  if (host.security != dns_security::secure)
    co_return without_dane("the addresses of " + host.name + " are not DNSSEC-signed");
  // RFC 7672 §2.2.2 (RFC 7671 §7): when the MX host name is an alias and its expansion is
  // secure (the address answers are, which libunbound says only when every CNAME of the
  // chain validated), the TLSA records are first looked up at the fully expanded name and,
  // when that name has none, at the original one. An insecure link makes the addresses
  // insecure and DANE does not apply at all (above).
  std::vector<std::string> bases;
  if (!host.canonical_name.empty() && host.canonical_name != host.name)
    bases.push_back(host.canonical_name);
  bases.push_back(host.name);
  host_tls_plan failed;
  failed.refuse = make_error_code(errc::tlsa_lookup_failed);
  std::string base;
  dns_answer answer;
  for (const std::string& candidate : bases) {
    const std::string owner = "_" + std::to_string(port) + "._tcp." + candidate;
    std::pair<std::error_code, dns_answer> outcome = co_await resolver.query(owner, dns_type::tlsa);
    const std::error_code ec = outcome.first;
    if (ec) {
      failed.reason = "TLSA lookup for " + owner + ": " + ec.message();
      co_return failed;
    }
    answer = std::move(outcome.second);
    if (answer.security == dns_security::bogus) {
      failed.reason = "TLSA lookup for " + owner + ": DNSSEC bogus" +
                      (answer.why_bogus.empty() ? "" : ": " + answer.why_bogus);
      co_return failed;
    }
    if (answer.rcode != 0 && !answer.nxdomain) {
      failed.reason =
          "TLSA lookup for " + owner + " failed (rcode " + std::to_string(answer.rcode) + ")";
      co_return failed;
    }
    if (answer.has_data()) {
      base = candidate;
      break;
    }
  }
  if (base.empty()) {
    const std::string where =
        bases.size() > 1 ? host.name + " (nor its alias target " + bases.front() + ")" : host.name;
    co_return without_dane(where + " publishes no TLSA record");
  }
  if (answer.security != dns_security::secure)
    co_return without_dane("the TLSA records of " + base + " are not DNSSEC-signed");
  tls_peer_policy policy;
  policy.verify = tls_verify::none;
  // The TLSA base domain first: it is the SNI (RFC 7672 §8.1); with an alias both names are
  // reference identifiers for DANE-TA (RFC 7672 §3.2.2).
  policy.names = {base};
  if (base != host.name) policy.names.push_back(host.name);
  else if (bases.size() > 1) policy.names.push_back(bases.front());
  policy.tlsa_base = base;
  for (const auto& rdata : answer.records)
    if (auto t = parse_tlsa_record(rdata); t && t->usable_for_smtp())
      policy.tlsa.push_back(std::move(*t));
  // RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) records are unusable for SMTP; a host with
  // only unusable records gets opportunistic TLS as if it had none (§2.2).
  if (policy.tlsa.empty()) co_return without_dane(base + " has no usable TLSA record");
  host_tls_plan p;
  p.mode = tls_mode::required;
  p.dane = true;
  for (const tlsa_record& t : policy.tlsa) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string line = std::to_string(t.usage) + ' ' + std::to_string(t.selector) + ' ' +
                       std::to_string(t.matching) + ' ';
    for (const unsigned char c : t.data) {
      line += hex[c >> 4];
      line += hex[c & 15];
    }
    p.tlsa.push_back(std::move(line));
  }
  if (s.tls_provider) p.provider = s.tls_provider->for_peer(policy);
  if (!p.provider) {
    p.refuse = make_error_code(errc::tls_not_available);
    p.reason = "the TLS provider does not support DANE";
  }
  co_return p;
}

}  // namespace detail
}  // namespace smtpipe

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_ROUTING_HOST_TLS_PLAN_HPP
