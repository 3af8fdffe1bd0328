// smtpipe-send - Send the RFC 5322 message on standard input to one or more recipients.
// SPDX-License-Identifier: BSL-1.0
//
//   smtpipe-send [options] RECIPIENT... < message
//
// The message is spooled to an unlinked temporary file (never held in memory) and streamed
// from there by `body_source::file`, once per copy (`-n`). Exit status follows sysexits(3):
// 0 every recipient delivered, 75 some not delivered but nothing failed permanently, 69 some
// recipient failed permanently, 65 the input was refused before connecting, 64 bad options.
//
// TLS (STARTTLS, implicit TLS, certificate checks) needs OpenSSL: Meson defines
// SMTPIPE_SEND_TLS=1 when it found OpenSSL 3. Without it only `--tls none` is accepted.
#include <smtpipe.hpp>
#if SMTPIPE_SEND_TLS
#include <smtpipe/tls.hpp>
#endif

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

// sysexits(3) values, named here so the program does not depend on <sysexits.h>.
namespace exit_code {
constexpr int ok = 0;
constexpr int usage = 64;        // EX_USAGE: bad command line
constexpr int data_error = 65;   // EX_DATAERR: the message or an address was refused
constexpr int unavailable = 69;  // EX_UNAVAILABLE: some recipient failed permanently
constexpr int software = 70;     // EX_SOFTWARE: an internal error
constexpr int io_error = 74;     // EX_IOERR: standard input or the spool file failed
constexpr int temp_fail = 75;    // EX_TEMPFAIL: not delivered, try again later
}  // namespace exit_code

constexpr std::string_view program = "smtpipe-send";

#if SMTPIPE_SEND_TLS
constexpr bool tls_built = true;
#else
constexpr bool tls_built = false;
#endif

constexpr std::string_view usage_text =
    R"(usage: smtpipe-send [options] RECIPIENT... < message

Sends the RFC 5322 message read from standard input to every RECIPIENT over one SMTP
connection. Line ends are canonicalised to CRLF and leading dots stuffed on the way out.

options:
  --server HOST[:PORT]    server to connect to (default localhost:25); an IPv6 address
                          takes brackets when a port follows: [::1]:2525
  -f, --from ADDRESS      envelope sender (default: login@hostname); "" is the null
                          sender <>
  --helo NAME             EHLO/HELO argument: a domain or an address literal
                          (default localhost)
  --no-pipelining         never pipeline commands, even when the server offers PIPELINING
  --timeout-scale FACTOR  multiply every timeout by FACTOR (> 0)
  --transcript            write the SMTP conversation to standard error
  --json                  one JSON object per recipient (and per copy) on standard output
                          instead of the summary on standard error
  -n COUNT                send the message COUNT times over the one connection
  --max-recipients N      at most N recipients per transaction (default 100; 0: no limit)
  -h, --help              show this help and exit

TLS (needs a build with OpenSSL; without it only --tls none):
  --tls MODE              none, opportunistic (default: STARTTLS when offered; if it
                          fails, the message goes over a fresh plaintext connection),
                          required (STARTTLS or nothing is sent), implicit (TLS from the
                          first byte, port 465)
  --tls-verify MODE       the server certificate: host (default: trusted chain and the
                          server's name), ca (trusted chain only), none (anything)
  --tls-name NAME         the name the certificate must carry and SNI sends (default: the
                          --server host; give it when --server is an address)
  --ca-file PATH          trusted CAs (PEM) instead of the system's
  --cert PATH --key PATH  a client certificate and its key (PEM)

authentication (RFC 4954; never before TLS unless --allow-plaintext-auth):
  --auth-user USER        authenticate as USER
  --auth-password-file PATH
                          the password (or XOAUTH2 token), read from PATH, one trailing
                          newline removed; never on the command line
  --auth-mech NAME        SCRAM-SHA-256, CRAM-MD5, PLAIN, LOGIN or XOAUTH2 (default: the
                          strongest both sides support, XOAUTH2 only when named)
  --allow-plaintext-auth  allow credentials over a connection without TLS

exit status: 0 every recipient delivered; 75 some recipient not delivered, none failed
permanently (a required TLS that failed, a certificate refused, AUTH 454...); 69 some
recipient failed permanently (AUTH refused with 535...); 65 the message or an address was
refused before connecting; 64 bad options (or TLS options in a build without OpenSSL);
74 standard input could not be spooled.
)";

