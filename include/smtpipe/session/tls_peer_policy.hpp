// smtpipe/session/tls_peer_policy.hpp - How one peer's certificate is authenticated: PKIX or DANE.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_TLS_PEER_POLICY_HPP
#define SMTPIPE_SESSION_TLS_PEER_POLICY_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/tlsa_record.hpp"

#include <string>
#include <vector>

namespace smtpipe {

enum class tls_verify;

/// The certificate checks for connections to one peer, overriding a provider's own (see
/// `tls_provider::for_peer`). With `tlsa` records the peer is authenticated by DANE (RFC
/// 7671, RFC 7672) and only by them: DANE-EE(3) matches the server's certificate or key and
/// ignores names and validity dates; DANE-TA(2) matches a certificate of the chain the
/// server presents, and the server certificate must then name one of `names`. Without
/// records, `verify` applies (PKIX against the provider's CAs), the name checked being any
/// of `names` (a name starting with "." matches any subdomain of it).
struct tls_peer_policy {
  tls_peer_policy() = default;  // not an aggregate: see docs/architecture.md (g++ 12)

  tls_verify verify{};             ///< PKIX checks when `tlsa` is empty.
  std::vector<std::string> names;  ///< Reference names; the first is also sent as SNI...
  /// ...unless this is set: the name sent as SNI when it is not a reference name (the
  /// `secure` level sends the MX host name and checks the recipient domain). Not with `tlsa`.
  std::string server_name;
  /// DANE: usable TLSA records (callers drop unusable ones: `tlsa_record::usable_for_smtp`).
  std::vector<tlsa_record> tlsa;
  /// The TLSA base domain (RFC 7671 §7: the MX host name after any CNAME); with `tlsa`.
  std::string tlsa_base;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_TLS_PEER_POLICY_HPP
