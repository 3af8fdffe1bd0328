// smtpipe/client/client_args.hpp - Momentum's smtp_client_args functions over client_args.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLIENT_CLIENT_ARGS_HPP
#define SMTPIPE_CLIENT_CLIENT_ARGS_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/client_args.hpp"
#include "smtpipe/session/session.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace smtpipe {

/// Momentum's `smtp_client_args`: smtpipe's `client_args` (session/client_args.hpp).
using smtp_client_args = client_args;

/// Adds (or replaces) `extension` with `value` (null: a flag-style parameter); 0 on success,
/// non-zero (and nothing changed) for a null or malformed keyword or value. The argument is
/// refused, failing the message, when the server does not advertise it (`client_args::add`
/// with `unadvertised_policy::drop` leaves it out instead).
inline int smtp_client_args_add(smtp_client_args* args, const char* extension, const char* value) {
  if (!args || !extension) return 1;
  std::optional<std::string_view> v;
  if (value) v = value;
  return args->add(extension, v) ? 1 : 0;
}

/// Removes `extension` (nothing happens when it is absent).
inline void smtp_client_args_delete(smtp_client_args* args, const char* extension) {
  if (args && extension) args->erase(extension);
}

/// Non-zero when `extension` is present, its value (null for a flag) stored in `*value`;
/// zero when absent, `*value` untouched. The pointer stays valid until the argument is
/// replaced or deleted.
inline int smtp_client_args_exists_and_fetch(smtp_client_args* args, const char* extension,
                                             const char** value) {
  if (!args || !extension) return 0;
  const client_arg* a = args->find(extension);
  if (!a) return 0;
  if (value) *value = a->value ? a->value->c_str() : nullptr;
  return 1;
}

/// The MAIL FROM arguments of message `m` of the session (a state or hook adds to them
/// before the MAIL of `m` is queued).
inline smtp_client_args* smtp_client_mail_args(session& s, std::size_t m) {
  return &s.mail_args(m);
}
/// The RCPT TO arguments of recipient `i` of message `m`.
inline smtp_client_args* smtp_client_rcpt_args(session& s, std::size_t m, std::size_t i) {
  return &s.rcpt_args(m, i);
}
/// The XCLIENT attributes of message `m`.
inline smtp_client_args* smtp_client_xclient_args(session& s, std::size_t m) {
  return &s.xclient_args(m);
}

}  // namespace smtpipe

#endif  // !SMTPIPE_CLIENT_CLIENT_ARGS_HPP
