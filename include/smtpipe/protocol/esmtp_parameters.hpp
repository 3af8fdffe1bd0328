// smtpipe/protocol/esmtp_parameters.hpp - The ESMTP parameters of MAIL FROM and RCPT TO, as values.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_ESMTP_PARAMETERS_HPP
#define SMTPIPE_PROTOCOL_ESMTP_PARAMETERS_HPP

#include "smtpipe/config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace smtpipe {

/// MAIL FROM BODY= (RFC 6152, RFC 3030); `unspecified` sends no BODY parameter.
enum class body_type { unspecified, seven_bit, eight_bit_mime, binary_mime };

/// MAIL FROM RET= (RFC 3461 §4.3); `unspecified` sends no RET parameter.
enum class dsn_ret { unspecified, full, headers };

/// RCPT TO NOTIFY= flags (RFC 3461 §4.1); combine with `|`. `notify_never` cannot be combined.
enum notify_flags : unsigned {
  notify_unspecified = 0,  ///< No NOTIFY parameter.
  notify_never = 1,
  notify_success = 2,
  notify_failure = 4,
  notify_delay = 8,
};

/// Any other parameter, sent as `keyword` or `keyword=value`.
struct esmtp_parameter {
  std::string keyword;  ///< `[A-Za-z0-9][A-Za-z0-9-]*`
  std::string value;    ///< esmtp-value; empty means no "=value".
};

/// Parameters of MAIL FROM, in the order they are sent (see format_mail_from()).
struct mail_parameters {
  std::optional<std::uint64_t> size;        ///< SIZE= (RFC 1870).
  body_type body = body_type::unspecified;  ///< BODY=.
  bool smtputf8 = false;                    ///< SMTPUTF8 (RFC 6531); required for a UTF-8 path.
  dsn_ret ret = dsn_ret::unspecified;       ///< RET= (RFC 3461).
  std::string envid;                        ///< ENVID= raw value; xtext-encoded on the wire.
  /// REQUIRETLS (RFC 8689): only over TLS authenticated by DANE or PKIX, to a server that
  /// advertises REQUIRETLS; otherwise the message fails with 5.7.30 and nothing is sent.
  bool requiretls = false;
  std::vector<esmtp_parameter> extra;  ///< Anything else, after the above.
};

/// Parameters of RCPT TO, in the order they are sent (see format_rcpt_to()).
struct rcpt_parameters {
  unsigned notify = notify_unspecified;  ///< NOTIFY= (RFC 3461), a set of notify_flags.
  /// ORCPT= raw "addr-type;address", e.g. "rfc822;a@example.org"; the address part is
  /// xtext-encoded on the wire. Empty sends no ORCPT.
  std::string orcpt;
  std::vector<esmtp_parameter> extra;  ///< Anything else, after the above.
};

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_ESMTP_PARAMETERS_HPP
