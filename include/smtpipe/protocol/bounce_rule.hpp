// smtpipe/protocol/bounce_rule.hpp - One bounce classification rule and Momentum's text form.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_BOUNCE_RULE_HPP
#define SMTPIPE_PROTOCOL_BOUNCE_RULE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace smtpipe {

/// A rule that puts the failures it matches into a class. Every condition that is set must
/// hold; Momentum's `domain,code,rule` form sets `domain`, `bounce_class` and `pattern`.
///
/// `pattern` is matched case-insensitively against the whole response, "550 5.1.1 text" (or
/// the error's message for a local failure), with every run of white space (line breaks of a
/// multi-line reply too) read as one space. As in Momentum, a pattern without '|' is a plain
/// substring; a pattern with '|' lists alternatives, any of which may match, and in those
/// alternatives '*' stands for any run of characters ("quota|mailbox*full").
struct bounce_rule {
  std::string domain;    ///< Recipient domain (case-insensitive, exact); "" for every domain.
  int bounce_class = 0;  ///< The class it assigns: built in or registered.
  std::string pattern;   ///< See above; "" matches any text (then set a code condition).
  int reply_code = 0;    ///< 0: any; 4 or 5: any 4yz or 5yz reply; 200-599: exactly that code.
  /// "": any; else an RFC 3463 code whose parts may be '*': "5.1.1", "5.7.*", "*.2.2". A
  /// reply without an enhanced code never matches a rule that has this condition.
  std::string enhanced;
};

/// Where and why `parse_bounce_rules` refused its input.
struct bounce_rule_error {
  std::size_t line = 0;  ///< 1-based line number.
  std::string reason;    ///< What is wrong with that line.
};

namespace detail {
constexpr std::string_view trim_rule_field(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}
constexpr bool all_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}
constexpr bool valid_rule_domain(std::string_view s) noexcept {
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return s.size() <= 255;
}
}  // namespace detail

/// Parses Momentum's override rules, one a line: `domain,code,rule` (an empty domain applies
/// to every domain) or `code,rule` (every domain). The rule is everything after the comma that
/// ends the code, so it may hold commas; white space around each field is dropped. Blank
/// lines and lines starting with '#' are skipped.
///
/// Appends the rules to `out` only if every line is valid; otherwise leaves `out` unchanged,
/// returns `errc::invalid_bounce_rule` and says which line and why in `*where`. Whether a class
/// code exists is checked when the rules are added to a classifier.
inline std::error_code parse_bounce_rules(std::string_view text, std::vector<bounce_rule>& out,
                                          bounce_rule_error* where = nullptr) {
  std::vector<bounce_rule> parsed;
  std::size_t number = 0;
  auto fail = [&](std::string reason) {
    if (where) *where = {number, std::move(reason)};
    return make_error_code(errc::invalid_bounce_rule);
  };
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == text.npos ? std::string_view{} : text.substr(nl + 1);
    ++number;
    line = detail::trim_rule_field(line);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t c1 = line.find(',');
    if (c1 == line.npos) return fail("expected 'domain,code,rule' or 'code,rule'");
    std::string_view first = detail::trim_rule_field(line.substr(0, c1));
    std::string_view rest = line.substr(c1 + 1);
    std::string_view domain, code, rule;
    const std::size_t c2 = rest.find(',');
    const std::string_view second =
        detail::trim_rule_field(c2 == rest.npos ? rest : rest.substr(0, c2));
    if (detail::all_digits(first) && !detail::all_digits(second)) {
      code = first;  // code,rule (a domain is never all digits)
      rule = rest;
    } else if (c2 != rest.npos) {
      domain = first;
      code = second;
      rule = rest.substr(c2 + 1);
    } else {
      return fail("expected 'domain,code,rule' or 'code,rule'");
    }
    rule = detail::trim_rule_field(rule);
    if (!detail::valid_rule_domain(domain))
      return fail("invalid domain '" + std::string(domain) + "'");
    if (!detail::all_digits(code) || code.size() > 3)
      return fail("class code '" + std::string(code) + "' is not a number from 1 to 100");
    int value = 0;
    for (char c : code) value = value * 10 + (c - '0');
    if (value < 1 || value > 100)
      return fail("class code " + std::to_string(value) + " is not from 1 to 100");
    if (rule.empty()) return fail("empty rule");
    bounce_rule r;
    r.domain = std::string(domain);
    r.bounce_class = value;
    r.pattern = std::string(rule);
    parsed.push_back(std::move(r));
  }
  out.insert(out.end(), std::make_move_iterator(parsed.begin()),
             std::make_move_iterator(parsed.end()));
  return {};
}

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_BOUNCE_RULE_HPP
