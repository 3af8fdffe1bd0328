// smtpipe/protocol/command.hpp - SMTP command line formatting, validated before any byte is kept.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_COMMAND_HPP
#define SMTPIPE_PROTOCOL_COMMAND_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"
#include "smtpipe/protocol/address.hpp"
#include "smtpipe/protocol/base64.hpp"
#include "smtpipe/protocol/esmtp_parameters.hpp"
#include "smtpipe/protocol/xtext.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

// Every format_* function appends one complete command line, CRLF included, to `out` and returns
// an empty error_code. On error it returns the error and `out` is byte for byte what it was
// before the call. Arguments are checked as the octets that go on the wire: there is no
// transcoding step after validation (the lesson of CVE-2025-7962). Any C0 control or DEL in any
// argument is errc::control_character_in_argument.

namespace smtpipe {

/// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets, verb and CRLF included.
inline constexpr std::size_t max_command_line = 512;

/// Extra octets allowed on a MAIL FROM or RCPT TO line that carries ESMTP parameters.
///
/// RFC 5321 §4.5.3.1.4 lets extensions raise the 512-octet limit, and each MAIL/RCPT parameter
/// extension does (RFC 1870 SIZE by 26, RFC 4954 AUTH= by 500, RFC 3461 and RFC 6531 for theirs).
/// Rather than summing per-extension allowances, smtpipe allows one flat 500 octets beyond 512
/// once a line has any parameter; a line without parameters must fit in 512. The path itself is
/// bounded by its own limits (256 octets), so only parameters can use the allowance.
inline constexpr std::size_t max_parameters_extra = 500;

/// RFC 3461 §4.4: an ENVID is at most 100 characters once xtext-encoded.
inline constexpr std::size_t max_envid = 100;

/// Our cap on a SASL response line sent after a 334 challenge (format_auth_response()); such
/// lines carry base64 tokens (OAuth bearer tokens run to kilobytes) and are not commands.
inline constexpr std::size_t max_auth_response_line = 12288;

namespace detail {

inline constexpr std::string_view crlf = "\r\n";

// Appends CRLF, then rolls `out` back to `base` if the line from `base` exceeds `limit`.
inline std::error_code end_line(std::string& out, std::size_t base, std::size_t limit) {
  out += crlf;
  if (out.size() - base > limit) {
    out.resize(base);
    return errc::command_line_too_long;
  }
  return {};
}

inline std::error_code fixed_command(std::string& out, std::string_view line) {
  out += line;
  return {};
}

inline std::error_code hello_command(std::string& out, std::string_view verb,
                                     std::string_view domain) {
  if (auto ec = validate_domain(domain, false)) return ec;
  const std::size_t base = out.size();
  out += verb;
  out += ' ';
  out += domain;
  return end_line(out, base, max_command_line);
}

// esmtp-keyword: (ALPHA / DIGIT) *(ALPHA / DIGIT / "-").
constexpr bool is_esmtp_keyword(std::string_view k) noexcept {
  if (k.empty() || !is_alnum(k[0])) return false;
  for (char c : k)
    if (!is_alnum(c) && c != '-') return false;
  return true;
}

// esmtp-value: 1*(%d33-60 / %d62-126).
constexpr bool is_esmtp_value(std::string_view v) noexcept {
  if (v.empty()) return false;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == '=') return false;
  }
  return true;
}

// Checks and appends " keyword[=value]" for every extra parameter. `reserved` lists the
// keywords that have typed fields (they must be set through those, never as extras).
template <std::size_t N>
inline std::error_code append_extra(std::string& out, const std::vector<esmtp_parameter>& extra,
                                    const std::string_view (&reserved)[N]) {
  for (std::size_t i = 0; i < extra.size(); ++i) {
    const auto& p = extra[i];
    if (has_control(p.keyword) || has_control(p.value)) return errc::control_character_in_argument;
    if (!is_esmtp_keyword(p.keyword)) return errc::invalid_esmtp_keyword;
    for (std::string_view r : reserved)
      if (iequals(p.keyword, r)) return errc::invalid_esmtp_keyword;
    for (std::size_t j = 0; j < i; ++j)
      if (iequals(p.keyword, extra[j].keyword)) return errc::invalid_esmtp_keyword;
    if (!p.value.empty() && !is_esmtp_value(p.value)) return errc::invalid_esmtp_value;
    out += ' ';
    out += p.keyword;
    if (!p.value.empty()) {
      out += '=';
      out += p.value;
    }
  }
  return {};
}

