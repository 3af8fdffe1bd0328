// smtpipe/session/command_kind.hpp - Which command a queued reply answers.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_COMMAND_KIND_HPP
#define SMTPIPE_SESSION_COMMAND_KIND_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/pipeline/stage.hpp"

#include <cstdint>

namespace smtpipe {

/// The command a pending reply answers. It picks the reply's timeout and the stage named
/// when that reply is late; `auth` commands are redacted in transcripts.
enum class command_kind : std::uint8_t {
  greeting,  ///< No command: the server speaks first.
  ehlo,
  helo,
  lhlo,
  starttls,
  auth,  ///< AUTH and every SASL response line.
  mail,
  rcpt,
  data,
  dot,  ///< The final "." of DATA.
  bdat,
  rset,
  noop,
  quit,
  custom,  ///< Commands of custom states.
};

/// The stage a connection is in while it waits for the reply to `k`.
constexpr stage waiting_stage(command_kind k) noexcept {
  switch (k) {
    case command_kind::greeting: return stage::reading_banner;
    case command_kind::ehlo:
    case command_kind::helo:
    case command_kind::lhlo: return stage::during_ehlo;
    case command_kind::starttls: return stage::during_starttls;
    case command_kind::mail: return stage::during_mail_from;
    case command_kind::rcpt: return stage::during_rcpt_to;
    case command_kind::data: return stage::during_data;
    case command_kind::dot:
    case command_kind::bdat: return stage::reading_confirmation;
    case command_kind::rset: return stage::during_rset;
    case command_kind::auth:
    case command_kind::noop:
    case command_kind::quit:
    case command_kind::custom: return stage::unknown;
  }
  return stage::unknown;
}

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_COMMAND_KIND_HPP
