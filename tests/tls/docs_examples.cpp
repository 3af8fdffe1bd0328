// The examples of docs/tls-and-auth.md: each `//! [tag]` region is quoted there (checked by
// tests/docs/check_snippets.py), and each runs here against the scripted TLS server.
#include "tls/tls_test.hpp"

#include <smtpipe/openssl.hpp>
#include <smtpipe/session/transcript.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <sstream>
#include <string>

namespace {

const std::string ehlo_tls = "250-mx.example.net\r\n250-PIPELINING\r\n250 STARTTLS\r\n";
const std::string ehlo_auth = "250-mx.example.net\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n";

// The messages of every example.
std::vector<smtpipe::message> messages() {
  std::vector<smtpipe::message> m(1);
  m[0].sender = "newsletter@example.org";
  m[0].recipients = {"alice@example.net"};
  m[0].body = smtpipe::body_source::copy("Subject: hello\n\nOver TLS.\n");
  return m;
}

}  // namespace

TEST_CASE("docs/tls-and-auth.md: required TLS, verified, then AUTH [smtpipe]") {
  using namespace smtpipe::test;
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx.example.net ESMTP\r\n")
      .expect("EHLO")
      .send(ehlo_tls)
      .expect("STARTTLS")
      .send("220 2.0.0 go ahead\r\n")
      .upgrade(tls_handshake(cert("server.crt"), cert("server.key")))
      .expect("EHLO")
      .send(ehlo_auth)
      .expect("AUTH PLAIN ")
      .send("235 2.7.0 ok\r\n")
      .expect_group()
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
  srv.start();
  const std::string ca_file = cert("ca.crt");
  const std::string password = "s3cret";
  const std::vector<smtpipe::message> msgs = messages();
  smtpipe::session_result result;
  std::ostringstream log;

  //! [provider]
  smtpipe::tls_settings settings;  // defaults: verify the host name, TLS 1.2 or later
  settings.ca_file = ca_file;      // trust this bundle instead of the system's CAs
  std::shared_ptr<smtpipe::tls_provider> provider;
  if (std::error_code ec = smtpipe::make_openssl_provider(settings, provider)) {
    std::fprintf(stderr, "TLS setup: %s\n", ec.message().c_str());  // e.g. no such CA file
    return;
  }
  //! [provider]

  //! [required]
  smtpipe::session_options options;
  options.tls = smtpipe::tls_mode::required;  // STARTTLS, or nothing is sent
  options.tls_provider = provider;
  options.tls_server_name = "localhost";  // the name on the certificate (default: the host)

  options.auth.emplace();  // AUTH after STARTTLS, never before
  options.auth->credentials.user = "mailer";
  options.auth->credentials.secret = password;  // mechanisms wipe the copies they make
  //! [required]
  options.timeouts = options.timeouts.scaled(0.01);
  smtpipe::transcript transcript(log);
  options.observer = &transcript;

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await smtpipe::deliver("127.0.0.1", srv.port_string(),
                                           smtpipe::default_pipeline{}, msgs, options);
        //! [result]
        const smtpipe::tls_status& tls = result.tls;
        if (tls.active)
          std::printf("%s, %s, certificate %s (%s), SNI '%s'\n", tls.version.c_str(),
                      tls.cipher.c_str(), tls.verified ? "verified" : "NOT verified",
                      tls.verify_result.c_str(), tls.server_name.c_str());
        else if (result.tls_fallback_reason)  // opportunistic: a fresh plaintext connection
          std::printf("plaintext: TLS failed (%s)\n", result.tls_fallback_reason.message().c_str());
        else std::printf("plaintext\n");
        // TLSv1.3, TLS_AES_256_GCM_SHA384, certificate verified (ok), SNI 'localhost'
        //! [result]
      },
      asio::detached);
  io.run_for(std::chrono::seconds(30));

  CHECK(srv.failures().empty());
  CHECK_FALSE(result.error);
  CHECK(result.tls.active);
  CHECK(result.tls.verified);
  CHECK(result.tls.server_name == "localhost");
  CHECK(result.authenticated);
  CHECK(result.messages[0].recipients[0].status == smtpipe::delivery_status::delivered);
  // The transcript that docs/tls-and-auth.md shows.
  const std::string text = log.str();
  const std::string expected =
      "C: STARTTLS\nS: 220 2.0.0 go ahead\nC: EHLO localhost\nS: 250-mx.example.net\n"
      "S: 250-PIPELINING\nS: 250 AUTH PLAIN LOGIN\nC: AUTH PLAIN <redacted>\nS: 235 2.7.0 ok\n";
  CHECK(smtpipe::test::contains(text, expected));
}

TEST_CASE("docs/tls-and-auth.md: opportunistic TLS falls back on a fresh connection [smtpipe]") {
  using namespace smtpipe::test;
  asio::io_context io;
  script_server srv(io);
  up_to_starttls(srv, ehlo_tls)
      .send("220 go\r\n")
      .upgrade_refused(tls_handshake(cert("selfsigned.crt"), cert("selfsigned.key")))
      .next_connection()
      .greet("220 mx\r\n", ehlo_tls)
      .expect_group()
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
  srv.start();
  std::shared_ptr<smtpipe::tls_provider> provider;
  REQUIRE_FALSE(smtpipe::make_openssl_provider(smtpipe::tls_settings{}, provider));
  const std::vector<smtpipe::message> msgs = messages();
  smtpipe::session_result result;

  //! [opportunistic]
  smtpipe::session_options options;
  options.tls = smtpipe::tls_mode::opportunistic;  // STARTTLS when offered...
  options.tls_provider = provider;                 // ...verified against the system's CAs
  //! [opportunistic]
  options.timeouts = options.timeouts.scaled(0.01);
  options.tls_server_name = "localhost";
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await smtpipe::deliver("127.0.0.1", srv.port_string(),
                                           smtpipe::default_pipeline{}, msgs, options);
      },
      asio::detached);
  io.run_for(std::chrono::seconds(30));

  CHECK(srv.failures().empty());
  //! [fallback]
  // The self-signed certificate was refused; the message went over a second, plaintext
  // connection, and the result says so.
  CHECK(result.tls_fallback_reason == smtpipe::errc::tls_certificate_rejected);
  CHECK_FALSE(result.tls.active);
  CHECK(result.messages[0].recipients[0].status == smtpipe::delivery_status::delivered);
  //! [fallback]
  CHECK(srv.connections() == 2);
}