// Printable US-ASCII, SP included (RFC 3461 §4: ENVID and ORCPT text before xtext encoding).
inline std::error_code check_dsn_text(std::string_view s) noexcept {
  if (has_control(s)) return errc::control_character_in_argument;
  if (has_non_ascii(s)) return errc::invalid_esmtp_value;
  return {};
}

inline void append_decimal(std::string& out, std::uint64_t v) {
  char buf[20];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, static_cast<std::size_t>(buf + sizeof buf - p));
}

inline std::error_code append_mail_parameters(std::string& out, const mail_parameters& p) {
  if (p.size) {
    out += " SIZE=";
    append_decimal(out, *p.size);
  }
  switch (p.body) {
    case body_type::unspecified: break;
    case body_type::seven_bit: out += " BODY=7BIT"; break;
    case body_type::eight_bit_mime: out += " BODY=8BITMIME"; break;
    case body_type::binary_mime: out += " BODY=BINARYMIME"; break;
  }
  if (p.smtputf8) out += " SMTPUTF8";
  switch (p.ret) {
    case dsn_ret::unspecified: break;
    case dsn_ret::full: out += " RET=FULL"; break;
    case dsn_ret::headers: out += " RET=HDRS"; break;
  }
  if (!p.envid.empty()) {
    if (auto ec = check_dsn_text(p.envid)) return ec;
    if (xtext_encoded_size(p.envid) > max_envid) return errc::invalid_esmtp_value;
    out += " ENVID=";
    xtext_encode(p.envid, out);
  }
  if (p.requiretls) out += " REQUIRETLS";
  static constexpr std::string_view reserved[] = {"SIZE", "BODY",  "SMTPUTF8",
                                                  "RET",  "ENVID", "REQUIRETLS"};
  return append_extra(out, p.extra, reserved);
}

inline std::error_code append_rcpt_parameters(std::string& out, const rcpt_parameters& p) {
  if (p.notify != notify_unspecified) {
    constexpr unsigned all = notify_never | notify_success | notify_failure | notify_delay;
    if ((p.notify & ~all) != 0) return errc::invalid_esmtp_value;
    if ((p.notify & notify_never) != 0 && p.notify != notify_never) {
      return errc::invalid_esmtp_value;  // NEVER excludes every other value (RFC 3461 §4.1)
    }
    out += " NOTIFY=";
    if (p.notify == notify_never) {
      out += "NEVER";
    } else {
      bool first = true;
      const auto add = [&](unsigned flag, std::string_view name) {
        if ((p.notify & flag) == 0) return;
        if (!first) out += ',';
        out += name;
        first = false;
      };
      add(notify_success, "SUCCESS");
      add(notify_failure, "FAILURE");
      add(notify_delay, "DELAY");
    }
  }
  if (!p.orcpt.empty()) {
    // RFC 3461 §4.2: "ORCPT=" addr-type ";" xtext, addr-type an atom.
    if (auto ec = check_dsn_text(p.orcpt)) return ec;
    const auto semi = p.orcpt.find(';');
    if (semi == std::string::npos || semi == 0 || semi + 1 == p.orcpt.size()) {
      return errc::invalid_esmtp_value;
    }
    const std::string_view type = std::string_view(p.orcpt).substr(0, semi);
    for (char c : type)
      if (!is_atext(c)) return errc::invalid_esmtp_value;
    out += " ORCPT=";
    out += type;
    out += ';';
    xtext_encode(std::string_view(p.orcpt).substr(semi + 1), out);
  }
  static constexpr std::string_view reserved[] = {"NOTIFY", "ORCPT"};
  return append_extra(out, p.extra, reserved);
}