// ---- parsing ---------------------------------------------------------------------------------

struct cli_options {
  std::string host = "localhost";
  std::string port = "25";
  std::optional<std::string> from;  // unset: login@hostname
  std::string helo = "localhost";
  bool pipelining = true;
  double timeout_scale = 1.0;
  bool transcript = false;
  bool json = false;
  std::size_t count = 1;
  std::size_t max_recipients = 100;
  std::vector<std::string> recipients;
  // TLS: opportunistic by default where OpenSSL is built in.
  smtpipe::tls_mode tls = tls_built ? smtpipe::tls_mode::opportunistic : smtpipe::tls_mode::none;
  smtpipe::tls_verify verify = smtpipe::tls_verify::host;
  std::string tls_name, ca_file, cert_file, key_file;
  std::vector<std::string> tls_options_given;  // asking for TLS, for builds without OpenSSL
  // AUTH.
  std::optional<std::string> auth_user;
  std::string auth_password_file, auth_mech;
  bool allow_plaintext_auth = false;
};

struct usage_error {
  std::string message;
};

/// The result of parsing: options to run with, a usage error, or a request for help.
struct parsed_command_line {
  std::optional<cli_options> options;
  std::optional<usage_error> error;
  bool help = false;
};

// "host", "host:port", "[v6]", "[v6]:port"; an unbracketed address with several colons is
// an IPv6 address without a port.
std::optional<usage_error> parse_server(std::string_view spec, cli_options& o) {
  std::string_view host = spec, port;
  if (!spec.empty() && spec.front() == '[') {
    const auto close = spec.find(']');
    if (close == spec.npos)
      return usage_error{"--server: missing ']' in '" + std::string(spec) + "'"};
    host = spec.substr(1, close - 1);
    const std::string_view rest = spec.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return usage_error{"--server: expected ':PORT' after ']'"};
      port = rest.substr(1);
      if (port.empty()) return usage_error{"--server: empty port"};
    }
  } else if (const auto colon = spec.rfind(':'); colon != spec.npos && spec.find(':') == colon) {
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
    if (port.empty()) return usage_error{"--server: empty port"};
  }
  if (host.empty()) return usage_error{"--server: empty host"};
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
      return usage_error{"--server: bad port '" + std::string(port) + "'"};
    o.port = std::string(port);
  }
  o.host = std::string(host);
  return std::nullopt;
}

template <class Number>
bool parse_number(std::string_view text, Number& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

template <class Enum, std::size_t N>
bool parse_choice(const std::string& text, const std::pair<std::string_view, Enum> (&choices)[N],
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
constexpr std::pair<std::string_view, smtpipe::tls_verify> verify_modes[] = {
    {"none", smtpipe::tls_verify::none},
    {"ca", smtpipe::tls_verify::ca},
    {"host", smtpipe::tls_verify::host}};

bool parse_factor(const std::string& text, double& out) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) || v <= 0) return false;
  out = v;
  return true;
}

