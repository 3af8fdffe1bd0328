// smtpipe/protocol/bounce_classifier.hpp - Classifies failed replies and local errors into bounce
// classes. SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_BOUNCE_CLASSIFIER_HPP
#define SMTPIPE_PROTOCOL_BOUNCE_CLASSIFIER_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/protocol/bounce_class.hpp"
#include "smtpipe/protocol/bounce_rule.hpp"
#include "smtpipe/protocol/enhanced_status.hpp"
#include "smtpipe/protocol/reply.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace smtpipe {

namespace detail {

constexpr char bounce_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr bool bounce_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// Appends `s` lower-cased, every run of white space as one space (never two in a row in `out`).
inline void append_normalized(std::string& out, std::string_view s) {
  for (char c : s) {
    if (bounce_space(c)) {
      if (out.empty() || out.back() != ' ') out += ' ';
    } else {
      out += bounce_lower(c);
    }
  }
}

// Which pairs of adjacent characters a text holds (hashed to 4096 bits): a pattern piece
// whose pairs are not all there cannot occur in it, so most phrases are ruled out by a few
// bit tests before any substring search.
struct bounce_bigrams {
  std::uint64_t bits[64] = {};

  static constexpr std::uint16_t index(char a, char b) noexcept {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(a) & 0x3f) << 6 |
                                      (static_cast<unsigned char>(b) & 0x3f));
  }
  void add(std::string_view s) noexcept {
    for (std::size_t i = 1; i < s.size(); ++i) {
      const std::uint16_t x = index(s[i - 1], s[i]);
      bits[x >> 6] |= std::uint64_t{1} << (x & 63);
    }
  }
  bool has(std::uint16_t x) const noexcept { return (bits[x >> 6] >> (x & 63)) & 1; }
};

// The normalized text to classify: " 550 5.1.1 user unknown " and its pairs.
struct bounce_text {
  std::string_view hay;
  bounce_bigrams bigrams;
  explicit bounce_text(std::string_view h) noexcept : hay(h) { bigrams.add(h); }
};

// A compiled pattern: alternatives, each a sequence of pieces found in order ('*' between),
// with up to 8 character pairs of its pieces to test first. No alternative matches any text.
struct bounce_pattern {
  std::vector<std::vector<std::string>> alternatives;
  std::vector<std::vector<std::uint16_t>> probes;  // per alternative

  void make_probes() {
    probes.clear();
    for (const auto& pieces : alternatives) {
      std::vector<std::uint16_t> all;
      for (const auto& p : pieces)
        for (std::size_t i = 1; i < p.size(); ++i)
          all.push_back(bounce_bigrams::index(p[i - 1], p[i]));
      std::vector<std::uint16_t> some;
      const std::size_t n = std::min<std::size_t>(all.size(), 8);
      for (std::size_t k = 0; k < n; ++k) some.push_back(all[k * all.size() / n]);
      probes.push_back(std::move(some));
    }
  }

  bool matches(const bounce_text& text) const noexcept {
    if (alternatives.empty()) return true;
    const std::string_view hay = text.hay;
    for (std::size_t a = 0; a < alternatives.size(); ++a) {
      bool possible = true;
      for (std::uint16_t x : probes[a])
        if (!text.bigrams.has(x)) {
          possible = false;
          break;
        }
      if (!possible) continue;
      const auto& pieces = alternatives[a];
      std::size_t at = 0;
      bool ok = true;
      for (const auto& p : pieces) {
        const std::size_t f = hay.find(p, at);
        if (f == hay.npos) {
          ok = false;
          break;
        }
        at = f + p.size();
      }
      if (ok) return true;
    }
    return false;
  }
};

