// smtpipe/session/message.hpp - One message to deliver: envelope, parameters and body.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_MESSAGE_HPP
#define SMTPIPE_SESSION_MESSAGE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/protocol/esmtp_parameters.hpp"
#include "smtpipe/session/body_source.hpp"
#include "smtpipe/session/client_args.hpp"

#include <string>
#include <utility>
#include <vector>

namespace smtpipe {

/// A forward path with its RCPT parameters (NOTIFY, ORCPT, extensions).
struct recipient {
  std::string address;  ///< Mailbox without angle brackets, e.g. "user@example.org".
  rcpt_parameters params;
  /// More RCPT extension parameters (Momentum's smtp_client_args), each sent only when the
  /// server advertises its keyword, else dropped or refused by its policy.
  client_args args;

  recipient() = default;
  recipient(std::string a, rcpt_parameters p = {}) : address(std::move(a)), params(std::move(p)) {}
  recipient(const char* a) : address(a) {}
};

/// The envelope and body of one message. `sender` empty means the null reverse path `<>`.
/// Every address and parameter is validated before the session writes any byte of the
/// message; an invalid message is reported failed and the others still go.
struct message {
  std::string sender;
  std::vector<recipient> recipients;
  body_source body;
  mail_parameters params;
  /// More MAIL extension parameters (Momentum's smtp_client_args), each sent only when the
  /// server advertises its keyword, else dropped or refused by its policy.
  client_args args;
  /// XCLIENT attributes for a custom XCLIENT state (Postfix's XCLIENT): NAME, ADDR, HELO...
  client_args xclient;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_MESSAGE_HPP
