// cli/send_options.hpp - smtpipe-send's option table (also the keys of the configuration files).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_SEND_OPTIONS_HPP
#define SMTPIPE_CLI_SEND_OPTIONS_HPP

#include "cli/options.hpp"

#include <smtpipe.hpp>

#include <optional>
#include <string>
#include <vector>

namespace smtpipe_cli {

/// Every option of smtpipe-send that takes part in parsing (--help and --version stop it).
/// To add an option: one row here, its field in `cli_options`, its use in cli/session.hpp,
/// and a line in the usage text.
inline std::vector<option_spec> send_option_table() {
  using result = std::optional<std::string>;
  // A path option; a TLS one is remembered for builds without OpenSSL.
  auto path = [](std::string cli_options::*field, const char* tls_option) {
    return [field, tls_option](cli_options& o, const std::string& v) -> result {
      if (v.empty()) return std::string("needs a path");
      o.*field = v;
      if (tls_option) o.tls_options_given.push_back(tls_option);
      return std::nullopt;
    };
  };
  return {
      {{"--server"}, true, [](cli_options& o, const std::string& v) { return parse_server(v, o); }},
      {{"--dns-server"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (v.empty()) return std::string("needs IP[:PORT]");
         o.dns_server = v;
         return std::nullopt;
       }},
      {{"--dns-trust-anchor"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (v.empty()) return std::string("needs a file (or none)");
         o.dns_trust_anchor = v;
         return std::nullopt;
       }},
      {{"--requiretls"},
       false,
       [](cli_options& o, const std::string&) -> result {
         o.requiretls = true;
         o.tls_options_given.push_back("--requiretls");
         return std::nullopt;
       }},
      {{"--route-by-mx"},
       false,
       [](cli_options& o, const std::string&) -> result {
         o.route_by_mx = true;  // a later --server (or server key) undoes it
         return std::nullopt;
       }},
      {{"--mx-port"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         o.mx_port = v;  // checked with the other routing options (check_consistency)
         return std::nullopt;
       }},
      {{"--mta-sts"},
       false,
       [](cli_options& o, const std::string&) -> result {
         o.mta_sts = true;
         return std::nullopt;
       }},
      {{"--no-mta-sts"},
       false,
       [](cli_options& o, const std::string&) -> result {
         o.mta_sts = false;
         return std::nullopt;
       }},
      {{"--mta-sts-port"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         o.mta_sts_port = v;  // checked with the other routing options (check_consistency)
         return std::nullopt;
       }},
      {{"--tlsrpt"}, true, path(&cli_options::tlsrpt_file, nullptr)},
      {{"--source-address"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (v.empty()) return std::string("needs an IP address");
         o.source_address = v;
         return std::nullopt;
       }},
      {{"-f", "--from"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         o.from = v;
         return std::nullopt;
       }},
      {{"--helo"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (smtpipe::validate_domain(v, false))
           return "'" + v + "' is not a domain or address literal";
         o.helo = v;
         return std::nullopt;
       }},
      {{"--qualify-domain"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (smtpipe::validate_domain(v, false)) return "'" + v + "' is not a domain";
         o.qualify_domain = v;
         return std::nullopt;
       }},
      {{"--no-pipelining"},
       false,
       [](cli_options& o, const std::string&) -> result {
         o.pipelining = false;
         return std::nullopt;
       }},
      {{"--lmtp"},
       false,
       [](cli_options& o, const std::string&) -> result {
         o.lmtp = true;
         return std::nullopt;
       }},
      {{"--no-chunking"},
       false,
       [](cli_options& o, const std::string&) -> result {
         o.chunking = false;
         return std::nullopt;
       }},
      {{"--8bit-as-is"},
       false,
       [](cli_options& o, const std::string&) -> result {
         o.eight_bit_as_is = true;
         return std::nullopt;
       }},
      {{"--timeout-scale"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (!parse_factor(v, o.timeout_scale)) return std::string("needs a positive number");
         return std::nullopt;
       }},
      {{"--transcript"},
       false,
       [](cli_options& o, const std::string&) -> result {
         o.transcript = true;
         return std::nullopt;
       }},
      {{"--json"},
       false,
       [](cli_options& o, const std::string&) -> result {
         o.json = true;
         return std::nullopt;
       }},
      {{"-v", "--verbose"},
       false,
       [](cli_options& o, const std::string&) -> result {
         o.verbose = true;
         return std::nullopt;
       }},
      {{"-n"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (!parse_number(v, o.count) || o.count == 0)
           return std::string("needs a count of at least 1");
         return std::nullopt;
       }},
      {{"--max-recipients"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (!parse_number(v, o.max_recipients)) return std::string("needs a number (0: no limit)");
         return std::nullopt;
       }},
      {{"--tls"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         o.tls_level.clear();
         if (!parse_choice(v, tls_modes, o.tls)) {
           // A security level (docs/transport-security.md): may, encrypt, dane, dane-only,
           // verify or secure; applied per MX host when routing.
           if (!parse_choice(v, tls_levels, o.tls))
             return std::string(
                 "needs none, opportunistic, required or implicit, or a security level: may, "
                 "encrypt, dane, dane-only, verify or secure");
           o.tls_level = v;
           o.verify =
               v == "may" || v == "encrypt" ? smtpipe::tls_verify::none : smtpipe::tls_verify::host;
         }
         if (o.tls != smtpipe::tls_mode::none) o.tls_options_given.push_back("--tls " + v);
         return std::nullopt;
       }},
      {{"--tls-verify"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (!parse_choice(v, verify_modes, o.verify)) return std::string("needs none, ca or host");
         o.tls_options_given.push_back("--tls-verify");
         return std::nullopt;
       }},
      {{"--tls-name"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (v.empty()) return std::string("needs a name");
         o.tls_name = v;
         o.tls_options_given.push_back("--tls-name");
         return std::nullopt;
       }},
      {{"--ca-file"}, true, path(&cli_options::ca_file, "--ca-file")},
      {{"--cert"}, true, path(&cli_options::cert_file, "--cert")},
      {{"--key"}, true, path(&cli_options::key_file, "--key")},
      {{"--auth-user"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (v.empty()) return std::string("needs a user name");
         o.auth_user = v;
         return std::nullopt;
       }},
      {{"--auth-password-file"}, true, path(&cli_options::auth_password_file, nullptr)},
      {{"--auth-password-command"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (v.empty()) return std::string("needs a command");
         o.auth_password_command = v;
         return std::nullopt;
       }},
      {{"--auth-password"},
       true,
       [](cli_options&, const std::string&) -> result {
         return std::string(
             "does not exist: a password on the command line is visible to every user of "
             "the machine; use --auth-password-file");
       }},
      {{"--auth-mech"},
       true,
       [](cli_options& o, const std::string& v) -> result {
         if (v.empty()) return std::string("needs a SASL mechanism name");
         o.auth_mech = v;
         // SASL names are upper case (RFC 4422 §3.1); accept "plain" for "PLAIN".
         for (char& c : o.auth_mech)
           if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
         return std::nullopt;
       }},
      {{"--allow-plaintext-auth"},
       false,
       [](cli_options& o, const std::string&) -> result {
         o.allow_plaintext_auth = true;
         return std::nullopt;
       }},
  };
}

}  // namespace smtpipe_cli

#endif  // !SMTPIPE_CLI_SEND_OPTIONS_HPP
