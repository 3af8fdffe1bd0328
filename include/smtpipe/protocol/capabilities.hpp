// smtpipe/protocol/capabilities.hpp - The service extensions an EHLO or LHLO reply advertises.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_CAPABILITIES_HPP
#define SMTPIPE_PROTOCOL_CAPABILITIES_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/protocol/reply.hpp"
#include "smtpipe/protocol/xtext.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpipe {

/// The extensions of one EHLO (or LHLO) reply (RFC 5321 §4.1.1.1).
///
/// The first line is the server's domain and optional greeting; every further line is an
/// ehlo-keyword (ALPHA / DIGIT, then ALPHA / DIGIT / "-") with optional space-separated
/// parameters. Keywords are matched case-insensitively and stored uppercased; lines whose keyword
/// breaks that grammar are ignored, as is everything in a reply whose code is not 2yz. Unknown
/// keywords are kept. If a keyword repeats, the first line's parameters win, except for AUTH:
/// the mechanisms of every `AUTH a b` line and of the legacy `AUTH=a b` form are merged.
///
/// Capabilities learnt before STARTTLS must be discarded after it (RFC 3207 §4.2): parse the
/// post-TLS EHLO reply into a fresh object.
class capabilities {
 public:
  /// One advertised extension: uppercased keyword and its parameters as sent (spaces trimmed).
  struct entry {
    std::string keyword;
    std::string params;
  };

  capabilities() = default;

  /// Reads the extensions of an EHLO/LHLO reply.
  static capabilities parse(const reply& ehlo) {
    capabilities caps;
    if (ehlo.code < 200 || ehlo.code > 299) return caps;
    bool first = true;
    ehlo.for_each_line([&](std::string_view line) {
      if (first) {
        first = false;
        caps.set_greeting(line);
      } else {
        caps.add_line(line);
      }
    });
    return caps;
  }

  /// The server's domain: the first word of the reply's first line.
  std::string_view domain() const noexcept { return domain_; }
  /// The rest of the first line after the domain (may be empty).
  std::string_view greeting() const noexcept { return greeting_; }

  /// True if `keyword` was advertised (case-insensitive; "AUTH" also for the `AUTH=` form).
  bool has(std::string_view keyword) const noexcept { return find(keyword) != nullptr; }

  /// The parameters of `keyword` ("" if it had none), or nullopt if it was not advertised.
  std::optional<std::string_view> params(std::string_view keyword) const noexcept {
    const entry* e = find(keyword);
    if (e == nullptr) return std::nullopt;
    return std::string_view(e->params);
  }

  /// RFC 1870 SIZE: nullopt if SIZE was not advertised; otherwise the fixed maximum message size
  /// in octets, where 0 means no fixed limit (`SIZE`, `SIZE 0`, or a parameter that is not a
  /// decimal number that fits in 64 bits).
  std::optional<std::uint64_t> size_limit() const noexcept {
    if (!flag(f_size)) return std::nullopt;
    return size_;
  }

  bool pipelining() const noexcept { return flag(f_pipelining); }           ///< RFC 2920
  bool chunking() const noexcept { return flag(f_chunking); }               ///< RFC 3030 BDAT
  bool binarymime() const noexcept { return flag(f_binarymime); }           ///< RFC 3030 BINARYMIME
  bool eightbitmime() const noexcept { return flag(f_8bitmime); }           ///< RFC 6152 8BITMIME
  bool smtputf8() const noexcept { return flag(f_smtputf8); }               ///< RFC 6531
  bool dsn() const noexcept { return flag(f_dsn); }                         ///< RFC 3461
  bool starttls() const noexcept { return flag(f_starttls); }               ///< RFC 3207
  bool enhanced_status_codes() const noexcept { return flag(f_enhanced); }  ///< RFC 2034

  /// True if SASL mechanism `mech` was advertised (case-insensitive).
  bool auth(std::string_view mech) const noexcept {
    for (const auto& m : auth_)
      if (detail::iequals(m, mech)) return true;
    return false;
  }

  /// Advertised SASL mechanisms, uppercased, deduplicated, in order of first appearance. Tokens
  /// that are not valid mechanism names (RFC 4422 §3.1: 1-20 of A-Z 0-9 - _) are dropped.
  const std::vector<std::string>& auth_mechanisms() const noexcept { return auth_; }

  /// Every keyword line, in order, without repeats.
  const std::vector<entry>& entries() const noexcept { return entries_; }

  /// True if nothing was parsed (not even the domain).
  bool empty() const noexcept { return entries_.empty() && domain_.empty() && greeting_.empty(); }