parsed_command_line parse_command_line(int argc, char** argv) {
  parsed_command_line result;
  cli_options o;
  auto fail = [&](std::string message) {
    result.error = usage_error{std::move(message)};
    return result;
  };
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || arg.empty() || arg[0] != '-' || arg == "-") {
      o.recipients.push_back(std::move(arg));
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    // Split "--name=value" and "-xVALUE" so every option below takes its value alike.
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
    auto value = [&]() -> std::optional<std::string> {
      if (inline_value) return inline_value;
      if (i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    auto flag = [&](bool& target) {  // a switch: "--json=x" is an error
      if (inline_value) return false;
      target = true;
      return true;
    };
    bool no_pipelining = false;

    if (name == "-h" || name == "--help") {
      result.help = true;
      return result;
    } else if (name == "--server") {
      auto v = value();
      if (!v) return fail("--server needs HOST[:PORT]");
      if (auto e = parse_server(*v, o)) return fail(e->message);
    } else if (name == "-f" || name == "--from") {
      auto v = value();
      if (!v) return fail(name + " needs an address (\"\" for the null sender)");
      o.from = *v;
    } else if (name == "--helo") {
      auto v = value();
      if (!v) return fail("--helo needs a name");
      if (smtpipe::validate_domain(*v, false))
        return fail("--helo: '" + *v + "' is not a domain or address literal");
      o.helo = *v;
    } else if (name == "--no-pipelining") {
      if (!flag(no_pipelining)) return fail("--no-pipelining takes no value");
      o.pipelining = false;
    } else if (name == "--timeout-scale") {
      auto v = value();
      if (!v || !parse_factor(*v, o.timeout_scale))
        return fail("--timeout-scale needs a positive number");
    } else if (name == "--transcript") {
      if (!flag(o.transcript)) return fail("--transcript takes no value");
    } else if (name == "--json") {
      if (!flag(o.json)) return fail("--json takes no value");
    } else if (name == "-n") {
      auto v = value();
      if (!v || !parse_number(*v, o.count) || o.count == 0)
        return fail("-n needs a count of at least 1");
    } else if (name == "--max-recipients") {
      auto v = value();
      if (!v || !parse_number(*v, o.max_recipients))
        return fail("--max-recipients needs a number (0: no limit)");
    } else if (name == "--tls") {
      auto v = value();
      if (!v || !parse_choice(*v, tls_modes, o.tls))
        return fail("--tls needs none, opportunistic, required or implicit");
      if (o.tls != smtpipe::tls_mode::none) o.tls_options_given.push_back("--tls " + *v);
    } else if (name == "--tls-verify") {
      auto v = value();
      if (!v || !parse_choice(*v, verify_modes, o.verify))
        return fail("--tls-verify needs none, ca or host");
      o.tls_options_given.push_back(name);
    } else if (name == "--tls-name" || name == "--ca-file" || name == "--cert" || name == "--key") {
      auto v = value();
      if (!v || v->empty())
        return fail(name + (name == "--tls-name" ? " needs a name" : " needs a path"));
      std::string& target = name == "--tls-name"  ? o.tls_name
                            : name == "--ca-file" ? o.ca_file
                            : name == "--cert"    ? o.cert_file
                                                  : o.key_file;
      target = *v;
      o.tls_options_given.push_back(name);
    } else if (name == "--auth-user") {
      auto v = value();
      if (!v || v->empty()) return fail("--auth-user needs a user name");
      o.auth_user = *v;
    } else if (name == "--auth-password-file") {
      auto v = value();
      if (!v || v->empty()) return fail("--auth-password-file needs a path");
      o.auth_password_file = *v;
    } else if (name == "--auth-password") {
      return fail(
          "--auth-password does not exist: a password on the command line is visible "
          "to every user of the machine; use --auth-password-file");
    } else if (name == "--auth-mech") {
      auto v = value();
      if (!v || v->empty()) return fail("--auth-mech needs a SASL mechanism name");
      o.auth_mech = *v;
      // SASL names are upper case (RFC 4422 §3.1); accept "plain" for "PLAIN".
      for (char& c : o.auth_mech)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    } else if (name == "--allow-plaintext-auth") {
      if (!flag(o.allow_plaintext_auth)) return fail("--allow-plaintext-auth takes no value");
    } else {
      return fail("unknown option '" + arg + "'");
    }
  }
  if (o.recipients.empty()) return fail("no recipient given");
  if (!tls_built && !o.tls_options_given.empty())
    return fail(o.tls_options_given.front() +
                ": this smtpipe-send was built without OpenSSL, "
                "so without TLS (only --tls none)");
  if (o.cert_file.empty() != o.key_file.empty()) return fail("--cert and --key go together");
  if (o.auth_user && o.auth_password_file.empty())
    return fail("--auth-user needs --auth-password-file");
  if (!o.auth_user &&
      (!o.auth_password_file.empty() || !o.auth_mech.empty() || o.allow_plaintext_auth))
    return fail("--auth-password-file, --auth-mech and --allow-plaintext-auth need --auth-user");
  result.options = std::move(o);
  return result;
}

// The default sender, as sendmail-like tools make it: login@hostname, else login@localhost.
std::string default_sender() {
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

// ---- spooling standard input -----------------------------------------------------------------

/// Standard input copied to a temporary file in $TMPDIR that no other process can open by
/// name: it is unlinked at once and reopened through /proc/self/fd (Linux). Where that path
/// does not exist, the file keeps its name until the spool is destroyed.
class spool {
 public:
  spool() = default;
  spool(const spool&) = delete;
  spool& operator=(const spool&) = delete;
  ~spool() {
    if (!named_path_.empty()) ::unlink(named_path_.c_str());
    if (fd_ >= 0) ::close(fd_);
  }

  /// Copies `in` to the spool file, 64 KiB at a time; an error message on failure.
  std::optional<std::string> fill(int in) {
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir && *dir ? dir : "/tmp") + "/smtpipe-send.XXXXXX";
    fd_ = ::mkstemp(path.data());
    if (fd_ < 0) return "cannot create a temporary file in " + path + ": " + std::strerror(errno);
    named_path_ = path;
    const std::string by_fd = "/proc/self/fd/" + std::to_string(fd_);
    if (::access(by_fd.c_str(), R_OK) == 0 && ::unlink(path.c_str()) == 0) {
      named_path_.clear();
      path_ = by_fd;
    } else {
      path_ = path;
    }
    std::vector<char> buffer(64 * 1024);
    for (;;) {
      const ssize_t n = ::read(in, buffer.data(), buffer.size());
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        return std::string("cannot read standard input: ") + std::strerror(errno);
      }
      for (ssize_t done = 0; done < n;) {
        const ssize_t w = ::write(fd_, buffer.data() + done, static_cast<std::size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return std::string("cannot write the spool file: ") + std::strerror(errno);
        done += w;
      }
    }
    return std::nullopt;
  }

  /// A path that opens the spooled bytes from their start, for `body_source::file`.
  const std::string& path() const noexcept { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
  std::string named_path_;  // set while the file still has a name to remove
};

// ---- running ---------------------------------------------------------------------------------

/// Overwrites the whole buffer of `s`, its capacity (through a volatile pointer, so that the
/// stores are kept), then empties it.
void wipe(std::string& s) noexcept {
  s.resize(s.capacity());  // within the capacity: never allocates
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

/// The password from `path`, one trailing newline (LF or CRLF) removed; an error message on
/// failure.
std::optional<std::string> read_password(const std::string& path, std::string& password) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "--auth-password-file: cannot open " + path + ": " + std::strerror(errno);
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      wipe(password);
      return "--auth-password-file: cannot read " + path + ": " + why;
    }
    if (n == 0) break;
    password.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  volatile char* b = buffer;
  for (std::size_t i = 0; i < sizeof buffer; ++i) b[i] = 0;
  if (!password.empty() && password.back() == '\n') password.pop_back();
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) return "--auth-password-file: " + path + " holds no password";
  return std::nullopt;
}

