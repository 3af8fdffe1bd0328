// cli/options.hpp - What smtpipe-send and smtpipe-sendmail are asked to do, and the option table.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_OPTIONS_HPP
#define SMTPIPE_CLI_OPTIONS_HPP

#include <smtpipe.hpp>

#include <asio/ip/address.hpp>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#ifndef SMTPIPE_SEND_TLS
#define SMTPIPE_SEND_TLS 0
#endif

namespace smtpipe_cli {

#ifndef SMTPIPE_SEND_ROUTING
#define SMTPIPE_SEND_ROUTING 0
#endif

constexpr bool tls_built = SMTPIPE_SEND_TLS != 0;
constexpr bool routing_built = SMTPIPE_SEND_ROUTING != 0;

/// Every setting of one run, from the command line and (sendmail mode) configuration files.
struct cli_options {
  std::string host = "localhost";
  std::string port = "25";
  bool server_given = false;
  bool route_by_mx = false;  // --route-by-mx: MX routing even where a server is the default
  // MX routing (a build with libunbound): without --server, or --server bound to an address.
  std::string dns_server, mx_port = "25", source_address;
  std::string dns_trust_anchor;  // --dns-trust-anchor FILE; empty: the system's root key
  std::string tls_level;         // --tls LEVEL (may, encrypt, dane...): per MX host when routed
  bool requiretls = false;       // --requiretls (RFC 8689)
  // MTA-STS (RFC 8461, on by default when routing by MX) and TLSRPT data (RFC 8460).
  bool mta_sts = true;
  std::string mta_sts_port = "443", tlsrpt_file;
  bool routed = false;
  std::optional<std::string> from;  // unset: login@hostname
  std::string helo = "localhost";
  bool pipelining = true;
  bool lmtp = false;             // --lmtp: LHLO and one reply per recipient (RFC 2033)
  bool chunking = true;          // BDAT when the server offers CHUNKING
  bool eight_bit_as_is = false;  // an 8-bit body to a server without 8BITMIME: send, unlabelled
  double timeout_scale = 1.0;
  bool transcript = false;
  bool json = false;
  bool verbose = false;
  std::size_t count = 1;
  std::size_t max_recipients = 100;
  std::vector<std::string> recipients;
  std::string qualify_domain;  // appended to addresses without '@' (sendmail mode: hostname)
  // DSN (RFC 3461) and BODY= (sendmail's -N, -R, -V, -B).
  unsigned notify = smtpipe::notify_unspecified;
  smtpipe::dsn_ret ret = smtpipe::dsn_ret::unspecified;
  std::string envid;
  smtpipe::body_type body = smtpipe::body_type::unspecified;
  // TLS: opportunistic by default where OpenSSL is built in.
  smtpipe::tls_mode tls = tls_built ? smtpipe::tls_mode::opportunistic : smtpipe::tls_mode::none;
  smtpipe::tls_verify verify = smtpipe::tls_verify::host;
  std::string tls_name, ca_file, cert_file, key_file;
  std::vector<std::string> tls_options_given;  // asking for TLS, for builds without OpenSSL
  // AUTH: the password from a file or from the first line a command prints.
  std::optional<std::string> auth_user;
  std::string auth_password_file, auth_password_command, auth_mech;
  bool allow_plaintext_auth = false;
};

// ---- values ----------------------------------------------------------------------------------

template <class Number>
bool parse_number(std::string_view text, Number& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
}

inline bool parse_factor(const std::string& text, double& out) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) || v <= 0) return false;
  out = v;
  return true;
}

template <class Enum, std::size_t N>
bool parse_choice(std::string_view text, const std::pair<std::string_view, Enum> (&choices)[N],
                  Enum& out) {
  for (const auto& [name, value] : choices)
    if (text == name) {
      out = value;
      return true;
    }
  return false;
}

constexpr std::pair<std::string_view, smtpipe::tls_mode> tls_modes[] = {
    {"none", smtpipe::tls_mode::none},
    {"opportunistic", smtpipe::tls_mode::opportunistic},
    {"required", smtpipe::tls_mode::required},
    {"implicit", smtpipe::tls_mode::implicit}};
// Security levels (Postfix's names), with the session mode they need where no MX host is
// involved (--server): dane and dane-only need routing.
constexpr std::pair<std::string_view, smtpipe::tls_mode> tls_levels[] = {
    {"may", smtpipe::tls_mode::opportunistic},  {"encrypt", smtpipe::tls_mode::required},
    {"dane", smtpipe::tls_mode::opportunistic}, {"dane-only", smtpipe::tls_mode::required},
    {"verify", smtpipe::tls_mode::required},    {"secure", smtpipe::tls_mode::required}};
constexpr std::pair<std::string_view, smtpipe::tls_verify> verify_modes[] = {
    {"none", smtpipe::tls_verify::none},
    {"ca", smtpipe::tls_verify::ca},
    {"host", smtpipe::tls_verify::host}};

