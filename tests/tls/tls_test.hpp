// tests/tls/tls_test.hpp - What the scripted TLS and AUTH tests share: certificates, options,
// test credentials, a message, the server's STARTTLS and delivery steps, and the "no plaintext
// leak" check on the captured bytes.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TESTS_TLS_TLS_TEST_HPP
#define SMTPIPE_TESTS_TLS_TLS_TEST_HPP

#include "support/run.hpp"
#include "support/script_server.hpp"
#include "support/tls_server.hpp"
#include "support/wire.hpp"

#include <smtpipe/openssl.hpp>
#include <smtpipe/session/transcript.hpp>

#include <openssl/evp.h>

#include <doctest/doctest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#ifndef SMTPIPE_TEST_CERTS_DIR
#error "the TLS tests need the certificates of make_certs.sh (SMTPIPE_TEST_CERTS_DIR)"
#endif

namespace smtpipe::test {

inline std::string cert(const std::string& name) {
  return std::string(SMTPIPE_TEST_CERTS_DIR) + "/" + name;
}

/// Fast timeouts (STARTTLS: 1.2 s), `mode`, the test CA trusted, the name "localhost".
inline session_options tls_options(tls_mode mode, tls_verify verify = tls_verify::host,
                                   tls_settings settings = {}) {
  session_options o = fast_options(0.01);
  o.tls = mode;
  o.tls_server_name = "localhost";
  settings.verify = verify;
  if (settings.ca_file.empty()) settings.ca_file = cert("ca.crt");
  REQUIRE_FALSE(make_openssl_provider(settings, o.tls_provider));
  return o;
}

// The credentials of every AUTH test, and what a leak of them would look like.
inline constexpr std::string_view test_user = "tls-test-user";
inline constexpr std::string_view test_secret = "s3cret-Pa55";
inline constexpr std::string_view body_marker = "body-marker-7f3a";

/// Base64 with OpenSSL, independent of smtpipe's codec (the test server side uses it).
inline std::string b64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()),
                                static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}
