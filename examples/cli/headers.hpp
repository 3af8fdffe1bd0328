// cli/headers.hpp - The header section of a message for sendmail -t: recipients, Bcc removal.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_HEADERS_HPP
#define SMTPIPE_CLI_HEADERS_HPP

#include "smtpipe/protocol/xtext.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace smtpipe_cli {

/// One header field as it stands in the message: [begin, end) covers its name, its value and
/// every continuation line, line ends included.
struct header_field {
  std::string_view name;
  std::string value;  // unfolded: the line ends before continuation lines removed
  std::size_t begin = 0, end = 0;
};

/// The fields of the header section (RFC 5322 §2.2): it ends at the first empty line, or at
/// the first line that is neither a field nor a continuation. `head_end` is where it ends.
struct header_section {
  std::vector<header_field> fields;
  std::size_t head_end = 0;
};

using smtpipe::detail::iequals;  // ASCII case-insensitive (protocol/xtext.hpp)

inline header_section parse_header_section(std::string_view message) {
  header_section h;
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t eol = message.find('\n', pos);
    const std::size_t next = eol == message.npos ? message.size() : eol + 1;
    std::string_view line = message.substr(pos, next - pos);
    std::string_view content = line;
    if (!content.empty() && content.back() == '\n') content.remove_suffix(1);
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
    if (content.empty()) break;  // the empty line that separates the body
    if ((content.front() == ' ' || content.front() == '\t') && !h.fields.empty()) {
      h.fields.back().value.append(content);  // unfolding removes the line end only
      h.fields.back().end = next;
    } else {
      const std::size_t colon = content.find(':');
      if (colon == content.npos || colon == 0 ||
          content.substr(0, colon).find_first_of(" \t") != content.npos)
        break;  // not a field: the body starts here
      h.fields.push_back(
          {content.substr(0, colon), std::string(content.substr(colon + 1)), pos, next});
    }
    pos = next;
  }
  h.head_end = pos;
  return h;
}

/// The mailboxes of an address-list field value (RFC 5322 §3.4): "Name <a@b>", bare
/// addr-specs, groups "Team: a@b, c@d;" (the display name dropped, an empty group giving
/// nothing), comments, quoted strings and an obsolete route in angle brackets ("<@x:a@b>").
inline std::vector<std::string> parse_address_list(std::string_view value) {
  std::vector<std::string> out;
  std::string plain, angle;
  bool has_angle = false, in_angle = false;
  auto finish = [&] {
    std::string address = has_angle ? angle : plain;
    if (!address.empty() && address.front() == '@') {  // obs-route
      const auto colon = address.find(':');
      address = colon == address.npos ? std::string() : address.substr(colon + 1);
    }
    if (!address.empty()) out.push_back(std::move(address));
    plain.clear();
    angle.clear();
    has_angle = in_angle = false;
  };
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    std::string& target = in_angle ? angle : plain;
    if (c == '"') {  // a quoted string, kept with its quotes (a quoted local part)
      target += c;
      for (++i; i < value.size() && value[i] != '"'; ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) target += value[i++];
        target += value[i];
      }
      target += '"';
    } else if (c == '(') {  // a comment, nested, skipped
      int depth = 1;
      for (++i; i < value.size() && depth > 0; ++i) {
        if (value[i] == '\\') ++i;
        else if (value[i] == '(') ++depth;
        else if (value[i] == ')') --depth;
      }
      --i;
    } else if (c == '<' && !in_angle) {
      in_angle = has_angle = true;
      angle.clear();
    } else if (c == '>' && in_angle) {
      in_angle = false;
    } else if (in_angle) {
      if (c != ' ' && c != '\t') angle += c;
    } else if (c == ',' || c == ';') {
      finish();
    } else if (c == ':') {  // a group's display name ends; its members follow
      plain.clear();
      angle.clear();
      has_angle = false;
    } else if (c != ' ' && c != '\t') {
      plain += c;
    }
  }
  finish();
  return out;
}

/// The recipients sendmail -t takes from To, Cc and Bcc, in order.
inline std::vector<std::string> header_recipients(const header_section& h) {
  std::vector<std::string> out;
  for (const auto& f : h.fields)
    if (iequals(f.name, "To") || iequals(f.name, "Cc") || iequals(f.name, "Bcc"))
      for (auto& a : parse_address_list(f.value)) out.push_back(std::move(a));
  return out;
}

inline bool has_field(const header_section& h, std::string_view name) {
  for (const auto& f : h.fields)
    if (iequals(f.name, name)) return true;
  return false;
}

/// The header section without its Bcc fields (continuation lines included), every other
/// byte as it was.
inline std::string head_without_bcc(std::string_view message, const header_section& h) {
  std::string out;
  std::size_t pos = 0;
  for (const auto& f : h.fields)
    if (iequals(f.name, "Bcc")) {
      out.append(message.substr(pos, f.begin - pos));
      pos = f.end;
    }
  out.append(message.substr(pos, h.head_end - pos));
  return out;
}

/// A From: field for a message without one: `"Full Name" <sender>`, or the sender alone;
/// the line end is the one the message's first line uses.
inline std::string from_field(std::string_view message, std::string_view full_name,
                              std::string_view sender) {
  const auto eol = message.find('\n');
  const bool crlf = eol != message.npos && eol > 0 && message[eol - 1] == '\r';
  std::string line = "From: ";
  if (!full_name.empty()) {
    line += '"';
    for (char c : full_name) {
      if (c == '\r' || c == '\n') continue;
      if (c == '"' || c == '\\') line += '\\';
      line += c;
    }
    line += "\" <" + std::string(sender) + ">";
  } else {
    line += sender;
  }
  return line + (crlf ? "\r\n" : "\n");
}

}  // namespace smtpipe_cli

#endif  // !SMTPIPE_CLI_HEADERS_HPP