  /// Forgets everything.
  void clear() noexcept {
    entries_.clear();
    auth_.clear();
    domain_.clear();
    greeting_.clear();
    flags_ = 0;
    size_ = 0;
  }

 private:
  enum : std::uint32_t {
    f_pipelining = 1u << 0,
    f_chunking = 1u << 1,
    f_binarymime = 1u << 2,
    f_8bitmime = 1u << 3,
    f_smtputf8 = 1u << 4,
    f_dsn = 1u << 5,
    f_starttls = 1u << 6,
    f_enhanced = 1u << 7,
    f_size = 1u << 8,
  };

  bool flag(std::uint32_t f) const noexcept { return (flags_ & f) != 0; }

  static constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

  static std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
  }

  static bool valid_keyword(std::string_view k) noexcept {
    if (k.empty() || !detail::is_alnum(k[0])) return false;
    for (char c : k)
      if (!detail::is_alnum(c) && c != '-') return false;
    return true;
  }

  static bool valid_mechanism(std::string_view m) noexcept {
    if (m.empty() || m.size() > 20) return false;
    for (char c : m)
      if (!detail::is_alnum(c) && c != '-' && c != '_') return false;
    return true;
  }

  const entry* find(std::string_view keyword) const noexcept {
    for (const auto& e : entries_)
      if (detail::iequals(e.keyword, keyword)) return &e;
    return nullptr;
  }

  void set_greeting(std::string_view line) {
    line = trim(line);
    std::size_t sp = 0;
    while (sp < line.size() && !is_space(line[sp])) ++sp;
    domain_.assign(line.substr(0, sp));
    greeting_.assign(trim(line.substr(sp)));
  }

  void add_mechanisms(std::string_view list) {
    while (!list.empty()) {
      list = trim(list);
      std::size_t n = 0;
      while (n < list.size() && !is_space(list[n])) ++n;
      const std::string_view mech = list.substr(0, n);
      list.remove_prefix(n);
      if (!valid_mechanism(mech) || auth(mech)) continue;
      auth_.emplace_back();
      detail::append_upper(auth_.back(), mech);
    }
  }

  void add_line(std::string_view line) {
    line = trim(line);
    std::size_t n = 0;
    while (n < line.size() && !is_space(line[n])) ++n;
    std::string_view keyword = line.substr(0, n);
    std::string_view params = trim(line.substr(n));
    // Legacy form (before RFC 2554 was final): "AUTH=LOGIN PLAIN".
    if (detail::istarts_with(keyword, "AUTH=")) {
      keyword = keyword.substr(0, 4);
      params = trim(line.substr(5));
    } else if (!valid_keyword(keyword)) {
      return;
    }
    const bool is_auth = detail::iequals(keyword, "AUTH");
    if (is_auth) add_mechanisms(params);
    if (find(keyword) != nullptr) return;
    entries_.emplace_back();
    detail::append_upper(entries_.back().keyword, keyword);
    entries_.back().params.assign(params);
    const std::string_view k = entries_.back().keyword;
    if (k == "PIPELINING") flags_ |= f_pipelining;
    else if (k == "CHUNKING") flags_ |= f_chunking;
    else if (k == "BINARYMIME") flags_ |= f_binarymime;
    else if (k == "8BITMIME") flags_ |= f_8bitmime;
    else if (k == "SMTPUTF8") flags_ |= f_smtputf8;
    else if (k == "DSN") flags_ |= f_dsn;
    else if (k == "STARTTLS") flags_ |= f_starttls;
    else if (k == "ENHANCEDSTATUSCODES") flags_ |= f_enhanced;
    else if (k == "SIZE") {
      flags_ |= f_size;
      size_ = parse_size(params);
    }
  }

  // RFC 1870 size-param is [1*DIGIT]; anything else counts as "no fixed limit" (0).
  static std::uint64_t parse_size(std::string_view p) noexcept {
    std::size_t n = 0;
    while (n < p.size() && !is_space(p[n])) ++n;
    p = p.substr(0, n);
    if (p.empty() || p.size() > 20) return 0;
    std::uint64_t v = 0;
    for (char c : p) {
      if (!detail::is_digit(c)) return 0;
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return 0;
      v = v * 10 + d;
    }
    return v;
  }

  std::vector<entry> entries_;
  std::vector<std::string> auth_;
  std::string domain_;
  std::string greeting_;
  std::uint32_t flags_ = 0;
  std::uint64_t size_ = 0;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_CAPABILITIES_HPP
