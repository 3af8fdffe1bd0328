// smtpipe/protocol/address.hpp - Validation of mailboxes and domains before they reach the wire.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_ADDRESS_HPP
#define SMTPIPE_PROTOCOL_ADDRESS_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"
#include "smtpipe/protocol/xtext.hpp"

#include <cstddef>
#include <string_view>
#include <system_error>

namespace smtpipe {

/// RFC 5321 §4.5.3.1 size limits, in octets.
inline constexpr std::size_t max_local_part = 64;
inline constexpr std::size_t max_domain = 255;
inline constexpr std::size_t max_path = 256;  ///< Including the angle brackets.

namespace detail {

enum class domain_check { ok, invalid, too_long };

// RFC 5321 §4.1.2 atext (RFC 5322 §3.2.3).
constexpr bool is_atext(char c) noexcept {
  if (is_alnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~': return true;
    default: return false;
  }
}

constexpr bool is_non_ascii(char c) noexcept { return static_cast<unsigned char>(c) >= 0x80; }

constexpr bool has_control(std::string_view s) noexcept {
  for (char c : s)
    if (is_control(c)) return true;
  return false;
}

constexpr bool has_non_ascii(std::string_view s) noexcept {
  for (char c : s)
    if (is_non_ascii(c)) return true;
  return false;
}

constexpr bool is_utf8(std::string_view s) noexcept {
  char32_t cp = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// IPv4-address-literal (without brackets): four Snum, each 1-3 digits worth 0-255.
constexpr bool is_ipv4_literal(std::string_view s) noexcept {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t digits = 0;
    int v = 0;
    while (i < s.size() && is_digit(s[i]) && digits < 4) {
      v = v * 10 + (s[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 3 || v > 255) return false;
    if (++parts == 4) return i == s.size();
    if (i >= s.size() || s[i] != '.') return false;
    ++i;
  }
}

// Number of ":"-separated groups of 1-4 hex digits in `s` (0 if empty), or -1.
constexpr int ipv6_hex_groups(std::string_view s) noexcept {
  if (s.empty()) return 0;
  int groups = 0;
  std::size_t run = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ':') {
      if (run == 0 || run > 4) return -1;
      ++groups;
      run = 0;
    } else {
      const char c = s[i];
      const bool hex = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex) return -1;
      ++run;
    }
  }
  return groups;
}

// RFC 5321 §4.1.3 IPv6-addr (after "IPv6:"): full, compressed, and both with an IPv4 tail.
constexpr bool is_ipv6_literal(std::string_view s) noexcept {
  const auto last_colon = s.rfind(':');
  if (last_colon == std::string_view::npos) return false;
  std::string_view head = s;
  int max_groups = 8;
  if (s.substr(last_colon + 1).find('.') != std::string_view::npos) {
    if (!is_ipv4_literal(s.substr(last_colon + 1))) return false;
    max_groups = 6;
    head = s.substr(0, last_colon + 1);
    // Drop the ':' before the IPv4 part unless it belongs to "::".
    if (head.size() < 2 || head.substr(head.size() - 2) != "::") head.remove_suffix(1);
  }
  const auto dc = head.find("::");
  if (dc == std::string_view::npos) return ipv6_hex_groups(head) == max_groups;
  if (head.find("::", dc + 1) != std::string_view::npos) return false;
  const int left = ipv6_hex_groups(head.substr(0, dc));
  const int right = ipv6_hex_groups(head.substr(dc + 2));
  // "::" stands for at least two groups of zeros.
  return left >= 0 && right >= 0 && left + right <= max_groups - 2;
}

// An address literal with its brackets: IPv4 or "IPv6:" (General-address-literal is refused:
// no other tag is registered).
constexpr bool is_address_literal(std::string_view s) noexcept {
  if (s.size() < 3 || s.front() != '[' || s.back() != ']') return false;
  s = s.substr(1, s.size() - 2);
  if (istarts_with(s, "IPv6:")) return is_ipv6_literal(s.substr(5));
  return is_ipv4_literal(s);
}

// RFC 5321 Domain (sub-domain *("." sub-domain), LDH labels without leading or trailing "-",
// no trailing dot) or address literal; with `utf8`, U-labels (RFC 6531) may hold UTF-8.
// Assumes no control octets.
constexpr domain_check check_domain(std::string_view d, bool utf8) noexcept {
  if (d.size() > max_domain) return domain_check::too_long;
  if (d.empty()) return domain_check::invalid;
  if (d.front() == '[') return is_address_literal(d) ? domain_check::ok : domain_check::invalid;
  if (utf8 && !is_utf8(d)) return domain_check::invalid;
  std::size_t start = 0;
  while (true) {
    std::size_t end = start;
    bool ascii = true;
    while (end < d.size() && d[end] != '.') {
      const char c = d[end];
      if (is_non_ascii(c)) {
        if (!utf8) return domain_check::invalid;
        ascii = false;
      } else if (!is_alnum(c) && c != '-') {
        return domain_check::invalid;
      }
      ++end;
    }
    const std::size_t len = end - start;
    if (len == 0 || d[start] == '-' || d[end - 1] == '-') return domain_check::invalid;
    if (ascii && len > 63) return domain_check::invalid;  // RFC 1035 §2.3.4
    if (end == d.size()) return domain_check::ok;
    start = end + 1;
  }
}

}  // namespace detail

