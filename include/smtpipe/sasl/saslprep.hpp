// smtpipe/sasl/saslprep.hpp - SASLprep (RFC 4013), for the ASCII and Latin-1 subset.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SASL_SASLPREP_HPP
#define SMTPIPE_SASL_SASLPREP_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace smtpipe {

namespace detail {

// Decodes one UTF-8 scalar value at in[i] and advances i; -1 for anything that is not
// well-formed UTF-8 (overlong forms, surrogates, values above U+10FFFF, truncation).
constexpr std::int32_t utf8_next(std::string_view in, std::size_t& i) noexcept {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(in[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) {
    ++i;
    return c;
  }
  std::size_t n = 0;  // continuation octets
  std::int32_t cp = 0;
  std::int32_t min = 0;  // the smallest value of this length: shorter forms are overlong
  if (c >= 0xc2 && c <= 0xdf) {
    n = 1;
    cp = c & 0x1f;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 2;
    cp = c & 0x0f;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 3;
    cp = c & 0x07;
    min = 0x10000;
  } else {
    return -1;
  }
  if (in.size() - i - 1 < n) return -1;
  for (std::size_t k = 1; k <= n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  i += n + 1;
  return cp;
}

// RFC 3454 table B.1, "commonly mapped to nothing".
constexpr bool saslprep_maps_to_nothing(std::int32_t cp) noexcept {
  switch (cp) {
    case 0x00ad:
    case 0x034f:
    case 0x1806:
    case 0x180b:
    case 0x180c:
    case 0x180d:
    case 0x200b:
    case 0x200c:
    case 0x200d:
    case 0x2060:
    case 0xfeff: return true;
    default: return cp >= 0xfe00 && cp <= 0xfe0f;
  }
}

// RFC 3454 table C.1.2, non-ASCII space characters (U+200B is also in B.1, which wins here).
constexpr bool saslprep_is_non_ascii_space(std::int32_t cp) noexcept {
  switch (cp) {
    case 0x00a0:
    case 0x1680:
    case 0x202f:
    case 0x205f:
    case 0x3000: return true;
    default: return cp >= 0x2000 && cp <= 0x200a;
  }
}

}  // namespace detail

/// Appends the SASLprep (RFC 4013, stringprep profile of RFC 3454) form of the UTF-8 string
/// `in` to `out`, for the subset of Unicode that needs no normalisation tables.
///
/// - Mapping (RFC 4013 §2.1): non-ASCII spaces (table C.1.2) become U+0020; the characters
///   "commonly mapped to nothing" (table B.1: soft hyphen, zero-width joiners, variation
///   selectors, ...) are dropped. U+200B is in both tables; it is dropped.
/// - Normalisation (NFKC, §2.2): implemented exactly for what remains in U+0000..U+00FF:
///   ASCII and the Latin-1 letters and symbols are unchanged by NFKC, and the superscripts
///   U+00AA, U+00BA, U+00B9, U+00B2, U+00B3 become "a", "o", "1", "2", "3". The other Latin-1
///   compatibility characters (U+00A8, U+00AF, U+00B4, U+00B5, U+00B8, U+00BC..U+00BE) and
///   every code point above U+00FF left after mapping are refused: their NFKC form, the
///   prohibited-output (§2.3) and bidirectional (§2.4) checks would need Unicode tables smtpipe
///   does not carry. Refusing is safe: the server would compute a different key otherwise.
/// - Prohibited output (§2.3) in that range: ASCII and C1 control characters are refused.
///
/// Refusals, and input that is not well-formed UTF-8, are errc::invalid_argument and leave
/// `out` as it was (any partial output is overwritten with zeros first, as `in` may be a
/// password). The output is never longer than the input.
inline std::error_code saslprep(std::string_view in, std::string& out) {
  const std::size_t base = out.size();
  out.reserve(base + in.size());  // the output never grows past this: no reallocation
  const auto refuse = [&]() -> std::error_code {
    for (std::size_t k = base; k < out.size(); ++k) static_cast<volatile char&>(out[k]) = 0;
    out.resize(base);
    return errc::invalid_argument;
  };
  for (std::size_t i = 0; i < in.size();) {
    const std::size_t start = i;
    const std::int32_t cp = detail::utf8_next(in, i);
    if (cp < 0) return refuse();
    if (detail::saslprep_maps_to_nothing(cp)) continue;
    if (detail::saslprep_is_non_ascii_space(cp)) {
      out += ' ';
      continue;
    }
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return refuse();  // C.2.1, C.2.2
    switch (cp) {
      case 0xaa: out += 'a'; continue;  // NFKC: <super> a
      case 0xba: out += 'o'; continue;
      case 0xb9: out += '1'; continue;
      case 0xb2: out += '2'; continue;
      case 0xb3: out += '3'; continue;
      case 0xa8:
      case 0xaf:
      case 0xb4:
      case 0xb5:
      case 0xb8:
      case 0xbc:
      case 0xbd:
      case 0xbe: return refuse();  // compatibility decompositions outside Latin-1
      default: break;
    }
    if (cp > 0xff) return refuse();
    out.append(in.substr(start, i - start));  // ASCII or Latin-1: unchanged by NFKC
  }
  return {};
}

}  // namespace smtpipe

#endif  // !SMTPIPE_SASL_SASLPREP_HPP