/// Session options from the command line; an error message when the TLS settings (a CA file,
/// a certificate or key) cannot be loaded.
std::optional<std::string> session_options_for(const cli_options& o, std::string& password,
                                               smtpipe::session_options& s) {
  s.helo_name = o.helo;
  s.pipelining = o.pipelining;
  s.timeouts = s.timeouts.scaled(o.timeout_scale);
  s.max_recipients_per_transaction = o.max_recipients;
  s.tls = o.tls;
  s.tls_server_name = o.tls_name;
#if SMTPIPE_SEND_TLS
  // The provider also brings SCRAM-SHA-256 and CRAM-MD5, so it is made even without TLS.
  smtpipe::tls_settings settings;
  settings.verify = o.verify;
  settings.ca_file = o.ca_file;
  settings.cert_file = o.cert_file;
  settings.key_file = o.key_file;
  if (auto ec = smtpipe::make_openssl_provider(settings, s.tls_provider)) {
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

/// Delivers `o.count` copies of the spooled message over one connection.
smtpipe::session_result send(const cli_options& o, smtpipe::session_options options,
                             const std::string& body_path) {
  smtpipe::message m;
  m.sender = o.from ? *o.from : default_sender();
  m.recipients.assign(o.recipients.begin(), o.recipients.end());
  m.body = smtpipe::body_source::file(body_path);
  const std::vector<smtpipe::message> messages(o.count, m);

  smtpipe::transcript transcript(std::cerr);
  if (o.transcript) options.observer = &transcript;

  // The pipeline and the messages are referenced by the session: they outlive io.run().
  const smtpipe::default_pipeline pipeline;
  asio::io_context io;
  smtpipe::session_result result;
  std::exception_ptr failure;
  asio::co_spawn(io, smtpipe::deliver(o.host, o.port, pipeline, messages, options),
                 [&](std::exception_ptr e, smtpipe::session_result r) {
                   failure = e;
                   result = std::move(r);
                 });
  io.run();
  if (options.auth) wipe(options.auth->credentials.secret);
  if (failure) std::rethrow_exception(failure);
  return result;
}

// ---- reporting -------------------------------------------------------------------------------

/// True when every message was refused by validation: nothing was sent, nothing connected.
bool refused_before_connecting(const smtpipe::session_result& r) {
  return !r.messages.empty() && std::all_of(r.messages.begin(), r.messages.end(),
                                            [](const auto& m) { return bool(m.error); });
}

int exit_status(const smtpipe::session_result& r) {
  if (refused_before_connecting(r)) return exit_code::data_error;
  if (r.count(smtpipe::delivery_status::permanent) > 0) return exit_code::unavailable;
  if (!r.all_delivered()) return exit_code::temp_fail;
  return exit_code::ok;
}

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0.
std::size_t utf8_sequence(std::string_view s) {
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
std::string json_string(std::string_view s) {
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

std::string json_error(std::error_code ec) {
  return ec ? json_string(ec.message()) : std::string("null");
}

/// One object per recipient (and per copy), then one `{"session": ...}` object: how the
/// session ended and what TLS it used.
void report_json(const cli_options& o, const smtpipe::session_result& r, std::ostream& out) {
  for (std::size_t m = 0; m < r.messages.size(); ++m) {
    for (const auto& rr : r.messages[m].recipients) {
      out << "{\"message\":" << m + 1 << ",\"rcpt\":" << json_string(rr.address) << ",\"status\":\""
          << smtpipe::to_string(rr.status) << "\",\"code\":" << rr.code << ",\"enhanced\":"
          << (rr.enhanced.present() ? json_string(rr.enhanced.to_string()) : "null")
          << ",\"text\":" << json_string(rr.text) << ",\"state\":" << json_string(rr.state)
          << ",\"class\":" << rr.bounce_class
          << ",\"class_name\":" << (rr.bounce_class ? json_string(rr.bounce_class_name) : "null")
          << "}\n";
    }
  }
  const auto flag = [](bool b) { return b ? "true" : "false"; };
  const smtpipe::tls_status& tls = r.tls;
  out << "{\"session\":{\"server\":" << json_string(o.host + ':' + o.port)
      << ",\"error\":" << json_error(r.error) << ",\"error_state\":" << json_string(r.error_state)
      << ",\"error_text\":" << json_string(r.error_text)
      << ",\"greeting\":" << json_string(r.greeting) << ",\"esmtp\":" << flag(r.esmtp)
      << ",\"pipelining\":" << flag(r.pipelining) << ",\"authenticated\":" << flag(r.authenticated)
      << ",\"transactions\":" << r.transactions << ",\"tls\":{\"active\":" << flag(tls.active)
      << ",\"version\":" << json_string(tls.version) << ",\"cipher\":" << json_string(tls.cipher)
      << ",\"verified\":" << flag(tls.verified)
      << ",\"verify_result\":" << json_string(tls.verify_result)
      << ",\"server_name\":" << json_string(tls.server_name)
      << ",\"fallback_reason\":" << json_error(r.tls_fallback_reason) << "}}}\n";
  out.flush();
}

/// Why the session ended early, on one line (the reply text or the certificate's
/// verification error included); empty when it did not.
std::string session_error_line(const cli_options& o, const smtpipe::session_result& r) {
  if (!r.error || refused_before_connecting(r)) return {};
  std::string line = std::string(program) + ": session with " + o.host + ':' + o.port +
                     " ended early: " + r.error.message();
  if (!r.error_state.empty()) line += " (in " + r.error_state + ")";
  if (!r.error_text.empty()) line += ": " + r.error_text;
  return line + '\n';
}

/// What TLS did, when it was asked for and did not happen as configured.
std::string tls_note(const cli_options& o, const smtpipe::session_result& r) {
  if (!r.tls_fallback_reason) return {};
  return std::string(program) + ": TLS with " + o.host + ':' + o.port + " failed (" +
         r.tls_fallback_reason.message() + "): sent without TLS over a new connection\n";
}

void report_text(const cli_options& o, const smtpipe::session_result& r, std::ostream& out) {
  const bool several = r.messages.size() > 1;
  for (std::size_t m = 0; m < r.messages.size(); ++m) {
    const auto& mr = r.messages[m];
    if (mr.error) {
      out << program << ": " << (several ? "message " + std::to_string(m + 1) + ": " : "")
          << "refused before sending: " << mr.error.message() << '\n';
      continue;
    }
    for (const auto& rr : mr.recipients) {
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
  out << tls_note(o, r) << session_error_line(o, r);
  const std::size_t total = [&] {
    std::size_t n = 0;
    for (const auto& mr : r.messages) n += mr.recipients.size();
    return n;
  }();
  out << program << ": " << r.count(smtpipe::delivery_status::delivered) << " of " << total
      << " deliveries accepted";
  for (auto s : {smtpipe::delivery_status::transient, smtpipe::delivery_status::permanent,
                 smtpipe::delivery_status::unknown})
    if (const auto n = r.count(s)) out << ", " << n << ' ' << smtpipe::to_string(s);
  out << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  const parsed_command_line cmd = parse_command_line(argc, argv);
  if (cmd.help) {
    std::cout << usage_text;
    return exit_code::ok;
  }
  if (cmd.error) {
    std::cerr << program << ": " << cmd.error->message << "\n(" << program
              << " --help for usage)\n";
    return exit_code::usage;
  }
  const cli_options& options = *cmd.options;

  spool input;
  if (auto error = input.fill(STDIN_FILENO)) {
    std::cerr << program << ": " << *error << '\n';
    return exit_code::io_error;
  }

  std::string password;
  if (options.auth_user) {
    if (auto error = read_password(options.auth_password_file, password)) {
      std::cerr << program << ": " << *error << '\n';
      return exit_code::usage;
    }
  }
  smtpipe::session_options session;
  if (auto error = session_options_for(options, password, session)) {
    wipe(password);
    std::cerr << program << ": " << *error << '\n';
    return exit_code::usage;
  }

  smtpipe::session_result result;
  try {
    result = send(options, std::move(session), input.path());
  } catch (const std::exception& e) {
    std::cerr << program << ": internal error: " << e.what() << '\n';
    return exit_code::software;
  }

  if (options.json) {
    report_json(options, result, std::cout);
    std::cerr << tls_note(options, result) << session_error_line(options, result);
  } else {
    report_text(options, result, std::cerr);
  }
  return exit_status(result);
}
