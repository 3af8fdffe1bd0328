// smtpipe/routing/tls_level.hpp - TLS security levels of a destination, as Postfix names them.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_TLS_LEVEL_HPP
#define SMTPIPE_ROUTING_TLS_LEVEL_HPP

#include "smtpipe/config.hpp"

#include <optional>
#include <string_view>

namespace smtpipe {

/// How much TLS a routed delivery demands of each MX host (Postfix's smtp_tls_security_level;
/// docs/transport-security.md). A host that cannot meet its level is skipped as a TLS failure
/// and the next one is tried; nothing is ever sent to it.
enum class tls_level {
  none,     ///< No TLS.
  may,      ///< Opportunistic: STARTTLS when offered, certificate not checked, plaintext
            ///< fallback (on a fresh connection) when TLS fails.
  encrypt,  ///< TLS mandatory, certificate not checked.
  /// DANE (RFC 7672) where the MX host publishes usable DNSSEC-signed TLSA records: TLS
  /// mandatory and the certificate authenticated by them; `may` elsewhere. A failed or bogus
  /// TLSA lookup skips the host (transiently), never falls back to plaintext.
  dane,
  dane_only,  ///< As `dane`, but a host without usable TLSA records is not used at all.
  verify,     ///< TLS mandatory, the certificate chain trusted and naming the MX host.
  /// TLS mandatory, the certificate chain trusted and naming the recipient domain or one of
  /// its subdomains (Postfix's "nexthop, dot-nexthop"): not spoofable through the MX records.
  secure,
};

constexpr std::string_view to_string(tls_level l) noexcept {
  switch (l) {
    case tls_level::none: return "none";
    case tls_level::may: return "may";
    case tls_level::encrypt: return "encrypt";
    case tls_level::dane: return "dane";
    case tls_level::dane_only: return "dane-only";
    case tls_level::verify: return "verify";
    case tls_level::secure: return "secure";
  }
  return "none";
}

/// The level named `name` ("none", "may", "encrypt", "dane", "dane-only", "verify", "secure").
constexpr std::optional<tls_level> parse_tls_level(std::string_view name) noexcept {
  for (const tls_level l : {tls_level::none, tls_level::may, tls_level::encrypt, tls_level::dane,
                            tls_level::dane_only, tls_level::verify, tls_level::secure})
    if (to_string(l) == name) return l;
  return std::nullopt;
}

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_TLS_LEVEL_HPP