inline std::error_code compile_bounce_pattern(std::string_view pattern, bounce_pattern& out) {
  out.alternatives.clear();
  if (pattern.empty()) return {};
  auto normalized = [](std::string_view s) {
    std::string n;
    append_normalized(n, s);
    return n;
  };
  if (pattern.find('|') == pattern.npos) {  // Momentum: a static substring
    std::string n = normalized(pattern);
    if (n.empty() || n == " ") return errc::invalid_bounce_rule;
    out.alternatives.push_back({std::move(n)});
    out.make_probes();
    return {};
  }
  while (true) {
    const std::size_t bar = pattern.find('|');
    const std::string_view alt = pattern.substr(0, bar);
    std::vector<std::string> pieces;
    std::string_view rest = alt;
    while (true) {
      const std::size_t star = rest.find('*');
      std::string piece = normalized(rest.substr(0, star));
      if (!piece.empty()) pieces.push_back(std::move(piece));
      if (star == rest.npos) break;
      rest = rest.substr(star + 1);
    }
    if (pieces.empty()) return errc::invalid_bounce_rule;  // "a||b", "a|*"
    out.alternatives.push_back(std::move(pieces));
    if (bar == pattern.npos) break;
    pattern = pattern.substr(bar + 1);
  }
  out.make_probes();
  return {};
}

// A compiled rule. Part -1: any value; enhanced_cls -1: no enhanced-code condition.
struct compiled_bounce_rule {
  int bounce_class = 0;
  int code_lo = 0, code_hi = 999;
  int enhanced_cls = -1, enhanced_subject = -1, enhanced_detail = -1;
  bool has_enhanced = false;
  bounce_pattern pattern;

  bool matches(int code, const enhanced_status& es, const bounce_text& hay) const noexcept {
    if (code < code_lo || code > code_hi) return false;
    if (has_enhanced) {
      if (!es.present()) return false;
      if (enhanced_cls >= 0 && es.cls != enhanced_cls) return false;
      if (enhanced_subject >= 0 && es.subject != enhanced_subject) return false;
      if (enhanced_detail >= 0 && es.detail != enhanced_detail) return false;
    }
    return pattern.matches(hay);
  }
};

inline std::error_code compile_bounce_rule(int bounce_class, int reply_code,
                                           std::string_view enhanced, std::string_view pattern,
                                           compiled_bounce_rule& out) {
  out.bounce_class = bounce_class;
  if (reply_code == 0) {
    out.code_lo = 0;
    out.code_hi = 999;
  } else if (reply_code == 4 || reply_code == 5) {
    out.code_lo = reply_code * 100;
    out.code_hi = reply_code * 100 + 99;
  } else if (reply_code >= 200 && reply_code <= 599) {
    out.code_lo = out.code_hi = reply_code;
  } else {
    return errc::invalid_bounce_rule;
  }
  out.has_enhanced = !enhanced.empty();
  if (out.has_enhanced) {
    int parts[3] = {-1, -1, -1};
    for (int i = 0; i < 3; ++i) {
      const std::size_t dot = enhanced.find('.');
      if ((i < 2) != (dot != enhanced.npos)) return errc::invalid_bounce_rule;
      const std::string_view part = enhanced.substr(0, dot);
      if (part != "*") {
        if (!all_digits(part) || part.size() > 3) return errc::invalid_bounce_rule;
        int v = 0;
        for (char c : part) v = v * 10 + (c - '0');
        parts[i] = v;
      }
      enhanced = dot == enhanced.npos ? std::string_view{} : enhanced.substr(dot + 1);
    }
    if (parts[0] != -1 && parts[0] != 2 && parts[0] != 4 && parts[0] != 5)
      return errc::invalid_bounce_rule;
    out.enhanced_cls = parts[0];
    out.enhanced_subject = parts[1];
    out.enhanced_detail = parts[2];
  }
  return compile_bounce_pattern(pattern, out.pattern);
}

// The built-in rules: the first that matches decides. Phrases first (most specific first),
// then RFC 3463 enhanced codes, then the basic reply code.
struct builtin_bounce_rule {
  int reply_code;
  std::string_view enhanced;
  std::string_view pattern;
  bounce_class cls;
};

