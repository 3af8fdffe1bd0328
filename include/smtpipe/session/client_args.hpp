// smtpipe/session/client_args.hpp - Per-message and per-recipient argument dictionaries.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_CLIENT_ARGS_HPP
#define SMTPIPE_SESSION_CLIENT_ARGS_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace smtpipe {

/// What happens to an extension parameter the server did not advertise in its EHLO reply.
enum class unadvertised_policy {
  refuse,  ///< The message (or the transaction) fails with errc::extension_not_supported.
  drop,    ///< The parameter is left out and the message goes without it.
};

/// One argument: an ESMTP keyword (or XCLIENT attribute name), its value if any, and what
/// to do when the server does not advertise the keyword.
struct client_arg {
  std::string keyword;
  std::optional<std::string> value;  ///< None: a flag such as `SMTPUTF8`.
  unadvertised_policy policy = unadvertised_policy::refuse;
};

/// An argument dictionary (Momentum's `smtp_client_args`): the extension parameters of MAIL
/// FROM (per message) or RCPT TO (per recipient), or XCLIENT attributes, that states and hooks
/// add, read and delete during the session. Keywords compare case-insensitively (RFC 5321
/// §2.4); insertion order is the order on the wire; adding a keyword again replaces it.
/// Parameters are sent only when the server advertises their keyword; otherwise their policy
/// decides (refuse by default), so nothing is ever sent blindly.
class client_args {
 public:
  client_args() = default;

  /// Adds or replaces `keyword` (`[A-Za-z0-9][A-Za-z0-9-]*`); errc::invalid_argument for a
  /// malformed keyword or a value with a space, "=" or a control character (RFC 5321 §4.1.2
  /// esmtp-value) and nothing changes.
  std::error_code add(std::string_view keyword, std::optional<std::string_view> value = {},
                      unadvertised_policy policy = unadvertised_policy::refuse) {
    if (!valid_keyword(keyword)) return make_error_code(errc::invalid_argument);
    if (value && !valid_value(*value)) return make_error_code(errc::invalid_argument);
    std::optional<std::string> v;
    if (value) v.emplace(*value);
    if (client_arg* a = find_mutable(keyword)) {
      a->value = std::move(v);
      a->policy = policy;
      return {};
    }
    args_.push_back({std::string(keyword), std::move(v), policy});
    return {};
  }
  /// Removes `keyword`; false when it was absent.
  bool erase(std::string_view keyword) {
    auto it = std::find_if(args_.begin(), args_.end(),
                           [&](const client_arg& a) { return iequal(a.keyword, keyword); });
    if (it == args_.end()) return false;
    args_.erase(it);
    return true;
  }
  /// The argument named `keyword`, or null.
  const client_arg* find(std::string_view keyword) const noexcept {
    for (const auto& a : args_)
      if (iequal(a.keyword, keyword)) return &a;
    return nullptr;
  }
  bool contains(std::string_view keyword) const noexcept { return find(keyword) != nullptr; }
  void clear() noexcept { args_.clear(); }
  bool empty() const noexcept { return args_.empty(); }
  std::size_t size() const noexcept { return args_.size(); }
  auto begin() const noexcept { return args_.begin(); }
  auto end() const noexcept { return args_.end(); }
  /// The length of the arguments as sent (" KEY=value" each), Momentum's `len`.
  std::size_t rendered_length() const noexcept {
    std::size_t n = 0;
    for (const auto& a : args_) n += 1 + a.keyword.size() + (a.value ? 1 + a.value->size() : 0);
    return n;
  }

  static bool valid_keyword(std::string_view k) noexcept {
    if (k.empty() || !alnum(k.front())) return false;
    return std::all_of(k.begin(), k.end(), [](char c) { return alnum(c) || c == '-'; });
  }
  /// RFC 5321 esmtp-value: one or more of %d33-60 / %d62-126 (no "=", SP or controls).
  static bool valid_value(std::string_view v) noexcept {
    if (v.empty()) return false;
    return std::all_of(v.begin(), v.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u >= 33 && u <= 126 && u != '=';
    });
  }

 private:
  static bool alnum(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  }
  static bool iequal(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
             return lower(x) == lower(y);
           });
  }
  client_arg* find_mutable(std::string_view keyword) noexcept {
    for (auto& a : args_)
      if (iequal(a.keyword, keyword)) return &a;
    return nullptr;
  }

  std::vector<client_arg> args_;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_CLIENT_ARGS_HPP