/// "host", "host:port", "[v6]", "[v6]:port"; an unbracketed address with several colons is
/// an IPv6 address without a port. An error message, or nothing when `o` was set.
inline std::optional<std::string> parse_server(std::string_view spec, cli_options& o) {
  std::string_view host = spec, port;
  if (!spec.empty() && spec.front() == '[') {
    const auto close = spec.find(']');
    if (close == spec.npos) return "missing ']' in '" + std::string(spec) + "'";
    host = spec.substr(1, close - 1);
    const std::string_view rest = spec.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::string("expected ':PORT' after ']'");
      port = rest.substr(1);
      if (port.empty()) return std::string("empty port");
    }
  } else if (const auto colon = spec.rfind(':'); colon != spec.npos && spec.find(':') == colon) {
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
    if (port.empty()) return std::string("empty port");
  }
  if (host.empty()) return std::string("empty host");
  if (!port.empty()) {
    unsigned value = 0;
    if (!parse_number(port, value) || value == 0 || value > 65535)
      return "bad port '" + std::string(port) + "'";
    o.port = std::string(port);
  }
  o.host = std::string(host);
  o.server_given = true;
  o.route_by_mx = false;  // the later setting wins (configuration files, then the command line)
  return std::nullopt;
}

// ---- the option table ------------------------------------------------------------------------

/// One command-line option: its spellings ("-f", "--from"), whether it takes a value, and
/// what it does; `apply` returns an error message or nothing. A new option is one more row.
struct option_spec {
  std::vector<std::string_view> names;
  bool takes_value;
  std::function<std::optional<std::string>(cli_options&, const std::string& value)> apply;
};

/// The outcome of `parse_with_table`: an error, a stop request (--help, --version), or the
/// operands (everything that is not an option, and everything after "--").
struct table_parse {
  std::optional<std::string> error;
  std::string stop;  // the option that ends parsing at once ("--help"), if any
  std::vector<std::string> operands;
};

/// Parses "--name value", "--name=value", "-xVALUE" and "-x VALUE" against `table`.
/// `stoppers` are switches that end parsing when met (e.g. --help).
inline table_parse parse_with_table(int argc, char** argv, const std::vector<option_spec>& table,
                                    const std::vector<std::string_view>& stoppers, cli_options& o) {
  table_parse result;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || arg.empty() || arg[0] != '-' || arg == "-") {
      result.operands.push_back(std::move(arg));
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (arg.starts_with("--")) {
      if (const auto eq = arg.find('='); eq != arg.npos) {
        name = arg.substr(0, eq);
        inline_value = arg.substr(eq + 1);
      }
    } else if (arg.size() > 2) {
      name = arg.substr(0, 2);
      inline_value = arg.substr(2);
    }
    for (auto s : stoppers)
      if (name == s && !inline_value) {
        result.stop = name;
        return result;
      }
    const option_spec* spec = nullptr;
    for (const auto& row : table)
      for (auto n : row.names)
        if (n == name) spec = &row;
    if (!spec) {
      result.error = "unknown option '" + arg + "'";
      return result;
    }
    std::string value;
    if (spec->takes_value) {
      if (inline_value) value = *inline_value;
      else if (i + 1 < argc) value = argv[++i];
      else {
        result.error = name + " needs a value";
        return result;
      }
    } else if (inline_value) {
      result.error = name + " takes no value";
      return result;
    }
    if (auto error = spec->apply(o, value)) {
      result.error = name + ": " + *error;
      return result;
    }
  }
  return result;
}

/// The checks that hold whichever way the options were given; an error message.
inline std::optional<std::string> check_consistency(cli_options& o) {
  for (const std::string* given : {&o.dns_server, &o.source_address})
    if (!routing_built && !given->empty())
      return std::string("--dns-server and --source-address need a build with libunbound");
  if (o.route_by_mx && !routing_built)
    return std::string("--route-by-mx needs a build with libunbound");
  if (o.route_by_mx) o.server_given = false;  // smtpipe-sendmail's default server too
  o.routed = routing_built && (!o.server_given || !o.source_address.empty());
  if (o.lmtp && (!o.server_given || o.routed))
    return std::string("--lmtp needs --server HOST:PORT (an LMTP server is never found by MX)");
  if (o.routed) {
    unsigned port = 0;
    if (!parse_number(o.mx_port, port) || port == 0 || port > 65535)
      return "--mx-port: bad port '" + o.mx_port + "'";
    if (!parse_number(o.mta_sts_port, port) || port == 0 || port > 65535)
      return "--mta-sts-port: bad port '" + o.mta_sts_port + "'";
    std::error_code bad;
    if (!o.source_address.empty()) (void)asio::ip::make_address(o.source_address, bad);
    if (bad) return "--source-address: '" + o.source_address + "' is not an IP address";
  }
  if ((o.tls_level == "dane" || o.tls_level == "dane-only") && !o.routed)
    return "--tls " + o.tls_level + " needs routing by MX (no --server, or with --source-address)";
  if (!o.dns_trust_anchor.empty() && !o.routed)
    return std::string("--dns-trust-anchor needs routing by MX");
  if (!tls_built && !o.tls_options_given.empty())
    return o.tls_options_given.front() +
           ": this program was built without OpenSSL, so without TLS (only --tls none)";
  if (o.cert_file.empty() != o.key_file.empty()) return std::string("--cert and --key go together");
  const bool password = !o.auth_password_file.empty() || !o.auth_password_command.empty();
  if (o.auth_user && !password)
    return std::string("--auth-user needs --auth-password-file (or a password command)");
  if (!o.auth_user && (password || !o.auth_mech.empty() || o.allow_plaintext_auth))
    return std::string(
        "--auth-password-file, --auth-mech and --allow-plaintext-auth need --auth-user");
  return std::nullopt;
}

}  // namespace smtpipe_cli

#endif  // !SMTPIPE_CLI_OPTIONS_HPP