// clang-format off
inline constexpr builtin_bounce_rule builtin_bounce_rules[] = {
    // Challenge-response systems and automatic replies.
    {0, "", "challenge-response|challenge response|spamarrest|spam arrest|boxbe|"
            "verify that you are a human|confirm that you are a human", bounce_class::challenge_response},
    {0, "", "out of office|out of the office|auto-reply|autoreply|automatic reply|"
            "auto reply|on vacation|vacation reply", bounce_class::auto_reply},
    // Relaying.
    {0, "", "relay access denied|relaying denied|relay denied|relaying not allowed|"
            "relay not allowed|not allowed to relay|relay not permitted|relaying not permitted|"
            "not permitted to relay|unable to relay|we do not relay|no relaying|relaying disallowed|"
            "relaying prohibited|relay prohibited|not a gateway|cannot relay|can't relay|"
            "relaying to * denied|relay * not permitted|5.7.64|allowed rcpthosts", bounce_class::relaying_denied},
    // Our own credentials or TLS: the sender's configuration.
    {0, "*.7.8", "", bounce_class::admin_failure},
    {0, "", "authentication required|authentication is required|must authenticate|"
            "authentication credentials invalid|invalid credentials|username and password not accepted|"
            "client not authenticated|"
            "must issue a starttls command first|starttls required|tls required|"
            "encryption required|sender address has null mx", bounce_class::admin_failure},
    // The sending host or domain is listed or has a poor reputation.
    {0, "", "spamhaus|spamcop|barracuda|sorbs.net|dnsbl| rbl|blocked using|listed at|is listed|"
            "are listed|been listed|listed on|listed by|blacklist|black list|blocklist|block list|blocked list|denylist|"
            "poor reputation|low reputation|bad reputation|reputation of the sending|ip reputation|"
            "sender reputation|domain reputation|unusual rate of unsolicited mail|"
            "user complaints|[tss0|[bl2|[rl0|sc-001|sc-002|sc-003|sc-004|dy-001|dy-002|"
            "ou-001|ou-002|not authorized to send email directly|dynamic ip|dynamic address|"
            "residential ip|dial-up|dialup|banned sending ip|on our block|"
            "mail from your ip|email from your ip|from your ip address has been",
     bounce_class::spam_block},
    // Authentication results (SPF, DKIM, DMARC: RFC 7372) and missing reverse DNS.
    {0, "", "dmarc|spf|dkim|unauthenticated|not authenticated|authentication checks|"
            "sender is unauthenticated|reverse dns|reverse hostname|ptr record|"
            "cannot find your hostname|can't find your hostname|client host rejected|"
            "sender policy framework|domainkeys", bounce_class::mail_block},
    // Attachments and viruses.
    {0, "", "prohibited attachment|attachment not allowed|attachments are not allowed|"
            "attachment type|attachment is not allowed|banned attachment|blocked attachment|"
            "dangerous attachment|unacceptable attachment|file type|file extension|"
            "executable|.exe |banned file|forbidden attachment|potential security issue", bounce_class::prohibited_attachment},
    // Spam content.
    {0, "", "spam|unsolicited|junk mail|bulk mail|phish|virus|malware|infected|"
            "content rejected|message content|content filter|suspicious content|"
            "considered as junk|identified as junk|scam", bounce_class::spam_content},
    // Full mailboxes (before "mailbox unavailable" and "size limit").
    {0, "", "mailbox full|mailbox is full|mailbox has exceeded|mailbox size limit|"
            "mailbox quota|over quota|overquota|over the quota|quota exceeded|exceeded quota|"
            "exceeds quota|exceed the quota|exceeded the quota|exceeded storage|"
            "exceeded its storage|insufficient storage|out of storage|storage space|"
            "storage allocation|storage limit|disk quota|mailbox is over|user is over|"
            "full mailbox|mailfolder is full|mail folder is full|not enough space|"
            "inbox is full|account is full|quota", bounce_class::mailbox_full},
    // Size.
    {0, "", "message size exceeds|message too large|message is too large|message too big|"
            "message is too big|message exceeds|exceeds size limit|size limit|size exceeds|"
            "exceeds the maximum|maximum message size|maximum size|message length exceeds|"
            "too large|too big|message size", bounce_class::too_large},
    // Domains that do not resolve or accept no mail.
    {0, "", "domain not found|host not found|host or domain name not found|"
            "domain does not exist|domain name not found|no such domain|unknown domain|"
            "domain unknown|nxdomain|no mx|mx record|name service error|dns|could not resolve|"
            "unable to resolve|unrouteable domain|unroutable domain|null mx|domain of sender address",
     bounce_class::dns_failure},
    // The receiver refuses the sender.
    {0, "", "sender verify failed|sender verification failed|sender address rejected|"
            "sender rejected|sender denied|sender blocked|sender not allowed",
     bounce_class::mail_block},
    // Office 365 directory-based edge blocking: no such recipient.
    {5, "5.4.1", "recipient address rejected", bounce_class::invalid_recipient},
    // Recipients that do not exist or are disabled.
    {0, "", "user unknown|unknown user|no such user|no such recipient|no such mailbox|"
            "no such address|no such account|recipient unknown|unknown recipient|"
            "recipient not found|recipientnotfound|recipnotfound|user not found|"
            "mailbox not found|mailbox unavailable|mailbox does not exist|"
            "address does not exist|account does not exist|user does not exist|does not exist|"
            "doesn't exist|not exist|invalid recipient|recipient invalid|invalid mailbox|"
            "invalid address|address invalid|not a valid mailbox|unknown local part|"
            "unrouteable address|unroutable address|undeliverable address|address unknown|"
            "unknown address|account disabled|account has been disabled|account is disabled|"
            "mailbox disabled|mailbox is disabled|disabled mailbox|account that you tried to reach|"
            "inactive|deactivated|no longer|suspended|not our customer|no mailbox here|"
            "user doesn't have|recipient address rejected: user|bad destination mailbox|"
            "not listed in|verification failed for|rejected recipient|recipient rejected|"
            "#5.1.0 address rejected",
     bounce_class::invalid_recipient},
    // Greylisting, rate limits and other invitations to try later.
    {0, "", "greylist|grey list|greylisted|graylist|gray list|try again later|try later|"
            "please retry|retry later|temporarily deferred|temporarily rejected|temporarily|"
            "temporary|rate limit|rate-limit|ratelimit|too many|throttl|deferred|"
            "busy|try again|closing connection|resources|receiving mail at a rate|"
            "receiving mail too quickly", bounce_class::transient_failure},
    {0, "", "access denied|not authorized|not permitted|administrative prohibition|"
            "policy|rejected by|blocked|banned|refused|denied", bounce_class::mail_block},

    // RFC 3463 enhanced status codes.
    {0, "*.1.1", "", bounce_class::invalid_recipient},
    {0, "*.1.2", "", bounce_class::dns_failure},
    {0, "*.1.3", "", bounce_class::invalid_recipient},
    {0, "*.1.4", "", bounce_class::invalid_recipient},
    {0, "*.1.6", "", bounce_class::invalid_recipient},
    {0, "*.1.7", "", bounce_class::mail_block},
    {0, "*.1.8", "", bounce_class::mail_block},
    {0, "*.1.10", "", bounce_class::invalid_recipient},
    {5, "*.1.0", "", bounce_class::invalid_recipient},
    {0, "*.2.1", "", bounce_class::invalid_recipient},
    {0, "*.2.2", "", bounce_class::mailbox_full},
    {0, "*.2.3", "", bounce_class::too_large},
    {0, "*.3.4", "", bounce_class::too_large},
    {0, "*.4.4", "", bounce_class::dns_failure},
    {0, "*.4.3", "", bounce_class::dns_failure},
    {0, "*.4.7", "", bounce_class::timeout},
    {0, "*.7.9", "", bounce_class::admin_failure},
    {0, "*.7.10", "", bounce_class::admin_failure},
    {0, "*.7.11", "", bounce_class::admin_failure},
    {0, "*.7.12", "", bounce_class::admin_failure},
    {0, "*.7.13", "", bounce_class::invalid_recipient},
    {0, "*.7.14", "", bounce_class::admin_failure},
    {0, "*.7.17", "", bounce_class::invalid_recipient},
    {0, "*.7.18", "", bounce_class::invalid_recipient},
    {0, "*.7.20", "", bounce_class::mail_block},
    {0, "*.7.21", "", bounce_class::mail_block},
    {0, "*.7.22", "", bounce_class::mail_block},
    {0, "*.7.23", "", bounce_class::mail_block},
    {0, "*.7.24", "", bounce_class::mail_block},
    {0, "*.7.25", "", bounce_class::mail_block},
    {0, "*.7.26", "", bounce_class::mail_block},
    {0, "*.7.27", "", bounce_class::admin_failure},
    {4, "4.7.0", "", bounce_class::transient_failure},
    {0, "*.7.*", "", bounce_class::mail_block},

    // Basic reply codes.
    {530, "", "", bounce_class::admin_failure},
    {534, "", "", bounce_class::admin_failure},
    {535, "", "", bounce_class::admin_failure},
    {538, "", "", bounce_class::admin_failure},
    {551, "", "", bounce_class::invalid_recipient},
    {552, "", "", bounce_class::mailbox_full},
    {553, "", "", bounce_class::invalid_recipient},
    {4, "", "", bounce_class::transient_failure},
    {5, "", "", bounce_class::generic},
};
// clang-format on

}  // namespace detail

