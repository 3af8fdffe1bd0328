// smtpipe/routing/tls_report.hpp - SMTP TLS reporting data (RFC 8460): counters and the JSON
// report. SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_TLS_REPORT_HPP
#define SMTPIPE_ROUTING_TLS_REPORT_HPP

#include "smtpipe/config.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace smtpipe {

/// The `policy-type` of a TLSRPT policy entry (RFC 8460 §4.4).
enum class tlsrpt_policy_type { sts, tlsa, no_policy_found };

inline std::string_view to_string(tlsrpt_policy_type t) noexcept {
  switch (t) {
    case tlsrpt_policy_type::sts: return "sts";
    case tlsrpt_policy_type::tlsa: return "tlsa";
    case tlsrpt_policy_type::no_policy_found: break;
  }
  return "no-policy-found";
}

/// The `result-type` of a failure (RFC 8460 §4.3).
enum class tlsrpt_result {
  starttls_not_supported,     ///< The MX did not offer (or refused) STARTTLS.
  certificate_host_mismatch,  ///< The certificate does not name the MX host.
  certificate_expired,
  certificate_not_trusted,  ///< No chain to a trusted root (self-signed, unknown CA).
  validation_failure,       ///< Any other failure, e.g. an MX not allowed by the policy.
  sts_policy_fetch_error,   ///< The MTA-STS policy could not be fetched.
  sts_policy_invalid,       ///< The MTA-STS policy did not parse.
  sts_webpki_invalid,       ///< The policy host's certificate did not validate.
  tlsa_invalid,             ///< DANE: the TLSA records were invalid.
  dnssec_invalid,           ///< DANE: the DNSSEC chain did not validate (bogus).
  dane_required,            ///< DANE: usable TLSA records, but no TLS or no match.
};

inline std::string_view to_string(tlsrpt_result r) noexcept {
  switch (r) {
    case tlsrpt_result::starttls_not_supported: return "starttls-not-supported";
    case tlsrpt_result::certificate_host_mismatch: return "certificate-host-mismatch";
    case tlsrpt_result::certificate_expired: return "certificate-expired";
    case tlsrpt_result::certificate_not_trusted: return "certificate-not-trusted";
    case tlsrpt_result::validation_failure: break;
    case tlsrpt_result::sts_policy_fetch_error: return "sts-policy-fetch-error";
    case tlsrpt_result::sts_policy_invalid: return "sts-policy-invalid";
    case tlsrpt_result::sts_webpki_invalid: return "sts-webpki-invalid";
    case tlsrpt_result::tlsa_invalid: return "tlsa-invalid";
    case tlsrpt_result::dnssec_invalid: return "dnssec-invalid";
    case tlsrpt_result::dane_required: return "dane-required";
  }
  return "validation-failure";
}

/// One failed session's details (RFC 8460 §4.4 `failure-details`); empty strings are left out.
struct tlsrpt_failure {
  tlsrpt_result result = tlsrpt_result::validation_failure;
  std::string sending_mta_ip;
  std::string receiving_mx_hostname;
  std::string receiving_mx_helo;
  std::string receiving_ip;
  std::string additional_information;
  std::string failure_reason_code;
};

/// The policy a session was made under (RFC 8460 §4.4 `policy`).
struct tlsrpt_policy {
  tlsrpt_policy_type type = tlsrpt_policy_type::no_policy_found;
  std::string domain;                      ///< `policy-domain`.
  std::vector<std::string> policy_string;  ///< The policy's lines (the TLSA records...).
  std::vector<std::string> mx_host;  ///< MTA-STS: the policy's `mx` patterns; DANE: the MX host.
};

/// Who the report is from and for what period (RFC 8460 §4.4).
struct tlsrpt_meta {
  std::string organization_name;
  std::string contact_info;
  std::string report_id;
  std::chrono::system_clock::time_point start, end;
};

/// Counts successful and failed sessions per policy (domain, type, policy text), with the
/// details of failures aggregated into `failed-session-count`s, and renders the RFC 8460
/// JSON report on request. Not thread-safe: fill it from one executor. Sending the report
/// (to the `rua` of the domain's `_smtp._tls` record) is the host's job.
class tls_report {
 public:
  void success(const tlsrpt_policy& policy) { entry(policy).successes++; }
  void failure(const tlsrpt_policy& policy, const tlsrpt_failure& f) {
    policy_entry& e = entry(policy);
    e.failures++;
    for (auto& d : e.details) {
      if (d.first.result == f.result && d.first.sending_mta_ip == f.sending_mta_ip &&
          d.first.receiving_mx_hostname == f.receiving_mx_hostname &&
          d.first.receiving_mx_helo == f.receiving_mx_helo &&
          d.first.receiving_ip == f.receiving_ip &&
          d.first.additional_information == f.additional_information &&
          d.first.failure_reason_code == f.failure_reason_code) {
        d.second++;
        return;
      }
    }
    e.details.emplace_back(f, 1);
  }

