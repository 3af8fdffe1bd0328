// cli/sendmail.hpp - The sendmail(8) command line smtpipe-sendmail accepts, and what it means.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_SENDMAIL_HPP
#define SMTPIPE_CLI_SENDMAIL_HPP

#include "cli/options.hpp"

#include <smtpipe.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpipe_cli {

/// What the sendmail-style command line asked for, beyond the `cli_options` it sets.
struct sendmail_request {
  bool recipients_from_headers = false;    // -t
  bool ignore_dots = false;                // -i, -oi
  std::string full_name;                   // -F (else $NAME)
  std::optional<std::string> config_path;  // -C
  std::vector<std::string> recipients;
  std::string stop;  // "--help" or "--version"
  std::optional<std::string> error;
};

/// NOTIFY from -N: "never", or a comma-separated list of success, failure and delay.
inline bool parse_notify(std::string_view text, unsigned& out) {
  if (text == "never") {
    out = smtpipe::notify_never;
    return true;
  }
  unsigned flags = 0;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view word = text.substr(0, comma);
    if (word == "success") flags |= smtpipe::notify_success;
    else if (word == "failure") flags |= smtpipe::notify_failure;
    else if (word == "delay") flags |= smtpipe::notify_delay;
    else return false;
    text = comma == text.npos ? std::string_view() : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) return false;
  }
  if (flags == 0) return false;
  out = flags;
  return true;
}

/// An envelope address as sendmail takes it: "<a@b>" or "a@b"; "" and "<>" the null sender.
inline std::string strip_angles(std::string_view a) {
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
  return std::string(a);
}

/// Parses sendmail's options. Values attach ("-fsender", "-FCronDaemon", "-N never") or
/// follow; "-o<letter>..." and the other options sendmail accepts for compatibility are
/// accepted and ignored (-oi excepted: it is -i); modes other than -bm are refused.
inline sendmail_request parse_sendmail_command_line(int argc, char** argv, cli_options& o) {
  sendmail_request r;
  bool options_done = false;
  auto fail = [&](std::string message) {
    r.error = std::move(message);
    return r;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      r.recipients.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help" || arg == "--version") {
      r.stop = arg;
      return r;
    }
    // getopt(3) as sendmail uses it: switches may share one argument ("-ti"); an option
    // with a value takes the rest of its argument ("-FCronDaemon", "-oi") or the next one.
    static constexpr std::string_view switches = "GimnstUv";
    static constexpr std::string_view with_value = "ABbCdeFfhLMNOopqRrVX";
    for (std::size_t j = 1; j < arg.size(); ++j) {
      const char letter = arg[j];
      if (switches.find(letter) != switches.npos) {
        if (letter == 't') r.recipients_from_headers = true;
        else if (letter == 'i') r.ignore_dots = true;
        else if (letter == 'v') o.verbose = true;
        continue;  // -G, -m, -n, -s, -U: accepted and ignored, as sendmail's compatibility
      }
      if (with_value.find(letter) == with_value.npos)
        return fail("unknown option '-" + std::string(1, letter) + "'");
      std::string value;
      if (j + 1 < arg.size()) value = arg.substr(j + 1);
      else if (letter == 'q') value.clear();  // -q alone: an interval-less queue run
      else if (i + 1 < argc) value = argv[++i];
      else return fail(std::string("-") + letter + " needs a value");
      const std::string option = std::string("-") + letter + value;
      switch (letter) {
        case 'f':
        case 'r': o.from = strip_angles(value); break;
        case 'F': r.full_name = value; break;
        case 'N':
          if (!parse_notify(value, o.notify))
            return fail("-N needs never, or success, failure and delay separated by commas");
          break;
        case 'R':
          if (value == "full") o.ret = smtpipe::dsn_ret::full;
          else if (value == "hdrs") o.ret = smtpipe::dsn_ret::headers;
          else return fail("-R needs full or hdrs");
          break;
        case 'V':
          if (value.empty()) return fail("-V needs an envelope ID");
          o.envid = value;
          break;
        case 'B':
          if (value == "7BIT") o.body = smtpipe::body_type::seven_bit;
          else if (value == "8BITMIME") o.body = smtpipe::body_type::eight_bit_mime;
          else return fail("-B needs 7BIT or 8BITMIME");
          break;
        case 'C': r.config_path = value; break;
        case 'o':  // -oi is -i; every other -oX (-odb, -odi, -oem, -om...) is ignored
          if (value == "i") r.ignore_dots = true;
          break;
        case 'b':
          if (value != "m")
            return fail(option +
                        ": only -bm (deliver a message) is supported, no queue, "
                        "daemon or alias mode");
          break;
        case 'q': return fail(option + ": there is no queue to run");
        default: break;  // -A, -d, -e, -h, -L, -M, -O, -p, -X: accepted and ignored
      }
      break;  // the value took the rest of the argument
    }
  }
  return r;
}

}  // namespace smtpipe_cli

#endif  // !SMTPIPE_CLI_SENDMAIL_HPP
