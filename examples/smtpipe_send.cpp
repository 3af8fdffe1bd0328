// smtpipe-send - Send the RFC 5322 message on standard input to one or more recipients.
// SPDX-License-Identifier: BSL-1.0
//
//   smtpipe-send [options] RECIPIENT... < message
//   smtpipe-sendmail [sendmail options] [RECIPIENT...] < message
//
// One program, two command lines: called by a name that ends in "sendmail" (the installed
// smtpipe-sendmail link, or a /usr/sbin/sendmail link to it), it takes sendmail(8)'s options
// and reads the server, TLS and AUTH settings from configuration files (cli/sendmail.hpp,
// cli/config_file.hpp). The message is read once (cli/input.hpp): kept in memory, or spooled
// to an unlinked file and mapped when large; every copy (-n) is sent from those bytes.
// Quiet on success; failures and warnings go to standard error, each line written whole.
// Exit status follows sysexits(3): 0 every recipient delivered, 75 some not delivered but
// nothing failed permanently, 69 some recipient failed permanently, 65 the input was refused
// before connecting, 64 bad options, 74 standard input unreadable, 78 a bad configuration.
//
// TLS (STARTTLS, implicit TLS, certificate checks) needs OpenSSL: Meson defines
// SMTPIPE_SEND_TLS=1 when it found OpenSSL 3. Without it only `--tls none` is accepted.
#include "cli/config_file.hpp"
#include "cli/exit_codes.hpp"
#include "cli/headers.hpp"
#include "cli/input.hpp"
#include "cli/options.hpp"
#include "cli/output.hpp"
#include "cli/report.hpp"
#include "cli/send_options.hpp"
#include "cli/sendmail.hpp"
#include "cli/session.hpp"
#include "cli/usage.hpp"

#include <smtpipe.hpp>
#if SMTPIPE_SEND_TLS
#include <smtpipe/openssl.hpp>
#endif

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#ifndef SMTPIPE_SEND_VERSION
#define SMTPIPE_SEND_VERSION "unknown"
#endif
#ifndef SMTPIPE_SYSCONFDIR
#define SMTPIPE_SYSCONFDIR "/etc"
#endif

