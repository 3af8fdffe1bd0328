// smtpipe/protocol/base64.hpp - RFC 4648 base64 encoding and strict decoding (SASL, AUTH).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_BASE64_HPP
#define SMTPIPE_PROTOCOL_BASE64_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace smtpipe {

namespace detail {

inline constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Sextet value of each octet, or -1 outside the standard alphabet ('=' included).
inline constexpr std::array<std::int8_t, 256> base64_values = [] {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(base64_alphabet[i])] = std::int8_t(i);
  return t;
}();

constexpr int base64_value(char c) noexcept { return base64_values[static_cast<unsigned char>(c)]; }

// Number of octets `in` decodes to if it is canonical base64 (RFC 4648 §3.5: length a multiple
// of 4, "=" only as the final one or two octets, unused bits of the last quantum zero), else -1.
constexpr std::ptrdiff_t base64_canonical_size(std::string_view in) noexcept {
  if (in.size() % 4 != 0) return -1;
  if (in.empty()) return 0;
  std::size_t pad = 0;
  if (in[in.size() - 1] == '=') pad = in[in.size() - 2] == '=' ? 2 : 1;
  const std::size_t data = in.size() - pad;
  for (std::size_t i = 0; i < data; ++i)
    if (base64_value(in[i]) < 0) return -1;
  // The last data sextet must carry no bits beyond the final octet.
  if (pad == 1 && (base64_value(in[data - 1]) & 0x03) != 0) return -1;
  if (pad == 2 && (base64_value(in[data - 1]) & 0x0f) != 0) return -1;
  return static_cast<std::ptrdiff_t>(in.size() / 4 * 3 - pad);
}

}  // namespace detail

/// Length of the base64 encoding of `n` octets, padding included.
constexpr std::size_t base64_encoded_size(std::size_t n) noexcept { return (n + 2) / 3 * 4; }

/// True if `in` is canonical padded base64 in the standard alphabet (the empty string is).
constexpr bool is_base64(std::string_view in) noexcept {
  return detail::base64_canonical_size(in) >= 0;
}

/// Appends the base64 encoding of `in` to `out`: standard alphabet, "=" padding, no line breaks.
inline void base64_encode(std::string_view in, std::string& out) {
  const std::size_t base = out.size();
  out.resize(base + base64_encoded_size(in.size()));
  char* p = out.data() + base;
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t n = in.size();
  for (; n >= 3; n -= 3, s += 3) {
    const std::uint32_t v = (std::uint32_t(s[0]) << 16) | (std::uint32_t(s[1]) << 8) | s[2];
    *p++ = detail::base64_alphabet[(v >> 18) & 0x3f];
    *p++ = detail::base64_alphabet[(v >> 12) & 0x3f];
    *p++ = detail::base64_alphabet[(v >> 6) & 0x3f];
    *p++ = detail::base64_alphabet[v & 0x3f];
  }
  if (n > 0) {
    const std::uint32_t v = (std::uint32_t(s[0]) << 16) | (n == 2 ? std::uint32_t(s[1]) << 8 : 0);
    *p++ = detail::base64_alphabet[(v >> 18) & 0x3f];
    *p++ = detail::base64_alphabet[(v >> 12) & 0x3f];
    *p++ = n == 2 ? detail::base64_alphabet[(v >> 6) & 0x3f] : '=';
    *p++ = '=';
  }
}

/// Decodes canonical base64 from `in` and appends the octets to `out`.
///
/// Strict (RFC 4648 §3.3, §3.5): the standard alphabet only, no whitespace or line breaks, length a
/// multiple of 4, padding only at the end, and zero unused bits. Anything else is
/// errc::invalid_base64 and leaves `out` unchanged. The empty string decodes to nothing.
inline std::error_code base64_decode(std::string_view in, std::string& out) {
  const std::ptrdiff_t size = detail::base64_canonical_size(in);
  if (size < 0) return errc::invalid_base64;
  const std::size_t base = out.size();
  out.resize(base + static_cast<std::size_t>(size));
  char* p = out.data() + base;
  char* const end = p + size;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int d = detail::base64_value(in[i + k]);
      v = (v << 6) | std::uint32_t(d < 0 ? 0 : d);  // '=' counts as zero bits
    }
    if (p < end) *p++ = static_cast<char>(v >> 16);
    if (p < end) *p++ = static_cast<char>((v >> 8) & 0xff);
    if (p < end) *p++ = static_cast<char>(v & 0xff);
  }
  return {};
}

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_BASE64_HPP
