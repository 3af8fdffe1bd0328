// smtpipe/routing/mta_sts_source.hpp - Where routed delivery gets a domain's MTA-STS policy.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_MTA_STS_SOURCE_HPP
#define SMTPIPE_ROUTING_MTA_STS_SOURCE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/routing/dns_resolver.hpp"
#include "smtpipe/routing/mta_sts_policy.hpp"
#include "smtpipe/session/tls_layer.hpp"

#include <asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace smtpipe {

/// What an MTA-STS lookup found for a domain.
struct mta_sts_lookup {
  /// The policy in force (fetched now or still cached); none when the domain has no
  /// `_mta-sts` record, or it has one but no valid policy could be had.
  std::optional<mta_sts_policy> policy;
  bool txt_found = false;   ///< The domain publishes a valid `_mta-sts` TXT record.
  bool from_cache = false;  ///< `policy` came from the cache (no HTTPS fetch this time).
  /// Set when the TXT record promised a policy that could not be used:
  /// `errc::mta_sts_fetch_failed` (TLSRPT `sts-policy-fetch-error`) or
  /// `errc::mta_sts_policy_invalid` (`sts-policy-invalid`); with a cached policy still
  /// valid, `policy` is that one (RFC 8461 §5.1).
  std::error_code error;
  std::string reason;  ///< Human-readable detail of `error`.
  /// The fetch failed because the policy host's certificate did not validate
  /// (TLSRPT `sts-webpki-invalid`).
  bool webpki_invalid = false;
};

/// The source of MTA-STS policies used by `deliver_routed` (route_options::mta_sts).
/// `mta_sts_client` (<smtpipe/routing/mta_sts_fetcher.hpp>, needs libcurl) is the real one:
/// DNS through the delivery's own resolver, HTTPS with libcurl, a cache. Lookups run on the
/// delivery's executor and must not block it.
class mta_sts_source {
 public:
  virtual ~mta_sts_source() = default;
  virtual asio::awaitable<mta_sts_lookup> lookup(dns_resolver& resolver, std::string domain) = 0;

  /// The TLS provider used for hosts of a policy in enforce (or testing) mode: it must verify
  /// the certificate's chain and host name (PKIX, `tls_verify::host`). Null: the session's own
  /// provider, which then must be configured so.
  std::shared_ptr<tls_provider> pkix_tls;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_MTA_STS_SOURCE_HPP
