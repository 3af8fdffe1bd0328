// smtpipe/protocol/xtext.hpp - RFC 3461 xtext codec and the ASCII helpers shared by protocol/.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_XTEXT_HPP
#define SMTPIPE_PROTOCOL_XTEXT_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace smtpipe {

namespace detail {

// ASCII-only character helpers: never locale dependent, safe on any byte.
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
constexpr bool is_alnum(char c) noexcept { return is_digit(c) || is_alpha(c); }
constexpr char to_upper(char c) noexcept {
  return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
}
// C0 controls and DEL.
constexpr bool is_control(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_upper(a[i]) != to_upper(b[i])) return false;
  return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

inline void append_upper(std::string& out, std::string_view s) {
  const std::size_t base = out.size();
  out.append(s);
  for (std::size_t i = base; i < out.size(); ++i) out[i] = to_upper(out[i]);
}

// Length of the well-formed UTF-8 sequence (RFC 3629 §4: no overlong forms, no surrogates, at
// most U+10FFFF) that starts at s[i], 1 for an ASCII octet, 0 if ill-formed or truncated. Stores
// the code point in `cp`.
constexpr std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) noexcept {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned b0 = at(i);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len = 0;
  unsigned lo = 0x80, hi = 0xbf;  // range of the second octet
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    if (b0 == 0xe0) lo = 0xa0;  // no overlong forms
    if (b0 == 0xed) hi = 0x9f;  // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    if (b0 == 0xf0) lo = 0x90;  // no overlong forms
    if (b0 == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  char32_t v = b0 & (0xff >> (len + 1));
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned b = at(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return 0;
    v = (v << 6) | (b & 0x3f);
  }
  cp = v;
  return len;
}

inline constexpr char upper_hex_digits[] = "0123456789ABCDEF";

// Value of an uppercase hex digit, or -1 (lowercase is not a hexchar in RFC 3461).
constexpr int upper_hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3461 §4: xchar is %d33-126 except "+" and "=".
constexpr bool is_xchar(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u >= 33 && u <= 126 && c != '+' && c != '=';
}

}  // namespace detail

/// Length of `in` once xtext-encoded: one octet per xchar, three per `+HH`.
constexpr std::size_t xtext_encoded_size(std::string_view in) noexcept {
  std::size_t n = in.size();
  for (char c : in)
    if (!detail::is_xchar(c)) n += 2;
  return n;
}

/// Appends `in` to `out` as RFC 3461 xtext: "+", "=" and every octet outside %d33-126 become
/// `+HH` with uppercase hex; every other octet is copied.
inline void xtext_encode(std::string_view in, std::string& out) {
  const std::size_t base = out.size();
  out.resize(base + xtext_encoded_size(in));
  char* p = out.data() + base;
  for (char c : in) {
    if (detail::is_xchar(c)) {
      *p++ = c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      *p++ = '+';
      *p++ = detail::upper_hex_digits[u >> 4];
      *p++ = detail::upper_hex_digits[u & 0x0f];
    }
  }
}

/// Decodes RFC 3461 xtext from `in` and appends the octets to `out`.
///
/// Returns errc::invalid_xtext for an octet outside %d33-126, a raw "=", or a "+" not followed
/// by two uppercase hex digits (RFC 3461 §4 allows only uppercase). On error `out` is unchanged.
inline std::error_code xtext_decode(std::string_view in, std::string& out) {
  const std::size_t base = out.size();
  out.reserve(base + in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (detail::is_xchar(c)) {
      out.push_back(c);
      continue;
    }
    if (c == '+' && i + 2 < in.size()) {
      const int hi = detail::upper_hex_value(in[i + 1]);
      const int lo = detail::upper_hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>((hi << 4) | lo));
        i += 2;
        continue;
      }
    }
    out.resize(base);
    return errc::invalid_xtext;
  }
  return {};
}

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_XTEXT_HPP
