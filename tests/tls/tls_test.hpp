// tests/tls/tls_test.hpp - What the scripted TLS and AUTH tests share: certificates, options,
// test credentials, a message, and the "no plaintext leak" check on the captured bytes.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TESTS_TLS_TLS_TEST_HPP
#define SMTPIPE_TESTS_TLS_TLS_TEST_HPP

#include "support/run.hpp"
#include "support/script_server.hpp"
#include "support/tls_server.hpp"
#include "support/wire.hpp"

#include <smtpipe/tls.hpp>

#include <openssl/evp.h>

#include <doctest/doctest.h>

#include <string>
#include <string_view>
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

inline std::vector<message> one_message() {
  return {make_message("a@example.org", {"b@example.org"},
                       "Subject: tls test\r\n\r\n" + std::string(body_marker) + "\r\n")};
}

/// What would betray a plaintext leak in `bytes`: a transaction command, AUTH, the body, or
/// the test credentials raw or base64-encoded (PLAIN's and LOGIN's forms). Empty: none.
inline std::string leak_in(std::string_view bytes) {
  const std::string plain = std::string("\0", 1) + std::string(test_user) + '\0' + std::string(test_secret);
  const std::vector<std::string> needles{
      "AUTH",       "MAIL FROM",    "RCPT TO",        "DATA\r\n",        std::string(body_marker),
      std::string(test_secret), b64(plain), b64(test_user), b64(test_secret)};
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