/// Puts every failure into one of Momentum's bounce classes (bounce_class.hpp) or a class the
/// user registered: failed replies from their code, RFC 3463 enhanced status code and text,
/// local failures from their `std::error_code`. Sans-I/O, no regular expressions: rules are
/// compiled once, when added, into lower-case phrases found by substring search.
///
/// The order of the decision:
/// 1. the user's rules for the recipient's domain, in the order they were added;
/// 2. the user's rules for every domain, in order;
/// 3. unless disabled, the built-in rules: phrases, then enhanced codes, then reply codes.
///    A built-in Invalid Recipient is Soft Bounce for a 4yz reply, and a built-in Transient
///    Failure (greylisting, "try again later"...) is Soft Bounce for a 5yz reply;
/// 4. Undetermined.
///
/// `classify` is const and may run on many threads at once; adding rules or classes may not
/// run at the same time as anything else on the same classifier.
class bounce_classifier {
 public:
  /// The built-in rules and Momentum's classes.
  bounce_classifier() = default;
  /// `builtin_rules` false: only the user's rules decide (then Undetermined).
  explicit bounce_classifier(bool builtin_rules) : builtin_rules_(builtin_rules) {}

  /// The shared classifier with the built-in rules only: what sessions use when
  /// `session_options::bounce_classifier` is null.
  static const bounce_classifier& builtin() {
    static const bounce_classifier instance;
    return instance;
  }

