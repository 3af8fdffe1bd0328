// smtpipe/protocol/bounce_class.hpp - Momentum's bounce classes: codes, names and categories.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_BOUNCE_CLASS_HPP
#define SMTPIPE_PROTOCOL_BOUNCE_CLASS_HPP

#include "smtpipe/config.hpp"

#include <array>
#include <string_view>

namespace smtpipe {

/// The category Momentum 4 gives each bounce class: what a sender should do about it.
enum class bounce_category {
  none,          ///< Not a bounce (a delivered recipient) or an unknown class code.
  undetermined,  ///< Nothing in the failure could be identified.
  hard,          ///< The address will not work: suppress it.
  soft,          ///< Worth trying again later.
  admin,         ///< Refused by the sender's own configuration or policy.
  block,         ///< The receiver blocks the sender or the content.
};

constexpr std::string_view to_string(bounce_category c) noexcept {
  switch (c) {
    case bounce_category::none: return "None";
    case bounce_category::undetermined: return "Undetermined";
    case bounce_category::hard: return "Hard";
    case bounce_category::soft: return "Soft";
    case bounce_category::admin: return "Admin";
    case bounce_category::block: return "Block";
  }
  return "None";
}

/// Momentum's built-in bounce classes; the codes are Momentum's and stable. A class code is an
/// `int` wherever smtpipe stores one, because user-registered classes (codes 1-99 that no
/// built-in class uses) sit beside these. 0 means "not a bounce" (delivered).
enum class bounce_class : int {
  none = 0,
  undetermined = 1,
  invalid_recipient = 10,
  soft_bounce = 20,
  dns_failure = 21,
  mailbox_full = 22,
  too_large = 23,
  timeout = 24,
  admin_failure = 25,
  generic_no_rcpt = 30,
  generic = 40,
  mail_block = 50,
  spam_block = 51,
  spam_content = 52,
  prohibited_attachment = 53,
  relaying_denied = 54,
  auto_reply = 60,
  transient_failure = 70,
  subscribe = 80,
  unsubscribe = 90,
  challenge_response = 100,
};

/// The code of a built-in class, as stored in results.
constexpr int code_of(bounce_class c) noexcept { return static_cast<int>(c); }

/// One class: its code, Momentum's name, a description and its category.
struct bounce_class_info {
  int code = 0;
  std::string_view name;         ///< Momentum's name, e.g. "Invalid Recipient".
  std::string_view description;  ///< One sentence.
  bounce_category category = bounce_category::none;
};

/// Momentum's twenty built-in classes in code order. Every name and description is a string
/// literal: `name.data()` is NUL-terminated.
inline constexpr std::array<bounce_class_info, 20> builtin_bounce_classes{{
    {1, "Undetermined", "The failure could not be identified.", bounce_category::undetermined},
    {10, "Invalid Recipient", "The recipient address does not exist or is disabled.",
     bounce_category::hard},
    {20, "Soft Bounce", "The message was refused for a reason that may go away.",
     bounce_category::soft},
    {21, "DNS Failure", "The destination could not be resolved.", bounce_category::soft},
    {22, "Mailbox Full", "The recipient's mailbox is over its quota.", bounce_category::soft},
    {23, "Too Large", "The message is larger than the receiver accepts.", bounce_category::soft},
    {24, "Timeout", "The receiver did not answer in time.", bounce_category::soft},
    {25, "Admin Failure", "The sender's own configuration or policy refused the message.",
     bounce_category::admin},
    {30, "Generic Bounce: No RCPT", "The message failed and no recipient could be identified.",
     bounce_category::hard},
    {40, "Generic Bounce", "The message was refused for a reason that was not identified.",
     bounce_category::soft},
    {50, "Mail Block", "The receiver blocks mail from this sender.", bounce_category::block},
    {51, "Spam Block", "The receiver blocks the sending host or domain as a spam source.",
     bounce_category::block},
    {52, "Spam Content", "The receiver refused the message content as spam.",
     bounce_category::block},
    {53, "Prohibited Attachment", "The receiver refused an attachment of the message.",
     bounce_category::block},
    {54, "Relaying Denied", "The receiver does not relay for this sender.", bounce_category::block},
    {60, "Auto-Reply", "An automatic reply such as an out-of-office notice.",
     bounce_category::soft},
    {70, "Transient Failure", "The attempt failed transiently; a retry may succeed.",
     bounce_category::soft},
    {80, "Subscribe", "A subscription request.", bounce_category::admin},
    {90, "Unsubscribe", "An unsubscription request.", bounce_category::hard},
    {100, "Challenge-Response", "A challenge-response system asks the sender to verify itself.",
     bounce_category::soft},
}};

/// The built-in class with `code`, or null.
constexpr const bounce_class_info* find_builtin_bounce_class(int code) noexcept {
  for (const auto& c : builtin_bounce_classes)
    if (c.code == code) return &c;
  return nullptr;
}

/// Momentum's name of built-in class `code`; "" for 0 and for codes that are not built in.
constexpr std::string_view builtin_bounce_class_name(int code) noexcept {
  const bounce_class_info* c = find_builtin_bounce_class(code);
  return c ? c->name : std::string_view{};
}

constexpr std::string_view to_string(bounce_class c) noexcept {
  return builtin_bounce_class_name(code_of(c));
}

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_BOUNCE_CLASS_HPP