// The path and parameters of MAIL/RCPT after validation of the path; rolls back on error.
template <class Params, class Append>
inline std::error_code path_command(std::string& out, std::string_view verb, std::string_view path,
                                    const Params& params, Append append_params) {
  const std::size_t base = out.size();
  out += verb;
  out += '<';
  out += path;
  out += '>';
  const std::size_t before_params = out.size();
  if (auto ec = append_params(out, params)) {
    out.resize(base);
    return ec;
  }
  const bool has_params = out.size() != before_params;
  return end_line(out, base, max_command_line + (has_params ? max_parameters_extra : 0));
}

}  // namespace detail

/// `EHLO domain` (RFC 5321 §4.1.1.1); `domain` must pass validate_domain() without UTF-8.
inline std::error_code format_ehlo(std::string& out, std::string_view domain) {
  return detail::hello_command(out, "EHLO", domain);
}

/// `HELO domain`, the RFC 821 greeting for servers that refuse EHLO.
inline std::error_code format_helo(std::string& out, std::string_view domain) {
  return detail::hello_command(out, "HELO", domain);
}

/// `LHLO domain` (RFC 2033, LMTP).
inline std::error_code format_lhlo(std::string& out, std::string_view domain) {
  return detail::hello_command(out, "LHLO", domain);
}

/// `MAIL FROM:<reverse_path>` and its parameters, in the order SIZE, BODY, SMTPUTF8, RET, ENVID,
/// REQUIRETLS, then `p.extra`.
///
/// An empty `reverse_path` gives the null path `<>` (bounces). Otherwise the path must pass
/// validate_mailbox(reverse_path, p.smtputf8), so a non-ASCII path without `p.smtputf8` is
/// errc::address_needs_smtputf8. ENVID must be printable ASCII (SP allowed) and at most 100
/// octets once xtext-encoded, else errc::invalid_esmtp_value. Extra parameters need a valid
/// esmtp-keyword that is neither a typed one (SIZE, BODY, SMTPUTF8, RET, ENVID) nor repeated
/// (errc::invalid_esmtp_keyword), and an esmtp-value or no value (errc::invalid_esmtp_value).
/// Line limit: 512 octets, or 512 + max_parameters_extra with parameters.
inline std::error_code format_mail_from(std::string& out, std::string_view reverse_path,
                                        const mail_parameters& p = {}) {
  if (!reverse_path.empty()) {
    if (auto ec = validate_mailbox(reverse_path, p.smtputf8)) return ec;
  }
  return detail::path_command(out, "MAIL FROM:", reverse_path, p, detail::append_mail_parameters);
}

/// `RCPT TO:<forward_path>` and its parameters, in the order NOTIFY, ORCPT, then `p.extra`.
///
/// `forward_path` must pass validate_mailbox(forward_path, smtputf8), where `smtputf8` says
/// whether the transaction's MAIL FROM carried SMTPUTF8; the special recipient `Postmaster`
/// (any case, no domain) is also accepted. NOTIFY must be notify_never alone or a set of
/// success/failure/delay (errc::invalid_esmtp_value). ORCPT must be `addr-type;address` with an
/// atom addr-type and printable ASCII address (errc::invalid_esmtp_value); the address is
/// xtext-encoded. Extras as in format_mail_from(), with NOTIFY and ORCPT reserved.
inline std::error_code format_rcpt_to(std::string& out, std::string_view forward_path,
                                      const rcpt_parameters& p = {}, bool smtputf8 = false) {
  if (!is_postmaster(forward_path)) {
    if (auto ec = validate_mailbox(forward_path, smtputf8)) return ec;
  }
  return detail::path_command(out, "RCPT TO:", forward_path, p, detail::append_rcpt_parameters);
}

/// `DATA`.
inline std::error_code format_data(std::string& out) {
  return detail::fixed_command(out, "DATA\r\n");
}

