// smtpipe/routing/tls_required_no.hpp - Whether a message carries "TLS-Required: No" (RFC 8689 §5).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_TLS_REQUIRED_NO_HPP
#define SMTPIPE_ROUTING_TLS_REQUIRED_NO_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/protocol/xtext.hpp"  // detail::iequals
#include "smtpipe/session/body_source.hpp"
#include "smtpipe/session/message.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace smtpipe {

namespace detail {

// One unfolded header field: "TLS-Required" (any case) whose value, without surrounding
// white space, is "No" (any case; RFC 8689 §5 defines no other value).
inline bool is_tls_required_no(std::string_view field) noexcept {
  const auto colon = field.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view name = field.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  if (!iequals(name, "TLS-Required")) return false;
  std::string_view value = field.substr(colon + 1);
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!value.empty() && blank(value.front())) value.remove_prefix(1);
  while (!value.empty() && blank(value.back())) value.remove_suffix(1);
  return iequals(value, "No");
}

}  // namespace detail

/// Whether the header section of `m`'s body has the field `TLS-Required: No` (RFC 8689 §5):
/// the sender asks that recipient-side TLS policies (DANE, MTA-STS) be ignored for it. Reads
/// the body only up to the end of its header section (at most `limit` octets); an unreadable
/// body counts as without the field.
inline bool has_tls_required_no(const message& m, std::size_t limit = 1024 * 1024) {
  body_reader reader;
  if (m.body.open(reader)) return false;
  std::string field;  // the current field, unfolded
  std::string line;
  std::size_t seen = 0;
  std::string_view chunk;
  for (;;) {
    if (reader.next(chunk) || chunk.empty()) break;
    for (const char c : chunk) {
      if (++seen > limit) return false;
      if (c != '\n') {
        line += c;
        continue;
      }
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) return detail::is_tls_required_no(field);  // end of the header section
      if (line.front() == ' ' || line.front() == '\t') {
        field += line;  // a continuation line (RFC 5322 §2.2.3)
      } else {
        if (detail::is_tls_required_no(field)) return true;
        field = line;
      }
      line.clear();
    }
  }
  // A body that ends inside its header section: the last line counts too.
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
    return detail::is_tls_required_no(field + line);
  return detail::is_tls_required_no(field) || detail::is_tls_required_no(line);
}

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_TLS_REQUIRED_NO_HPP
