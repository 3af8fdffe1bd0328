// smtpipe/protocol/disposition.hpp - What a reply code means for the caller (RFC 5321 §4.2.1).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_DISPOSITION_HPP
#define SMTPIPE_PROTOCOL_DISPOSITION_HPP

#include "smtpipe/config.hpp"

#include <cstdint>
#include <string_view>

namespace smtpipe {

/// The outcome a reply code stands for: go on, retry later, or give up.
enum class disposition {
  positive,   ///< 2yz and 3yz: the command was accepted (or more input is expected).
  transient,  ///< 4yz: temporary failure, the same request may succeed later.
  permanent,  ///< 5yz, and every code outside 200-599: do not retry as is.
};

/// The disposition of reply code `code` (a malformed code counts as a permanent failure).
constexpr disposition disposition_of(int code) noexcept {
  if (code >= 200 && code < 400) return disposition::positive;
  if (code >= 400 && code < 500) return disposition::transient;
  return disposition::permanent;
}

/// "positive", "transient" or "permanent".
constexpr std::string_view to_string(disposition d) noexcept {
  switch (d) {
    case disposition::positive: return "positive";
    case disposition::transient: return "transient";
    case disposition::permanent: return "permanent";
  }
  return "permanent";
}

/// The first digit of a reply code (RFC 5321 §4.2.1).
enum class reply_class : std::uint8_t {
  positive_completion = 2,    ///< 2yz
  positive_intermediate = 3,  ///< 3yz, e.g. 354 after DATA, 334 during AUTH
  transient_negative = 4,     ///< 4yz
  permanent_negative = 5,     ///< 5yz
};

/// The class of reply code `code`; any code outside 200-599 maps to permanent_negative, like
/// disposition_of().
constexpr reply_class class_of(int code) noexcept {
  if (code >= 200 && code < 300) return reply_class::positive_completion;
  if (code >= 300 && code < 400) return reply_class::positive_intermediate;
  if (code >= 400 && code < 500) return reply_class::transient_negative;
  return reply_class::permanent_negative;
}

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_DISPOSITION_HPP
