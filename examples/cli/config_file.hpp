// cli/config_file.hpp - smtpipe-sendmail's configuration files: "key value" lines, option names.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_CONFIG_FILE_HPP
#define SMTPIPE_CLI_CONFIG_FILE_HPP

#include "cli/options.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpipe_cli {

/// The keys a configuration file may set: the long options of smtpipe-send that say how to
/// reach and talk to the server (never what to send).
constexpr std::string_view config_keys[] = {"server",
                                            "from",
                                            "helo",
                                            "qualify-domain",
                                            "no-pipelining",
                                            "no-chunking",
                                            "timeout-scale",
                                            "max-recipients",
                                            "tls",
                                            "tls-verify",
                                            "tls-name",
                                            "ca-file",
                                            "cert",
                                            "key",
                                            "auth-user",
                                            "auth-password-file",
                                            "auth-password-command",
                                            "auth-mech",
                                            "allow-plaintext-auth",
                                            "dns-server",
                                            "dns-trust-anchor",
                                            "mx-port",
                                            "requiretls",
                                            "route-by-mx"};

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// Applies the file at `path` to `o` through `table` (the rows of smtpipe-send's options).
/// Lines: "key value", "key = value" or a switch alone ("no-pipelining", or "... yes|no");
/// '#' starts a comment line; a value may be in double quotes. `missing_ok`: a file that does
/// not exist is no error. An error message "path:line: why".
inline std::optional<std::string> apply_config_file(const std::string& path, bool missing_ok,
                                                    const std::vector<option_spec>& table,
                                                    cli_options& o) {
  std::ifstream in(path);
  if (!in) {
    if (missing_ok && errno == ENOENT) return std::nullopt;
    return "cannot read " + path + ": " + std::strerror(errno);
  }
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = path + ':' + std::to_string(number) + ": ";
    const std::string_view text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    const auto split = text.find_first_of(" \t=");
    const std::string key(text.substr(0, split));
    std::string_view value = split == text.npos ? std::string_view() : trim(text.substr(split));
    if (!value.empty() && value.front() == '=') value = trim(value.substr(1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    bool known = false;
    for (auto k : config_keys) known = known || k == key;
    const option_spec* spec = nullptr;
    for (const auto& row : table)
      for (auto n : row.names)
        if (n.size() == key.size() + 2 && n.starts_with("--") && n.substr(2) == key) spec = &row;
    if (!known || !spec) return where + "unknown key '" + key + "'";
    if (!spec->takes_value) {
      if (value == "no" || value == "false" || value == "off") continue;
      if (!value.empty() && value != "yes" && value != "true" && value != "on")
        return where + key + " takes yes or no";
      value = {};
    } else if (value.empty()) {
      return where + key + " needs a value";
    }
    if (auto error = spec->apply(o, std::string(value))) return where + key + ": " + *error;
  }
  return std::nullopt;
}

/// The user's configuration file: $SMTPIPE_SENDMAIL_CONF when set (empty: none), else
/// $XDG_CONFIG_HOME/smtpipe/sendmail.conf, else ~/.config/smtpipe/sendmail.conf.
inline std::string user_config_path() {
  if (const char* e = std::getenv("SMTPIPE_SENDMAIL_CONF")) return e;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x)
    return std::string(x) + "/smtpipe/sendmail.conf";
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.config/smtpipe/sendmail.conf";
  return {};
}

}  // namespace smtpipe_cli

#endif  // !SMTPIPE_CLI_CONFIG_FILE_HPP