/// True if `s` holds any octet >= 0x80, i.e. it can only be sent with SMTPUTF8 (RFC 6531).
constexpr bool needs_smtputf8(std::string_view s) noexcept { return detail::has_non_ascii(s); }

/// True if `s` is the special recipient "Postmaster" without a domain (case-insensitive,
/// RFC 5321 §4.1.1.3).
constexpr bool is_postmaster(std::string_view s) noexcept {
  return detail::iequals(s, "Postmaster");
}

/// Checks that `address` (bare, without angle brackets) is an RFC 5321 Mailbox:
/// `Local-part "@" ( Domain / address-literal )`.
///
/// The local part is a dot-string of atext or a quoted-string (qtextSMTP, quoted-pairSMTP
/// %d92 %d32-126); the domain has LDH labels, or is `[1.2.3.4]` or `[IPv6:...]`. With
/// `allow_utf8` (SMTPUTF8 in use), UTF-8 is allowed in atoms, quoted text and U-labels (RFC 6531
/// §3.3) and must be well-formed. The check runs on the octets that will be sent.
///
/// Errors, in the order they are checked: errc::control_character_in_argument for any C0 control
/// or DEL (quoted parts included); errc::address_needs_smtputf8 for an octet >= 0x80 without
/// `allow_utf8`; errc::local_part_too_long (> 64); errc::domain_too_long (> 255);
/// errc::path_too_long if the path with its angle brackets exceeds 256 octets;
/// errc::invalid_address for anything else (no "@", empty parts, "<", ">", an unquoted space,
/// ill-formed UTF-8...). A malformed quoted string is reported before the lengths.
inline std::error_code validate_mailbox(std::string_view address, bool allow_utf8) noexcept {
  using detail::is_non_ascii;
  if (address.empty()) return errc::invalid_address;
  if (detail::has_control(address)) return errc::control_character_in_argument;
  if (!allow_utf8 && detail::has_non_ascii(address)) return errc::address_needs_smtputf8;
  if (allow_utf8 && !detail::is_utf8(address)) return errc::invalid_address;

  // Find the '@' that ends the local part; a quoted string is checked on the way.
  std::size_t at = 0;
  const bool quoted = address.front() == '"';
  if (quoted) {
    std::size_t i = 1;
    for (;; ++i) {
      if (i >= address.size()) return errc::invalid_address;
      const char c = address[i];
      if (c == '"') break;
      // quoted-pairSMTP: backslash and one octet of %d32-126. Other octets are qtextSMTP
      // (%d32-33 / %d35-91 / %d93-126, or UTF-8 with allow_utf8): controls were refused above.
      if (c == '\\' && (++i >= address.size() || is_non_ascii(address[i]))) {
        return errc::invalid_address;
      }
    }
    if (i == 1) return errc::invalid_address;  // "" is an empty local part
    at = i + 1;
    if (at < address.size() && address[at] != '@') return errc::invalid_address;
  } else {
    at = address.find('@');
  }
  if (at == std::string_view::npos || at >= address.size()) return errc::invalid_address;

  // Lengths, the most specific first (RFC 5321 §4.5.3.1.1-3).
  if (at > max_local_part) return errc::local_part_too_long;
  const std::string_view domain = address.substr(at + 1);
  if (domain.size() > max_domain) return errc::domain_too_long;
  if (address.size() + 2 > max_path) return errc::path_too_long;

  if (!quoted) {
    // Dot-string: atoms of atext (or UTF-8 with allow_utf8) separated by single dots.
    bool after_dot = true;
    for (std::size_t i = 0; i < at; ++i) {
      const char c = address[i];
      if (c == '.') {
        if (after_dot) return errc::invalid_address;
        after_dot = true;
      } else if (detail::is_atext(c) || (allow_utf8 && is_non_ascii(c))) {
        after_dot = false;
      } else {
        return errc::invalid_address;
      }
    }
    if (after_dot) return errc::invalid_address;  // empty, or a trailing dot
  }
  if (detail::check_domain(domain, allow_utf8) != detail::domain_check::ok) {
    return errc::invalid_address;
  }
  return {};
}

/// Checks an EHLO/HELO/LHLO argument: a Domain or an address literal (RFC 5321 §4.1.1.1), with
/// UTF-8 U-labels only when `allow_utf8`.
///
/// Errors: errc::control_character_in_argument (any C0 control or DEL), errc::domain_too_long
/// (> 255 octets), errc::invalid_domain otherwise (empty, spaces, non-ASCII without
/// `allow_utf8`, bad labels or literal).
inline std::error_code validate_domain(std::string_view domain_or_literal,
                                       bool allow_utf8) noexcept {
  if (detail::has_control(domain_or_literal)) return errc::control_character_in_argument;
  switch (detail::check_domain(domain_or_literal, allow_utf8)) {
    case detail::domain_check::ok: return {};
    case detail::domain_check::too_long: return errc::domain_too_long;
    case detail::domain_check::invalid: break;
  }
  return errc::invalid_domain;
}

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_ADDRESS_HPP