  bool empty() const noexcept { return entries_.empty(); }
  void clear() { entries_.clear(); }

  std::uint64_t successes(std::string_view domain) const {
    std::uint64_t n = 0;
    for (const auto& e : entries_)
      if (e.policy.domain == domain) n += e.successes;
    return n;
  }
  std::uint64_t failures(std::string_view domain) const {
    std::uint64_t n = 0;
    for (const auto& e : entries_)
      if (e.policy.domain == domain) n += e.failures;
    return n;
  }

  /// The report as RFC 8460 §4.4 JSON (one object, no trailing newline).
  std::string json(const tlsrpt_meta& meta) const {
    std::string o = "{\"organization-name\":" + quote(meta.organization_name) +
                    ",\"date-range\":{\"start-datetime\":" + quote(datetime(meta.start)) +
                    ",\"end-datetime\":" + quote(datetime(meta.end)) +
                    "},\"contact-info\":" + quote(meta.contact_info) +
                    ",\"report-id\":" + quote(meta.report_id) + ",\"policies\":[";
    bool first = true;
    for (const auto& e : entries_) {
      if (!first) o += ',';
      first = false;
      o += "{\"policy\":{\"policy-type\":" + quote(to_string(e.policy.type));
      if (e.policy.type != tlsrpt_policy_type::no_policy_found)
        o += ",\"policy-string\":" + list(e.policy.policy_string);
      o += ",\"policy-domain\":" + quote(e.policy.domain);
      if (e.policy.type != tlsrpt_policy_type::no_policy_found)
        o += ",\"mx-host\":" + list(e.policy.mx_host);
      o += "},\"summary\":{\"total-successful-session-count\":" + std::to_string(e.successes) +
           ",\"total-failure-session-count\":" + std::to_string(e.failures) + "}";
      if (!e.details.empty()) {
        o += ",\"failure-details\":[";
        for (std::size_t i = 0; i < e.details.size(); ++i) {
          const tlsrpt_failure& f = e.details[i].first;
          if (i) o += ',';
          o += "{\"result-type\":" + quote(to_string(f.result));
          field(o, "sending-mta-ip", f.sending_mta_ip);
          field(o, "receiving-mx-hostname", f.receiving_mx_hostname);
          field(o, "receiving-mx-helo", f.receiving_mx_helo);
          field(o, "receiving-ip", f.receiving_ip);
          o += ",\"failed-session-count\":" + std::to_string(e.details[i].second);
          field(o, "additional-information", f.additional_information);
          field(o, "failure-reason-code", f.failure_reason_code);
          o += '}';
        }
        o += ']';
      }
      o += '}';
    }
    return o + "]}";
  }

  /// RFC 3339 UTC date-time, e.g. 2016-04-01T00:00:00Z.
  static std::string datetime(std::chrono::system_clock::time_point t) {
    const std::time_t s = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[64];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf, n);
  }

 private:
  struct policy_entry {
    tlsrpt_policy policy;
    std::uint64_t successes = 0, failures = 0;
    std::vector<std::pair<tlsrpt_failure, std::uint64_t>> details;
  };

  policy_entry& entry(const tlsrpt_policy& p) {
    for (auto& e : entries_)
      if (e.policy.type == p.type && e.policy.domain == p.domain &&
          e.policy.policy_string == p.policy_string && e.policy.mx_host == p.mx_host)
        return e;
    entries_.push_back({p, 0, 0, {}});
    return entries_.back();
  }

  static std::string quote(std::string_view s) {
    std::string o = "\"";
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        o += '\\';
        o += char(c);
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        o += buf;
      } else {
        o += char(c);
      }
    }
    return o + '"';
  }
  static std::string list(const std::vector<std::string>& v) {
    std::string o = "[";
    for (std::size_t i = 0; i < v.size(); ++i) o += (i ? "," : "") + quote(v[i]);
    return o + ']';
  }
  static void field(std::string& o, std::string_view name, const std::string& value) {
    if (!value.empty()) o += ",\"" + std::string(name) + "\":" + quote(value);
  }

  std::vector<policy_entry> entries_;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_TLS_REPORT_HPP
