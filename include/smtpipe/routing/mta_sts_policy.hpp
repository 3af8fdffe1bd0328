// smtpipe/routing/mta_sts_policy.hpp - MTA-STS policies (RFC 8461): strict parsing, MX matching.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_MTA_STS_POLICY_HPP
#define SMTPIPE_ROUTING_MTA_STS_POLICY_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace smtpipe {

/// The `mode` of an MTA-STS policy (RFC 8461 §3.2).
enum class mta_sts_mode {
  none,     ///< The domain has no active policy.
  testing,  ///< Failures are reported (TLSRPT) but delivery proceeds as without a policy.
  enforce,  ///< Only matching MX hosts, only over TLS with a PKIX-valid certificate.
};

inline std::string_view to_string(mta_sts_mode m) noexcept {
  switch (m) {
    case mta_sts_mode::testing: return "testing";
    case mta_sts_mode::enforce: return "enforce";
    case mta_sts_mode::none: break;
  }
  return "none";
}

/// A parsed policy: what `.well-known/mta-sts.txt` said, plus the TXT `id` it was fetched for.
struct mta_sts_policy {
  mta_sts_mode mode = mta_sts_mode::none;
  std::vector<std::string> mx;  ///< Patterns, lower-case, without a trailing dot.
  std::uint32_t max_age = 0;    ///< Seconds the policy may be cached (at most 31557600).
  std::string id;               ///< The `id` of the TXT record this policy belongs to.
  std::string text;             ///< The policy as served (TLSRPT's `policy-string` lines).
};

/// The largest `max_age` RFC 8461 §3.2 allows (about one year).
inline constexpr std::uint32_t mta_sts_max_age_limit = 31557600;

namespace detail {

inline char sts_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }
inline bool sts_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
inline bool sts_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

inline std::string sts_domain_lower(std::string_view d) {
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  std::string out;
  out.reserve(d.size());
  for (char c : d) out += sts_lower(c);
  return out;
}

/// A domain as RFC 5321's `Domain`: dot-separated labels of letters, digits and inner hyphens.
inline bool sts_valid_domain(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = d.find('.', start);
    const std::string_view label =
        d.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label)
      if (!sts_alnum(c) && c != '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace detail

/// Parses a policy body strictly (RFC 8461 §3.2): lines ending in LF or CRLF, `key: value`;
/// `version: STSv1`, `mode` (enforce, testing, none) and `max_age` (1 to 10 digits, at most
/// 31557600) exactly once each; `mx` at least once unless the mode is none, each
/// `["*."] Domain`. Unknown keys (extension fields) are ignored if well-formed. Anything else
/// (a missing or repeated field, a bad value, a line without a colon, NUL or control
/// characters) is `errc::mta_sts_policy_invalid`, with `why` saying what.
inline std::error_code parse_mta_sts_policy(std::string_view body, mta_sts_policy& out,
                                            std::string* why = nullptr) {
  auto fail = [&](std::string text) {
    if (why) *why = std::move(text);
    return make_error_code(errc::mta_sts_policy_invalid);
  };
  mta_sts_policy p;
  p.text = std::string(body);
  bool version = false, mode = false, max_age = false;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find('\n', pos);
    std::string_view line =
        body.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? body.size() : end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      // Only a final line terminator (or trailing blank lines) may leave an empty line.
      if (body.substr(pos).find_first_not_of("\r\n") != std::string_view::npos)
        return fail("an empty line inside the policy");
      break;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return fail("a line is not 'key: value': " + std::string(line.substr(0, 80)));
    const std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && detail::sts_wsp(value.front())) value.remove_prefix(1);
    while (!value.empty() && detail::sts_wsp(value.back())) value.remove_suffix(1);
    // Field names: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
    if (key.size() > 32 || !detail::sts_alnum(key.front())) return fail("bad field name");
    for (char c : key)
      if (!detail::sts_alnum(c) && c != '_' && c != '-' && c != '.') return fail("bad field name");
    if (value.empty()) return fail("field '" + std::string(key) + "' has no value");
    for (char c : value)
      if (static_cast<unsigned char>(c) < 0x20 && !detail::sts_wsp(c))
        return fail("a control character in a value");
    if (key == "version") {
      if (version) return fail("version given twice");
      if (value != "STSv1") return fail("version is not STSv1");
      version = true;
    } else if (key == "mode") {
      if (mode) return fail("mode given twice");
      if (value == "enforce") p.mode = mta_sts_mode::enforce;
      else if (value == "testing") p.mode = mta_sts_mode::testing;
      else if (value == "none") p.mode = mta_sts_mode::none;
      else return fail("unknown mode '" + std::string(value) + "'");
      mode = true;
    } else if (key == "max_age") {
      if (max_age) return fail("max_age given twice");
      if (value.size() > 10) return fail("max_age has more than 10 digits");
      std::uint64_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return fail("max_age is not a number");
        n = n * 10 + std::uint64_t(c - '0');
      }
      if (n > mta_sts_max_age_limit) return fail("max_age is over 31557600");
      p.max_age = static_cast<std::uint32_t>(n);
      max_age = true;
    } else if (key == "mx") {
      std::string_view domain = value;
      if (domain.substr(0, 2) == "*.") domain.remove_prefix(2);
      if (!detail::sts_valid_domain(domain))
        return fail("mx pattern '" + std::string(value) + "' is not a domain");
      p.mx.push_back(detail::sts_domain_lower(value));
    } else {
      // An extension: its value is printable ASCII without ';' '=' (RFC 8461 §3.2).
      for (char c : value)
        if (!detail::sts_wsp(c) && (c < 0x21 || c > 0x7e || c == ';' || c == '='))
          return fail("extension field '" + std::string(key) + "' has a bad value");
    }
  }
  if (!version) return fail("no version field");
  if (!mode) return fail("no mode field");
  if (!max_age) return fail("no max_age field");
  if (p.mx.empty() && p.mode != mta_sts_mode::none) return fail("no mx field");
  out = std::move(p);
  return {};
}