  // ---- classes -----------------------------------------------------------------------------

  /// Registers a custom class: `code` 1-99 and not a built-in code
  /// (`errc::invalid_bounce_class`, `errc::bounce_class_clash`). Registering the same code
  /// again with the same name and description is a no-op; otherwise it clashes.
  std::error_code register_class(int code, std::string_view name, std::string_view description = {},
                                 bounce_category category = bounce_category::soft) {
    if (code < 1 || code > 99 || name.empty()) return errc::invalid_bounce_class;
    if (find_builtin_bounce_class(code)) return errc::bounce_class_clash;
    auto it = custom_.find(code);
    if (it != custom_.end()) {
      const auto& c = it->second;
      return c.name == name && c.description == description && c.category == category
                 ? std::error_code{}
                 : make_error_code(errc::bounce_class_clash);
    }
    custom_.emplace(code, custom_class{std::string(name), std::string(description), category});
    return {};
  }

  /// The class with `code` (built in or registered); the views live as long as this classifier
  /// (built-in ones forever). Nothing for unknown codes and for 0.
  std::optional<bounce_class_info> find_class(int code) const noexcept {
    if (const bounce_class_info* b = find_builtin_bounce_class(code)) return *b;
    auto it = custom_.find(code);
    if (it == custom_.end()) return std::nullopt;
    return bounce_class_info{code, it->second.name, it->second.description, it->second.category};
  }
  /// The name of class `code`; "" for 0 (delivered) and unknown codes.
  std::string_view class_name(int code) const noexcept {
    if (const bounce_class_info* b = find_builtin_bounce_class(code)) return b->name;
    auto it = custom_.find(code);
    return it == custom_.end() ? std::string_view{} : std::string_view(it->second.name);
  }
  bool has_class(int code) const noexcept { return !class_name(code).empty(); }

