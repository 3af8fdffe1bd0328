// cli/report.hpp - What a run says: JSON lines, per-recipient text lines, failures, exit status.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_REPORT_HPP
#define SMTPIPE_CLI_REPORT_HPP

#include "cli/exit_codes.hpp"
#include "cli/options.hpp"
#include "cli/output.hpp"

#include <smtpipe.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace smtpipe_cli {

/// True when every message was refused by validation: nothing was sent, nothing connected.
inline bool refused_before_connecting(const smtpipe::session_result& r) {
  return !r.messages.empty() && std::all_of(r.messages.begin(), r.messages.end(),
                                            [](const auto& m) { return bool(m.error); });
}

inline int exit_status(const smtpipe::session_result& r) {
  if (refused_before_connecting(r)) return exit_code::data_error;
  if (r.count(smtpipe::delivery_status::permanent) > 0) return exit_code::unavailable;
  if (!r.all_delivered()) return exit_code::temp_fail;
  return exit_code::ok;
}

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0.
inline std::size_t utf8_sequence(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F)) return 0;  // overlong, surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F)) return 0;
    return 4;
  }
  return 0;
}

/// `s` as a JSON string: quotes, backslashes and controls escaped; ill-formed UTF-8 becomes
/// U+FFFD so the output is always valid JSON.
inline std::string json_string(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence(s.substr(i));
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out + '"';
}

inline std::string json_error(std::error_code ec) {
  return ec ? json_string(ec.message()) : std::string("null");
}

/// A host (address) routed delivery tried or skipped and did not deliver to: TLS security
/// level or DANE not met, TLSA lookup failed, no connection, greeting refused...
struct refused_host {
  std::string domain, host, address, reason;
};
inline std::vector<refused_host>& refused_hosts() {
  static std::vector<refused_host> hosts;
  return hosts;
}

/// One object per recipient (and per copy), one `{"refused": ...}` per host routing left,
/// then one `{"session": ...}` object: how the session ended and what TLS it used.
inline void report_json(const cli_options& o, const smtpipe::session_result& r,
                        buffered_output& out) {
  for (std::size_t m = 0; m < r.messages.size(); ++m) {
    for (const auto& rr : r.messages[m].recipients) {
      out << "{\"message\":" << m + 1 << ",\"rcpt\":" << json_string(rr.address) << ",\"status\":\""
          << smtpipe::to_string(rr.status) << "\",\"code\":" << rr.code << ",\"enhanced\":"
          << (rr.enhanced.present() ? json_string(rr.enhanced.to_string()) : "null")
          << ",\"text\":" << json_string(rr.text) << ",\"state\":" << json_string(rr.state)
          << ",\"host\":" << (rr.host.empty() ? "null" : json_string(rr.host))
          << ",\"address\":" << (rr.host_address.empty() ? "null" : json_string(rr.host_address))
          << ",\"tls_auth\":" << (rr.tls_auth.empty() ? "null" : json_string(rr.tls_auth))
          << ",\"class\":" << rr.bounce_class
          << ",\"class_name\":" << (rr.bounce_class ? json_string(rr.bounce_class_name) : "null")
          << "}\n";
    }
  }
  for (const auto& h : refused_hosts())
    out << "{\"refused\":{\"domain\":" << json_string(h.domain)
        << ",\"host\":" << json_string(h.host)
        << ",\"address\":" << (h.address.empty() ? "null" : json_string(h.address))
        << ",\"reason\":" << json_string(h.reason) << "}}\n";
  const auto flag = [](bool b) { return b ? "true" : "false"; };
  const smtpipe::tls_status& tls = r.tls;
  out << "{\"session\":{\"server\":"
      << (o.routed && !o.server_given ? "null" : json_string(o.host + ':' + o.port))
      << ",\"error\":" << json_error(r.error) << ",\"error_state\":" << json_string(r.error_state)
      << ",\"error_text\":" << json_string(r.error_text)
      << ",\"greeting\":" << json_string(r.greeting) << ",\"esmtp\":" << flag(r.esmtp)
      << ",\"pipelining\":" << flag(r.pipelining) << ",\"authenticated\":" << flag(r.authenticated)
      << ",\"transactions\":" << r.transactions << ",\"tls\":{\"active\":" << flag(tls.active)
      << ",\"version\":" << json_string(tls.version) << ",\"cipher\":" << json_string(tls.cipher)
      << ",\"verified\":" << flag(tls.verified)
      << ",\"verify_result\":" << json_string(tls.verify_result)
      << ",\"server_name\":" << json_string(tls.server_name)
      << ",\"auth\":" << json_string(tls.active ? tls.authentication : "none")
      << ",\"fallback_reason\":" << json_error(r.tls_fallback_reason) << "}}}\n";
}

