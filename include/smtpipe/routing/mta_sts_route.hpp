// smtpipe/routing/mta_sts_route.hpp - How routed delivery applies MTA-STS and records TLSRPT data.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_MTA_STS_ROUTE_HPP
#define SMTPIPE_ROUTING_MTA_STS_ROUTE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/routing/mta_sts_policy.hpp"
#include "smtpipe/routing/mta_sts_source.hpp"
#include "smtpipe/routing/tls_report.hpp"
#include "smtpipe/session/result.hpp"
#include "smtpipe/session/tls_layer.hpp"

#include <asio/ip/address.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace smtpipe {

namespace detail {

/// The TLSRPT `policy` entry for a domain: its MTA-STS policy (the policy text's lines, its
/// `mx` patterns), or no-policy-found.
inline tlsrpt_policy sts_report_policy(const std::string& domain,
                                       const std::optional<mta_sts_policy>& policy) {
  tlsrpt_policy p;
  p.domain = domain;
  if (!policy) return p;
  p.type = tlsrpt_policy_type::sts;
  p.mx_host = policy->mx;
  std::string_view text = policy->text;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) p.policy_string.emplace_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return p;
}

/// The TLSRPT result type of a lookup that could not give the policy its TXT record promised.
inline tlsrpt_result sts_lookup_failure(const mta_sts_lookup& l) {
  if (l.error == errc::mta_sts_policy_invalid) return tlsrpt_result::sts_policy_invalid;
  return l.webpki_invalid ? tlsrpt_result::sts_webpki_invalid
                          : tlsrpt_result::sts_policy_fetch_error;
}

/// Why TLS failed on a session, as a TLSRPT result type: from OpenSSL's verification text
/// when the certificate was rejected, else STARTTLS missing or refused, else a handshake
/// failure.
inline tlsrpt_result tls_failure_type(const tls_status& tls, std::error_code why) {
  const std::string& v = tls.verify_result;
  if (why == errc::tls_certificate_rejected || (!v.empty() && v != "ok")) {
    if (v.find("expired") != std::string::npos) return tlsrpt_result::certificate_expired;
    if (v.find("mismatch") != std::string::npos) return tlsrpt_result::certificate_host_mismatch;
    return tlsrpt_result::certificate_not_trusted;
  }
  if (why == errc::starttls_refused || why == errc::tls_not_available || !tls.active)
    return tlsrpt_result::starttls_not_supported;
  return tlsrpt_result::validation_failure;
}

inline bool is_tls_error(std::error_code e) {
  return e == errc::tls_handshake_failed || e == errc::tls_certificate_rejected ||
         e == errc::starttls_refused || e == errc::tls_not_available ||
         e == errc::tls_plaintext_injection;
}

/// Counts one session in `report`: a success when TLS was negotiated (and, where a policy
/// asks for it, the certificate verified for the MX host), else a failure with its details.
/// `handshake` is the TLS outcome of the first connection (before any plaintext fallback).
/// A session that ended before any TLS question for another reason (a 4xx greeting, no
/// answer) is not counted.
inline void report_session(tls_report& report, const tlsrpt_policy& policy, bool pkix_required,
                           const tls_status& handshake, const session_result& result,
                           bool undecided, const std::string& host, const std::string& address,
                           const std::optional<asio::ip::address>& source) {
  std::error_code why = result.tls_fallback_reason;
  if (!why) why = result.error;
  for (const auto& m : result.messages)
    for (const auto& r : m.recipients)
      if (!why && is_tls_error(r.error)) why = r.error;
  if (undecided && !is_tls_error(why)) return;
  if (handshake.active && (!pkix_required || handshake.verified)) {
    report.success(policy);
    return;
  }
  tlsrpt_failure f;
  f.result = handshake.active ? tls_failure_type(handshake, errc::tls_certificate_rejected)
                              : tls_failure_type(handshake, why);
  f.receiving_mx_hostname = host;
  f.receiving_ip = address;
  if (source) f.sending_mta_ip = source->to_string();
  f.additional_information = !handshake.verify_result.empty() && handshake.verify_result != "ok"
                                 ? handshake.verify_result
                             : why ? why.message()
                                   : std::string("no TLS");
  report.failure(policy, f);
}

}  // namespace detail

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_MTA_STS_ROUTE_HPP
