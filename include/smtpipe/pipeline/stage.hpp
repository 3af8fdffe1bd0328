// smtpipe/pipeline/stage.hpp - Momentum's 23 connection-stage codes and their texts.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PIPELINE_STAGE_HPP
#define SMTPIPE_PIPELINE_STAGE_HPP

#include "smtpipe/config.hpp"

#include <array>
#include <string_view>

namespace smtpipe {

/// What a connection is doing, as reported by a state's `tostage` for logs and results.
/// A *stage* is not a *state*: several states may report the same stage, and one state
/// reports different stages as it progresses. Codes and texts are Momentum's, unchanged.
enum class stage : int {
  not_connected = 0,
  idle = 1,
  during_mail_from = 2,
  after_mail_from = 3,
  during_rcpt_to = 4,
  after_rcpt_to = 5,
  during_data = 6,
  after_data = 7,
  sending_body = 8,
  reading_confirmation = 9,
  during_ehlo = 10,
  after_ehlo = 11,
  reading_banner = 12,
  during_rset = 13,
  after_rset = 14,
  during_starttls = 15,
  after_starttls = 16,
  handshaking_tls = 17,
  renegotiating_tls = 18,
  during_xclient = 19,
  after_xclient = 20,
  out_of_band_bounce = 21,  ///< The only out-of-band stage.
  unknown = 22,
};

inline constexpr int stage_count = 23;

namespace detail {
inline constexpr std::array<const char*, stage_count> stage_texts{
    "while not connected", "while idle",           "during MAIL FROM",  "after MAIL FROM",
    "during RCPT TO",      "after RCPT TO",        "during DATA",       "after DATA",
    "while sending BODY",  "reading confirmation", "during EHLO",       "after EHLO",
    "reading BANNER",      "during RSET",          "after RSET",        "during STARTTLS",
    "after STARTTLS",      "handshaking TLS",      "renegotiating TLS", "during XCLIENT",
    "after XCLIENT",       "out of band bounce",   "in unknown state"};
}  // namespace detail

/// The text of a stage code; codes outside 0-22 give the text of `stage::unknown`.
constexpr const char* stage_text(int code) noexcept {
  return detail::stage_texts[code >= 0 && code < stage_count ? code : int(stage::unknown)];
}
constexpr const char* stage_text(stage s) noexcept { return stage_text(static_cast<int>(s)); }

/// Momentum's `tostring` signature; usable as `smtp_state::tostring` as it is.
inline const char* default_tostring(int code) noexcept { return stage_text(code); }

}  // namespace smtpipe

#endif  // !SMTPIPE_PIPELINE_STAGE_HPP