/// `BDAT size` or `BDAT size LAST` (RFC 3030); `size` is the exact octet count of the chunk that
/// follows, after any canonicalisation.
inline std::error_code format_bdat(std::string& out, std::uint64_t size, bool last) {
  out += "BDAT ";
  detail::append_decimal(out, size);
  out += last ? " LAST\r\n" : "\r\n";
  return {};
}

/// `RSET`.
inline std::error_code format_rset(std::string& out) {
  return detail::fixed_command(out, "RSET\r\n");
}
/// `NOOP`.
inline std::error_code format_noop(std::string& out) {
  return detail::fixed_command(out, "NOOP\r\n");
}
/// `QUIT`.
inline std::error_code format_quit(std::string& out) {
  return detail::fixed_command(out, "QUIT\r\n");
}
/// `STARTTLS` (RFC 3207).
inline std::error_code format_starttls(std::string& out) {
  return detail::fixed_command(out, "STARTTLS\r\n");
}

/// `AUTH mechanism [initial-response]` (RFC 4954 §4).
///
/// `mechanism` must be an RFC 4422 §3.1 name, 1-20 of `A-Z 0-9 - _` (uppercase only), else
/// errc::invalid_argument. The initial response is sent if `has_initial` is true or
/// `initial_response_base64` is not empty: an empty response goes out as "=", anything else must
/// be canonical base64 (errc::invalid_base64 otherwise). If the line would exceed 512 octets the
/// result is errc::command_line_too_long: RFC 4954 §4 then requires sending AUTH without the
/// initial response and answering the 334 challenge with format_auth_response().
inline std::error_code format_auth(std::string& out, std::string_view mechanism,
                                   std::string_view initial_response_base64 = {},
                                   bool has_initial = false) {
  if (detail::has_control(mechanism) || detail::has_control(initial_response_base64)) {
    return errc::control_character_in_argument;
  }
  if (mechanism.empty() || mechanism.size() > 20) return errc::invalid_argument;
  for (char c : mechanism) {
    const bool ok = (c >= 'A' && c <= 'Z') || detail::is_digit(c) || c == '-' || c == '_';
    if (!ok) return errc::invalid_argument;
  }
  const bool send_initial = has_initial || !initial_response_base64.empty();
  const bool empty_initial = initial_response_base64.empty() || initial_response_base64 == "=";
  if (send_initial && !empty_initial && !is_base64(initial_response_base64)) {
    return errc::invalid_base64;
  }
  const std::size_t base = out.size();
  out += "AUTH ";
  out += mechanism;
  if (send_initial) {
    out += ' ';
    out += empty_initial ? std::string_view("=") : initial_response_base64;
  }
  return detail::end_line(out, base, max_command_line);
}

/// A SASL response line sent after a 334 challenge (RFC 4954 §4): canonical base64 (an empty
/// response is an empty line) or "*" to cancel the exchange. Errors: errc::invalid_base64,
/// errc::command_line_too_long beyond max_auth_response_line octets.
inline std::error_code format_auth_response(std::string& out, std::string_view base64_or_cancel) {
  if (detail::has_control(base64_or_cancel)) return errc::control_character_in_argument;
  if (base64_or_cancel != "*" && !is_base64(base64_or_cancel)) return errc::invalid_base64;
  const std::size_t base = out.size();
  out += base64_or_cancel;
  return detail::end_line(out, base, max_auth_response_line);
}

/// Any other command line, e.g. `VRFY x` or `XCLIENT ...`, for custom states. The caller owns
/// the grammar; this only refuses an empty line (errc::invalid_argument), C0 controls and DEL,
/// and lines over 510 octets before CRLF (errc::command_line_too_long).
inline std::error_code format_line(std::string& out, std::string_view verb_and_args) {
  if (detail::has_control(verb_and_args)) return errc::control_character_in_argument;
  if (verb_and_args.empty()) return errc::invalid_argument;
  const std::size_t base = out.size();
  out += verb_and_args;
  return detail::end_line(out, base, max_command_line);
}

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_COMMAND_HPP