  // ---- rules -------------------------------------------------------------------------------

  /// Adds one rule after those already added. `errc::unknown_bounce_class` if its class is
  /// neither built in nor registered; `errc::invalid_bounce_rule` for a pattern or condition
  /// that cannot be compiled (an empty alternative, "5.x.1", a reply code outside 200-599...).
  std::error_code add_rule(const bounce_rule& rule) {
    if (!has_class(rule.bounce_class)) return errc::unknown_bounce_class;
    if (!detail::valid_rule_domain(rule.domain)) return errc::invalid_bounce_rule;
    detail::compiled_bounce_rule c;
    if (auto ec = detail::compile_bounce_rule(rule.bounce_class, rule.reply_code, rule.enhanced,
                                              rule.pattern, c))
      return ec;
    if (rule.domain.empty()) {
      global_.push_back(std::move(c));
    } else {
      std::string d;
      detail::append_normalized(d, rule.domain);
      by_domain_[d].push_back(std::move(c));
    }
    return {};
  }

  /// Parses Momentum's `domain,code,rule` lines (`parse_bounce_rules`) and adds them: all of
  /// them, or none when a line is invalid or names an unknown class (`*where` says which).
  std::error_code add_rules(std::string_view text, bounce_rule_error* where = nullptr) {
    std::vector<bounce_rule> rules;
    if (auto ec = parse_bounce_rules(text, rules, where)) return ec;
    // Check everything before adding anything; line numbers are found again for the message.
    for (const auto& r : rules) {
      detail::compiled_bounce_rule c;
      std::error_code ec = has_class(r.bounce_class)
                               ? detail::compile_bounce_rule(r.bounce_class, 0, {}, r.pattern, c)
                               : make_error_code(errc::unknown_bounce_class);
      if (ec) {
        if (where)
          *where = {line_of(text, r), ec == errc::unknown_bounce_class
                                          ? "unknown class code " + std::to_string(r.bounce_class)
                                          : "invalid rule '" + r.pattern + "'"};
        return ec;
      }
    }
    for (const auto& r : rules) (void)add_rule(r);
    return {};
  }

  /// Removes every rule the user added (not the registered classes).
  void clear_rules() noexcept {
    global_.clear();
    by_domain_.clear();
  }
  std::size_t rule_count() const noexcept {
    std::size_t n = global_.size();
    for (const auto& [d, v] : by_domain_) n += v.size();
    return n;
  }

  // ---- classification ------------------------------------------------------------------------

  /// The class of a reply: 0 for 2yz and 3yz, else a class code. `code` 0 classifies `text`
  /// alone. `domain`: the recipient's domain, for per-domain rules.
  int classify(int code, const enhanced_status& enhanced, std::string_view text,
               std::string_view domain = {}) const {
    if (code >= 200 && code < 400) return 0;
    std::string hay;
    hay.reserve(text.size() + 16);
    hay += ' ';
    if (code > 0) {
      hay += std::to_string(code);
      hay += ' ';
    }
    if (enhanced.present()) {
      hay += enhanced.to_string();
      hay += ' ';
    }
    detail::append_normalized(hay, text);
    if (hay.back() != ' ') hay += ' ';
    return decide(code, enhanced, detail::bounce_text(hay), domain);
  }

