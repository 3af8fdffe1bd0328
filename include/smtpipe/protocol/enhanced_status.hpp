// smtpipe/protocol/enhanced_status.hpp - RFC 3463 enhanced status codes ("5.1.1") and their parser.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_ENHANCED_STATUS_HPP
#define SMTPIPE_PROTOCOL_ENHANCED_STATUS_HPP

#include "smtpipe/config.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace smtpipe {

/// An RFC 3463 status code `class.subject.detail`; `cls == 0` means "none".
struct enhanced_status {
  std::uint8_t cls = 0;       ///< 2, 4 or 5; 0 when absent.
  std::uint16_t subject = 0;  ///< 0-999.
  std::uint16_t detail = 0;   ///< 0-999.

  /// True if a code is present.
  constexpr bool present() const noexcept { return cls != 0; }

  /// "5.1.1", or "" when absent.
  std::string to_string() const {
    std::string s;
    if (!present()) return s;
    s.reserve(11);
    s += static_cast<char>('0' + cls % 10);
    s += '.';
    s += std::to_string(subject);
    s += '.';
    s += std::to_string(detail);
    return s;
  }

  friend constexpr bool operator==(const enhanced_status&, const enhanced_status&) = default;
};

/// Parses an enhanced status code at the start of `text` (RFC 3463 §2: class "." subject "."
/// detail, class 2, 4 or 5, subject and detail 1 to 3 digits) that is followed by SP or the end
/// of `text`.
///
/// Returns the number of characters consumed, the code plus ONE following space, and fills
/// `out`; returns 0 and leaves `out` alone if `text` does not start with such a code.
constexpr std::size_t parse_enhanced_status(std::string_view text, enhanced_status& out) noexcept {
  if (text.size() < 5) return 0;
  const char c = text[0];
  if ((c != '2' && c != '4' && c != '5') || text[1] != '.') return 0;
  std::size_t i = 2;
  std::uint16_t parts[2] = {0, 0};
  for (int part = 0; part < 2; ++part) {
    std::size_t digits = 0;
    std::uint16_t v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 4) {
      v = static_cast<std::uint16_t>(v * 10 + (text[i] - '0'));
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 3) return 0;
    parts[part] = v;
    if (part == 0) {
      if (i >= text.size() || text[i] != '.') return 0;
      ++i;
    }
  }
  if (i < text.size()) {
    if (text[i] != ' ') return 0;
    ++i;
  }
  out.cls = static_cast<std::uint8_t>(c - '0');
  out.subject = parts[0];
  out.detail = parts[1];
  return i;
}

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_ENHANCED_STATUS_HPP
