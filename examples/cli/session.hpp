// cli/session.hpp - Credentials, session options and the one session that sends every copy.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_SESSION_HPP
#define SMTPIPE_CLI_SESSION_HPP

#include "cli/options.hpp"
#include "cli/progress.hpp"
#include "cli/routing.hpp"

#include <smtpipe.hpp>
#if SMTPIPE_SEND_TLS
#include "cli/lazy_tls.hpp"

#include <smtpipe/openssl.hpp>
#endif

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace smtpipe_cli {

/// The default sender, as sendmail-like tools make it: login@hostname, else login@localhost.
inline std::string default_sender() {
  std::string login = "postmaster";
  if (const char* l = std::getenv("LOGNAME"); l && *l) login = l;
  else if (const char* u = std::getenv("USER"); u && *u) login = u;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) {
    const std::string candidate = login + "@" + host;
    if (!smtpipe::validate_mailbox(candidate, false)) return candidate;
  }
  return login + "@localhost";
}

/// `address` with "@domain" appended when it has no '@' (a local user, as cron names
/// "root"): `o.qualify_domain`, else (`use_hostname`) this host's name. The null sender ""
/// stays as it is.
inline std::string qualified(const cli_options& o, std::string address, bool use_hostname) {
  if (address.empty() || address.find('@') != address.npos) return address;
  std::string domain = o.qualify_domain;
  if (domain.empty() && use_hostname) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0 && !smtpipe::validate_domain(host, false))
      domain = host;
  }
  return domain.empty() ? address : address + "@" + domain;
}