  /// The class of a parsed reply.
  int classify(const reply& r, std::string_view domain = {}) const {
    return classify(r.code, r.enhanced, r.text, domain);
  }

  /// The class of a raw response as Momentum's `smtp_error_classify` takes it: "550 5.1.1
  /// text", possibly several lines ("550-5.1.1 a\r\n550 5.1.1 b"). A response that does not
  /// start with a reply code is classified by its text alone.
  int classify_response(std::string_view response, std::string_view domain = {}) const {
    int code = 0;
    enhanced_status es;
    std::string text;
    bool first = true;
    while (!response.empty()) {
      const std::size_t nl = response.find('\n');
      std::string_view line = response.substr(0, nl);
      response = nl == response.npos ? std::string_view{} : response.substr(nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.size() >= 3 && detail::all_digits(line.substr(0, 3)) &&
          (line.size() == 3 || line[3] == ' ' || line[3] == '-')) {
        if (first) code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        line.remove_prefix(line.size() == 3 ? 3 : 4);
        enhanced_status e;
        const std::size_t n = parse_enhanced_status(line, e);
        if (n && first) es = e;
        line.remove_prefix(n);
      }
      if (!first) text += '\n';
      text += line;
      first = false;
    }
    return classify(code, es, text, domain);
  }

  /// The class of a local failure: DNS, timeout, TLS, a refused or dropped connection, a
  /// message refused before sending... The user's rules see the error's message as text (with
  /// no reply code); then smtpipe's `errc`, Asio's resolver errors and system errors map to
  /// classes (docs/bounce-classes.md); anything else is Undetermined. 0 for no error.
  int classify_error(std::error_code ec, std::string_view domain = {}) const {
    if (!ec) return 0;
    if (!global_.empty() || !by_domain_.empty()) {
      std::string hay = " ";
      detail::append_normalized(hay, ec.message());
      if (hay.back() != ' ') hay += ' ';
      if (int c = user_decide(0, {}, detail::bounce_text(hay), domain)) return c;
    }
    return builtin_rules_ ? code_of(builtin_error_class(ec)) : code_of(bounce_class::undetermined);
  }

  /// The built-in mapping of local errors (what `classify_error` falls back to).
  static bounce_class builtin_error_class(std::error_code ec) noexcept {
    if (!ec) return bounce_class::none;
    const std::string_view cat = ec.category().name();
    if (ec.category() == error_category())
      return smtpipe_error_class(static_cast<errc>(ec.value()));
    // Asio's resolver categories: no such host, no address, server failure, unknown service.
    if (cat == "asio.netdb" || cat == "asio.addrinfo") return bounce_class::dns_failure;
    if (cat == "asio.misc") return bounce_class::transient_failure;  // eof, ...
    if (cat.substr(0, 8) == "asio.ssl") return bounce_class::transient_failure;
    // Asio's own system category ("asio.system") carries errno values too.
    const std::error_condition cond =
        cat == "asio.system" ? std::system_category().default_error_condition(ec.value())
                             : ec.default_error_condition();
    if (cond.category() == std::generic_category()) {
      if (cond == std::errc::timed_out) return bounce_class::timeout;
      return bounce_class::transient_failure;  // refused, reset, unreachable, broken pipe...
    }
    return bounce_class::undetermined;
  }

 private:
  struct custom_class {
    std::string name;
    std::string description;
    bounce_category category;
  };