/// Why the session ended early, on one line (the reply text or the certificate's
/// verification error included); empty when it did not.
inline std::string session_error_line(std::string_view program, const cli_options& o,
                                      const smtpipe::session_result& r) {
  if (!r.error || refused_before_connecting(r)) return {};
  std::string line = std::string(program) + ": session with " + o.host + ':' + o.port +
                     " ended early: " + r.error.message();
  if (!r.error_state.empty()) line += " (in " + r.error_state + ")";
  if (!r.error_text.empty()) line += ": " + r.error_text;
  return line + '\n';
}

/// What TLS did, when it was asked for and did not happen as configured.
inline std::string tls_note(std::string_view program, const cli_options& o,
                            const smtpipe::session_result& r) {
  if (!r.tls_fallback_reason) return {};
  return std::string(program) + ": TLS with " + o.host + ':' + o.port + " failed (" +
         r.tls_fallback_reason.message() + "): sent without TLS over a new connection\n";
}

/// The text report on standard error. Quiet unless `o.verbose`: a line per recipient that
/// was not delivered (or per message refused before sending), the TLS and session warnings,
/// and a summary when anything failed. Verbose: a line per recipient and the summary always.
inline void report_text(std::string_view program, const cli_options& o,
                        const smtpipe::session_result& r, buffered_output& out) {
  const bool several = r.messages.size() > 1;
  std::size_t total = 0;
  for (std::size_t m = 0; m < r.messages.size(); ++m) {
    const auto& mr = r.messages[m];
    total += mr.recipients.size();
    if (mr.error) {
      out << program << ": " << (several ? "message " + std::to_string(m + 1) + ": " : "")
          << "refused before sending: " << mr.error.message() << '\n';
      continue;
    }
    for (const auto& rr : mr.recipients) {
      if (!o.verbose && rr.status == smtpipe::delivery_status::delivered) continue;
      out << program << ": " << (several ? "message " + std::to_string(m + 1) + ": " : "")
          << rr.address << ": " << smtpipe::to_string(rr.status);
      if (rr.code) {
        out << " (" << rr.code;
        if (rr.enhanced.present()) out << ' ' << rr.enhanced.to_string();
        out << " in " << rr.state << ")";
      } else if (!rr.state.empty()) {
        out << " (in " << rr.state << ")";
      }
      if (!rr.text.empty()) out << ": " << rr.text;
      out << '\n';
    }
  }
  out << tls_note(program, o, r) << session_error_line(program, o, r);
  const std::size_t delivered = r.count(smtpipe::delivery_status::delivered);
  if (!o.verbose && delivered == total && !refused_before_connecting(r)) return;
  out << program << ": " << delivered << " of " << total << " deliveries accepted";
  for (auto s : {smtpipe::delivery_status::transient, smtpipe::delivery_status::permanent,
                 smtpipe::delivery_status::unknown})
    if (const auto n = r.count(s)) out << ", " << n << ' ' << smtpipe::to_string(s);
  out << '\n';
}

}  // namespace smtpipe_cli

#endif  // !SMTPIPE_CLI_REPORT_HPP