/// Whether `host` (an MX host name) matches `pattern` (RFC 8461 §4.1): equal ignoring case and
/// a trailing dot, or `*.rest` where `host` is one more label followed by `.rest`.
inline bool mta_sts_mx_matches(std::string_view pattern, std::string_view host) {
  const std::string p = detail::sts_domain_lower(pattern);
  const std::string h = detail::sts_domain_lower(host);
  if (p.size() > 2 && p[0] == '*' && p[1] == '.') {
    const std::size_t dot = h.find('.');
    return dot != std::string::npos && dot > 0 && h.substr(dot + 1) == p.substr(2);
  }
  return p == h;
}

/// Whether `host` matches one of the policy's `mx` patterns.
inline bool mta_sts_mx_allowed(const mta_sts_policy& policy, std::string_view host) {
  for (const auto& p : policy.mx)
    if (mta_sts_mx_matches(p, host)) return true;
  return false;
}

/// Parses the `_mta-sts` TXT record's text (RFC 8461 §3.1): `v=STSv1` first, then `id=` 1 to 32
/// letters or digits; fields separated by `;` with optional spaces; unknown fields ignored.
/// Returns the id, or nothing when the record is not a valid STSv1 record.
inline std::optional<std::string> parse_mta_sts_txt(std::string_view txt) {
  std::optional<std::string> id;
  bool first = true;
  std::size_t pos = 0;
  while (pos <= txt.size()) {
    std::size_t end = txt.find(';', pos);
    std::string_view field =
        txt.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? txt.size() + 1 : end + 1;
    while (!field.empty() && detail::sts_wsp(field.front())) field.remove_prefix(1);
    while (!field.empty() && detail::sts_wsp(field.back())) field.remove_suffix(1);
    if (first) {
      if (field != "v=STSv1") return std::nullopt;
      first = false;
      continue;
    }
    if (field.empty()) {
      if (pos > txt.size()) break;  // a trailing ';'
      return std::nullopt;
    }
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    const std::string_view key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "id") {
      if (id || value.empty() || value.size() > 32) return std::nullopt;
      for (char c : value)
        if (!detail::sts_alnum(c)) return std::nullopt;
      id = std::string(value);
    }
  }
  return id;
}

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_MTA_STS_POLICY_HPP