  static bounce_class smtpipe_error_class(errc e) noexcept {
    switch (e) {
      case errc::timeout:
      case errc::session_deadline: return bounce_class::timeout;
      case errc::connection_closed:
      case errc::service_not_available:
      case errc::not_attempted:
      case errc::tls_handshake_failed: return bounce_class::transient_failure;
      case errc::reply_line_too_long:
      case errc::reply_too_long:
      case errc::malformed_reply_code:
      case errc::reply_code_mismatch:
      case errc::control_character_in_reply:
      case errc::unexpected_reply:
      case errc::unsolicited_reply:
      case errc::early_reply: return bounce_class::generic;
      case errc::greeting_refused: return bounce_class::mail_block;
      case errc::message_too_big: return bounce_class::too_large;
      // Routing: a domain that does not exist or takes no mail has no valid recipient; a
      // lookup that failed may succeed later.
      case errc::domain_not_found:
      case errc::null_mx: return bounce_class::invalid_recipient;
      case errc::dns_timeout:
      case errc::dns_failure:
      case errc::dns_bogus:
      case errc::no_mx_address:
      case errc::resolver_setup: return bounce_class::dns_failure;
      case errc::all_hosts_failed: return bounce_class::transient_failure;
      default: return bounce_class::admin_failure;  // refused here: input, policy, credentials
    }
  }

  static std::size_t line_of(std::string_view text, const bounce_rule& r) {
    // The first line that parses back to `r`: only for error messages.
    std::size_t n = 0;
    while (!text.empty()) {
      const std::size_t nl = text.find('\n');
      const std::string_view line = text.substr(0, nl);
      text = nl == text.npos ? std::string_view{} : text.substr(nl + 1);
      ++n;
      std::vector<bounce_rule> one;
      if (!parse_bounce_rules(line, one) && one.size() == 1 &&
          one[0].bounce_class == r.bounce_class && one[0].pattern == r.pattern &&
          one[0].domain == r.domain)
        return n;
    }
    return 0;
  }

  int user_decide(int code, const enhanced_status& es, const detail::bounce_text& hay,
                  std::string_view domain) const {
    if (!by_domain_.empty() && !domain.empty() && domain.size() <= 255) {
      char buf[256];
      std::size_t n = 0;
      for (char c : domain) buf[n++] = detail::bounce_lower(c);
      auto it = by_domain_.find(std::string_view(buf, n));
      if (it != by_domain_.end())
        for (const auto& r : it->second)
          if (r.matches(code, es, hay)) return r.bounce_class;
    }
    for (const auto& r : global_)
      if (r.matches(code, es, hay)) return r.bounce_class;
    return 0;
  }

  static const std::vector<detail::compiled_bounce_rule>& builtin_rules() {
    static const std::vector<detail::compiled_bounce_rule> rules = [] {
      std::vector<detail::compiled_bounce_rule> v;
      v.reserve(std::size(detail::builtin_bounce_rules));
      for (const auto& b : detail::builtin_bounce_rules) {
        detail::compiled_bounce_rule c;
        // The built-in table compiles: tests/protocol/bounce_classifier.cpp checks it.
        (void)detail::compile_bounce_rule(code_of(b.cls), b.reply_code, b.enhanced, b.pattern, c);
        v.push_back(std::move(c));
      }
      return v;
    }();
    return rules;
  }

  int decide(int code, const enhanced_status& es, const detail::bounce_text& hay,
             std::string_view domain) const {
    if (int c = user_decide(code, es, hay, domain)) return c;
    if (builtin_rules_) {
      for (const auto& r : builtin_rules()) {
        if (!r.matches(code, es, hay)) continue;
        int c = r.bounce_class;
        // A 4yz reply is never a hard bounce; a 5yz reply that says it is temporary is a
        // soft bounce, not a transient failure (those are 4yz and local errors).
        if (code >= 400 && code < 500 && c == code_of(bounce_class::invalid_recipient))
          c = code_of(bounce_class::soft_bounce);
        if (code >= 500 && c == code_of(bounce_class::transient_failure))
          c = code_of(bounce_class::soft_bounce);
        return c;
      }
    }
    return code_of(bounce_class::undetermined);
  }

  bool builtin_rules_ = true;
  std::vector<detail::compiled_bounce_rule> global_;
  std::map<std::string, std::vector<detail::compiled_bounce_rule>, std::less<>> by_domain_;
  std::map<int, custom_class> custom_;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_BOUNCE_CLASSIFIER_HPP