/// Decodes canonical base64; "<invalid>" when it is not.
inline std::string unb64(std::string_view text) {
  if (text.size() % 4 != 0) return "<invalid>";
  std::string out(text.size() / 4 * 3 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return "<invalid>";
  std::size_t size = static_cast<std::size_t>(n);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size;  // padding
  out.resize(size);
  return out;
}

inline void add_auth(session_options& o, std::string mechanism = {}, bool allow_plaintext = false,
                     std::string user = std::string(test_user),
                     std::string secret = std::string(test_secret)) {
  o.auth.emplace();
  o.auth->credentials.user = std::move(user);
  o.auth->credentials.secret = std::move(secret);
  o.auth->mechanism = std::move(mechanism);
  o.auth->allow_plaintext = allow_plaintext;
}

/// tls_options(`mode`) with the test credentials for AUTH (`mechanism`, plaintext not allowed).
inline session_options with_auth(tls_mode mode, std::string mechanism = {}) {
  auto o = tls_options(mode);
  add_auth(o, std::move(mechanism));
  return o;
}

inline std::vector<message> one_message() {
  return {make_message("a@example.org", {"b@example.org"},
                       "Subject: tls test\r\n\r\n" + std::string(body_marker) + "\r\n")};
}

/// PLAIN's message (RFC 4616) before base64: no authzid, the user, the secret.
inline std::string plain_message(std::string_view user = test_user,
                                 std::string_view secret = test_secret) {
  return std::string(1, '\0') + std::string(user) + '\0' + std::string(secret);
}

// ---- the server's side of the script ----------------------------------------------------------

/// 220, EHLO answered with `ehlo`, then STARTTLS expected (its reply is the caller's).
inline script_server& up_to_starttls(script_server& srv, const std::string& ehlo) {
  return srv.greet("220 mx\r\n", ehlo).expect("STARTTLS");
}

/// 220, EHLO answered with `ehlo`, STARTTLS answered 220, then the handshake with the
/// certificate `stem`.crt and its key (the server name the client sent into `sni`, if given).
inline script_server& starttls(script_server& srv, const std::string& ehlo,
                               const std::string& stem = "server", std::string* sni = nullptr) {
  return up_to_starttls(srv, ehlo)
      .send("220 go\r\n")
      .upgrade(tls_handshake(cert(stem + ".crt"), cert(stem + ".key"), sni));
}

/// The rest of a session in lock-step: MAIL, RCPT, DATA, the data and QUIT, each answered.
inline script_server& lockstep_delivery(script_server& srv) {
  return srv.lockstep_message("250 ok\r\n").quit();
}

/// The same pipelined: MAIL, RCPT and DATA answered together, then the data's reply with QUIT's.
inline script_server& pipelined_delivery(script_server& srv) {
  return srv.expect_group()
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
}

/// STARTTLS answered `reply` (not 220) and QUIT; then a second connection, whose EHLO is
/// answered `ehlo_again`: where an opportunistic client goes on in plaintext.
inline script_server& starttls_refused(script_server& srv, const std::string& ehlo,
                                       const std::string& reply, const std::string& ehlo_again) {
  return up_to_starttls(srv, ehlo)
      .send(reply)
      .quit()
      .next_connection()
      .send("220 mx\r\n")
      .expect("EHLO")
      .send(ehlo_again);
}

/// AUTH PLAIN with an initial response, accepted; what it decodes to goes to `decoded`.
inline script_server& accept_plain(script_server& srv, std::string& decoded) {
  return srv.answer("AUTH PLAIN ", [&decoded](const std::string& line) {
    decoded = unb64(line.substr(11));
    return std::string("235 2.7.0 ok\r\n");
  });
}

/// start_and_deliver with one_message(), the session's transcript written to `log`.
inline session_result deliver_transcribed(asio::io_context& io, script_server& srv,
                                          session_options o, std::ostream& log) {
  transcript t(log);
  o.observer = &t;
  return start_and_deliver(io, srv, one_message(), std::move(o));
}

/// An opportunistic session that gave up TLS for `reason` and delivered the message in
/// plaintext over a second connection, as the script had it.
inline void check_plaintext_fallback(const script_server& srv, const session_result& r,
                                     errc reason) {
  CHECK(srv.failures().empty());
  CHECK(srv.connections() == 2);
  CHECK_FALSE(r.error);
  CHECK(r.tls_fallback_reason == reason);
  CHECK_FALSE(r.tls.active);
  CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
}

/// What would betray a plaintext leak in `bytes`: a transaction command, AUTH, the body, or
/// the test credentials raw or base64-encoded (PLAIN's and LOGIN's forms). Empty: none.
inline std::string leak_in(std::string_view bytes) {
  const std::vector<std::string> needles{"AUTH",
                                         "MAIL FROM",
                                         "RCPT TO",
                                         "DATA\r\n",
                                         std::string(body_marker),
                                         std::string(test_secret),
                                         b64(plain_message()),
                                         b64(test_user),
                                         b64(test_secret)};
  for (const auto& n : needles)
    if (contains(bytes, n)) return "leaked '" + n + "'";
  return {};
}

/// The client's bytes after `STARTTLS\r\n`: nothing but TLS records (the ClientHello, maybe an
/// alert), never an SMTP command in clear. Empty when that holds, else what came.
inline std::string plaintext_after_starttls(const script_server& srv) {
  const std::string after = sent_after(srv, "STARTTLS\r\n");
  if (after.empty()) return {};
  // A TLS record starts with its content type (21 alert, 22 handshake) and version 3.x.
  if ((after[0] == '\x15' || after[0] == '\x16') && after.size() >= 2 && after[1] == '\x03' &&
      !contains(after, "EHLO") && !contains(after, "QUIT") && leak_in(after).empty())
    return {};
  return after.substr(0, 64);
}

}  // namespace smtpipe::test

#endif  // !SMTPIPE_TESTS_TLS_TLS_TEST_HPP