/// Overwrites the whole buffer of `s`, its capacity (through a volatile pointer, so that the
/// stores are kept), then empties it.
inline void wipe(std::string& s) noexcept {
  s.resize(s.capacity());  // within the capacity: never allocates
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

/// Reads `fd` to its end into `out`; false on a read error.
inline bool read_secret(int fd, std::string& out) {
  char buffer[4096];
  bool ok = true;
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  volatile char* b = buffer;
  for (std::size_t i = 0; i < sizeof buffer; ++i) b[i] = 0;
  return ok;
}

/// The password from `o.auth_password_file` (one trailing newline, LF or CRLF, removed) or
/// from the first line `o.auth_password_command` prints (run by /bin/sh); an error message.
inline std::optional<std::string> read_password(const cli_options& o, std::string& password) {
  if (!o.auth_password_command.empty()) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
      return std::string("cannot make a pipe: ") + std::strerror(errno);
    const pid_t pid = ::fork();
    if (pid < 0) return std::string("cannot fork: ") + std::strerror(errno);
    if (pid == 0) {
      ::dup2(pipe_fds[1], STDOUT_FILENO);
      const int null = ::open("/dev/null", O_RDONLY);
      if (null >= 0) ::dup2(null, STDIN_FILENO);
      ::execl("/bin/sh", "sh", "-c", o.auth_password_command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    const bool ok = read_secret(pipe_fds[0], password);
    ::close(pipe_fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (const auto eol = password.find('\n'); eol != password.npos) password.resize(eol);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      wipe(password);
      return "the password command failed: " + o.auth_password_command;
    }
    if (password.empty()) return "the password command printed no password";
    return std::nullopt;
  }
  const std::string& path = o.auth_password_file;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "--auth-password-file: cannot open " + path + ": " + std::strerror(errno);
  const bool ok = read_secret(fd, password);
  const std::string why = std::strerror(errno);
  ::close(fd);
  if (!ok) {
    wipe(password);
    return "--auth-password-file: cannot read " + path + ": " + why;
  }
  if (!password.empty() && password.back() == '\n') password.pop_back();
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) return "--auth-password-file: " + path + " holds no password";
  return std::nullopt;
}

/// Session options from `o`; an error message when the TLS settings (a CA file, a
/// certificate or key) cannot be loaded. `password` is moved into the options and wiped.
inline std::optional<std::string> session_options_for(const cli_options& o, std::string& password,
                                                      smtpipe::session_options& s) {
  s.helo_name = o.helo;
  s.pipelining = o.pipelining;
  s.lmtp = o.lmtp;
  s.chunking = o.chunking;
  s.eight_bit_as_is = o.eight_bit_as_is;
  s.timeouts = s.timeouts.scaled(o.timeout_scale);
  s.max_recipients_per_transaction = o.max_recipients;
  s.tls = o.tls;
  s.tls_server_name = o.tls_name;
#if SMTPIPE_SEND_TLS
  // The provider also brings SCRAM-SHA-256 and CRAM-MD5, so it is made even without TLS;
  // with the system's CAs only when first used (cli/lazy_tls.hpp), with named files at once.
  smtpipe::tls_settings settings;
  settings.verify = o.verify;
  settings.ca_file = o.ca_file;
  settings.cert_file = o.cert_file;
  settings.key_file = o.key_file;
  if (o.ca_file.empty() && o.cert_file.empty()) {
    s.tls_provider = std::make_shared<lazy_openssl_provider>(std::move(settings));
  } else if (auto ec = smtpipe::make_openssl_provider(settings, s.tls_provider)) {
    const std::string files = o.ca_file + (o.ca_file.empty() || o.cert_file.empty() ? "" : ", ") +
                              o.cert_file + (o.cert_file.empty() ? "" : ", " + o.key_file);
    return "cannot set up TLS" + (files.empty() ? std::string() : " with " + files) + ": " +
           ec.message();
  }
#endif
  if (o.auth_user) {
    s.auth.emplace();
    s.auth->credentials.user = *o.auth_user;
    s.auth->credentials.secret = std::move(password);
    wipe(password);  // what the move left behind, if anything
    s.auth->mechanism = o.auth_mech;
    s.auth->allow_plaintext = o.allow_plaintext_auth;
  }
  return std::nullopt;
}

/// The message the session sends `o.count` times: envelope and DSN parameters from `o`.
inline smtpipe::message make_message(const cli_options& o, smtpipe::body_source body) {
  smtpipe::message m;
  m.sender = o.from ? qualified(o, *o.from, false) : default_sender();
  m.recipients.reserve(o.recipients.size());
  for (const auto& r : o.recipients) {
    smtpipe::rcpt_parameters p;
    p.notify = o.notify;
    m.recipients.emplace_back(qualified(o, r, false), std::move(p));
  }
  m.body = std::move(body);
  m.params.ret = o.ret;
  m.params.envid = o.envid;
  m.params.requiretls = o.requiretls;
  m.params.body = o.body;
  return m;
}

/// Delivers `o.count` copies of `m` over one connection. `progress_fd` >= 0: a progress line
/// there (a terminal) while the copies go.
inline smtpipe::session_result send(const cli_options& o, smtpipe::session_options options,
                                    const smtpipe::message& m, int progress_fd) {
  const std::vector<smtpipe::message> messages(o.count, m);

  smtpipe::transcript transcript(std::cerr);
  std::optional<progress_line> progress;
  if (o.transcript) options.observer = &transcript;
  else if (progress_fd >= 0) options.observer = &progress.emplace(progress_fd, o.count);

  // The pipeline and the messages are referenced by the session: they outlive io.run().
  const smtpipe::default_pipeline pipeline;
  asio::io_context io(1);
  smtpipe::session_result result;
  std::exception_ptr failure;
#if SMTPIPE_SEND_ROUTING
  if (o.routed) {
    result = send_routed(o, options, io, pipeline, messages);
  } else
#endif
    asio::co_spawn(io, smtpipe::deliver(o.host, o.port, pipeline, messages, options),
                   [&](std::exception_ptr e, smtpipe::session_result r) {
                     failure = e;
                     result = std::move(r);
                   });
  io.run();
  if (progress) progress->finish();
  if (options.auth) wipe(options.auth->credentials.secret);
  if (failure) std::rethrow_exception(failure);
  return result;
}

}  // namespace smtpipe_cli

#endif  // !SMTPIPE_CLI_SESSION_HPP