namespace {

using namespace smtpipe_cli;

constexpr std::string_view version_text = "smtpipe " SMTPIPE_SEND_VERSION "\n";
// The system's configuration: /etc's, then the installation's sysconfdir's when that is
// another directory (a /usr/local installation reads /usr/local/etc/ after /etc/).
constexpr std::string_view etc_config = "/etc/smtpipe-sendmail.conf";
constexpr std::string_view system_config = SMTPIPE_SYSCONFDIR "/smtpipe-sendmail.conf";

/// True when every message was refused for a BODY=8BITMIME the server does not take.
bool refused_for_8bitmime(const cli_options& o, const smtpipe::session_result& r) {
  return o.body == smtpipe::body_type::eight_bit_mime && !r.messages.empty() &&
         std::all_of(r.messages.begin(), r.messages.end(), [](const auto& m) {
           return m.error == smtpipe::errc::extension_not_supported;
         });
}

/// Reads the password if AUTH is configured, makes the session options, sends every copy,
/// and reports; the exit status.
int run(std::string_view program, cli_options options, const message_input& input,
        buffered_output& err) {
  // The progress line: only on a terminal, only for several copies, never with the
  // transcript (which owns standard error then).
  const int progress_fd = options.count > 1 && ::isatty(STDERR_FILENO) ? STDERR_FILENO : -1;
  smtpipe::session_result result;
  for (;;) {
    std::string password;
    if (options.auth_user) {
      if (auto error = read_password(options, password)) {
        err << program << ": " << *error << '\n';
        return exit_code::usage;
      }
    }
    smtpipe::session_options session;
    if (auto error = session_options_for(options, password, session)) {
      wipe(password);
      err << program << ": " << *error << '\n';
      return exit_code::usage;
    }
    try {
      result = send(options, std::move(session), make_message(options, input.body()), progress_fd);
    } catch (const std::exception& e) {
      err << program << ": internal error: " << e.what() << '\n';
      return exit_code::software;
    }
    // sendmail's -B8BITMIME declares the body; it is no requirement: a server without
    // 8BITMIME gets the message without BODY=, as sendmail and Postfix send it (as is: the
    // caller declared the body, so the automatic 8-bit refusal does not apply).
    if (!refused_for_8bitmime(options, result)) break;
    options.body = smtpipe::body_type::unspecified;
    options.eight_bit_as_is = true;
  }
  if (options.json) {
    buffered_output out(STDOUT_FILENO);
    report_json(options, result, out);
    err << tls_note(program, options, result) << session_error_line(program, options, result);
  } else {
    report_text(program, options, result, err);
  }
  return exit_status(result);
}

int smtpipe_send(int argc, char** argv, buffered_output& err) {
  constexpr std::string_view program = "smtpipe-send";
  cli_options options;
  const table_parse parsed =
      parse_with_table(argc, argv, send_option_table(), {"-h", "--help", "--version"}, options);
  if (parsed.stop == "--version") {
    buffered_output(STDOUT_FILENO) << version_text;
    return exit_code::ok;
  }
  if (!parsed.stop.empty()) {
    buffered_output(STDOUT_FILENO) << send_usage;
    return exit_code::ok;
  }
  std::optional<std::string> error = parsed.error;
  options.recipients = parsed.operands;
  if (!error && options.recipients.empty()) error = "no recipient given";
  if (!error) error = check_consistency(options);
  if (error) {
    err << program << ": " << *error << "\n(" << program << " --help for usage)\n";
    return exit_code::usage;
  }
  message_input input;
  if (auto e = input.read(STDIN_FILENO, false)) {
    err << program << ": " << *e << '\n';
    return exit_code::io_error;
  }
  return run(program, options, input, err);
}

int smtpipe_sendmail(int argc, char** argv, buffered_output& err) {
  constexpr std::string_view program = "smtpipe-sendmail";
  // The configuration first (system file, then the user's; or -C's file alone), then the
  // command line over it: -C must be known before, so the command line is parsed twice.
  cli_options options;
  {
    cli_options scratch;
    const sendmail_request peek = parse_sendmail_command_line(argc, argv, scratch);
    if (peek.stop == "--version") {
      buffered_output(STDOUT_FILENO) << version_text;
      return exit_code::ok;
    }
    if (peek.stop == "--help") {
      buffered_output(STDOUT_FILENO) << sendmail_usage;
      return exit_code::ok;
    }
    if (peek.error) {
      err << program << ": " << *peek.error << "\n(" << program << " --help for usage)\n";
      return exit_code::usage;
    }
    const auto table = send_option_table();
    std::optional<std::string> error;
    // As sendmail, it relays to one server: localhost:25 unless a configuration names
    // another (MX routing is smtpipe-send's, without --server).
    options.server_given = true;
    if (peek.config_path) {
      error = apply_config_file(*peek.config_path, false, table, options);
    } else {
      error = apply_config_file(std::string(etc_config), true, table, options);
      if (!error && system_config != etc_config)
        error = apply_config_file(std::string(system_config), true, table, options);
      const std::string user = user_config_path();
      if (!error && !user.empty()) error = apply_config_file(user, true, table, options);
    }
    if (!error) error = check_consistency(options);
    if (error) {
      err << program << ": " << *error << '\n';
      return exit_code::config;
    }
  }
  sendmail_request request = parse_sendmail_command_line(argc, argv, options);
  options.recipients = std::move(request.recipients);
  if (request.full_name.empty())
    if (const char* name = std::getenv("NAME")) request.full_name = name;

  message_input input;
  if (auto e = input.read(STDIN_FILENO, !request.ignore_dots)) {
    err << program << ": " << *e << '\n';
    return exit_code::io_error;
  }
  // Recipients from the header (-t); Bcc never leaves in the header; a From: field for a
  // message without one.
  const header_section head = parse_header_section(input.bytes());
  if (request.recipients_from_headers)
    for (auto& r : header_recipients(head)) options.recipients.push_back(std::move(r));
  // Local users ("root", as cron names them) qualified as sendmail does: with the configured
  // qualify-domain, else this host's name; then each recipient once.
  std::vector<std::string> unique;
  for (auto& address : options.recipients) {
    std::string r = qualified(options, std::move(address), true);
    if (std::find(unique.begin(), unique.end(), r) == unique.end()) unique.push_back(std::move(r));
  }
  if (options.from) options.from = qualified(options, *options.from, true);
  options.recipients = std::move(unique);
  if (options.recipients.empty()) {
    err << program << ": no recipient given"
        << (request.recipients_from_headers ? " (none in To, Cc or Bcc either)" : "") << '\n';
    return exit_code::usage;
  }
  std::string new_head = head_without_bcc(input.bytes(), head);
  const bool add_from = !has_field(head, "From");
  if (add_from) {
    const std::string sender = options.from ? *options.from : default_sender();  // qualified
    if (!sender.empty()) new_head.insert(0, from_field(input.bytes(), request.full_name, sender));
  }
  if (new_head.size() != head.head_end || add_from) {
    if (auto e = input.replace_head(head.head_end, new_head)) {
      err << program << ": " << *e << '\n';
      return exit_code::io_error;
    }
  }
  return run(program, options, input, err);
}

/// True when the program was called by a name ending in "sendmail".
bool sendmail_mode(const char* argv0) {
  const std::string_view name = argv0 ? argv0 : "";
  const auto slash = name.rfind('/');
  const std::string_view base = slash == name.npos ? name : name.substr(slash + 1);
  return base.ends_with("sendmail");
}

}  // namespace

int main(int argc, char** argv) {
  buffered_output err(STDERR_FILENO);  // written whole, once, at the end
  return argc > 0 && sendmail_mode(argv[0]) ? smtpipe_sendmail(argc, argv, err)
                                            : smtpipe_send(argc, argv, err);
}
