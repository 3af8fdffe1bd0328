// STARTTLS, implicit TLS and AUTH against the scripted server with real TLS (OpenSSL).
#include "tls/tls_test.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>

using namespace smtpipe;
using namespace smtpipe::test;

namespace {

const std::string ehlo_tls = "250-mx.example.org\r\n250-PIPELINING\r\n250 STARTTLS\r\n";

}  // namespace

TEST_CASE("STARTTLS, handshake, EHLO again, then the message over TLS [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  std::string sni;
  srv.send("220 mx ESMTP\r\n")
      .expect("EHLO")
      .send(ehlo_tls)
      .expect("STARTTLS")
      .send("220 go ahead\r\n")
      .upgrade(tls_handshake(cert("server.crt"), cert("server.key"), &sni))
      .expect("EHLO")
      .send("250-mx.example.org\r\n250 PIPELINING\r\n");
  pipelined_delivery(srv);
  auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::required));
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(r.tls.active);
  CHECK(r.tls.verified);
  CHECK(r.tls.verify_result == "ok");
  CHECK(r.tls.version.rfind("TLSv1.", 0) == 0);
  CHECK_FALSE(r.tls.cipher.empty());
  CHECK(sni == "localhost");
  CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
}

TEST_CASE("required TLS: no STARTTLS advertised, no AUTH or MAIL in clear (stripping) [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet("220 mx\r\n", "250-mx\r\n250 AUTH PLAIN\r\n").quit();
  auto o = tls_options(tls_mode::required);
  o.auth.emplace();
  o.auth->credentials.user = "user";
  o.auth->credentials.secret = "secret";
  auto r = start_and_deliver(io, srv, one_message(), o);
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::starttls_refused);
  CHECK_FALSE(r.tls.active);
  CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
  CHECK(srv.received().find("AUTH") == std::string::npos);
  CHECK(srv.received().find("MAIL") == std::string::npos);
}

TEST_CASE("STARTTLS response injection: bytes behind the 220 are never read as replies [smtpipe]") {
  for (const std::string injected : {"250-x\r\n250 AUTH PLAIN\r\n", "250-PIPELINING"}) {
    asio::io_context io;
    script_server srv(io);
    up_to_starttls(srv, ehlo_tls)
        .send("220 go\r\n" + injected)  // one segment
        .expect_close();
    auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::required));
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::tls_plaintext_injection);
    CHECK(srv.received().find("STARTTLS\r\n") + 10 == srv.received().size());  // nothing after
  }
}

TEST_CASE("a certificate for another host is refused under host verification [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  starttls(srv, ehlo_tls, "wronghost");
  auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::required));
  CHECK(r.error == errc::tls_certificate_rejected);
  CHECK_FALSE(r.tls.active);
  CHECK(r.tls.verify_result.find("mismatch") != std::string::npos);
  CHECK(srv.received().find("MAIL") == std::string::npos);
}

TEST_CASE("implicit TLS: handshake before the banner [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.upgrade(tls_handshake(cert("server.crt"), cert("server.key")))
      .greet("220 mx\r\n", "250 mx\r\n");
  lockstep_delivery(srv);
  auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::implicit));
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(r.tls.active);
  CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
}

TEST_CASE("AUTH PLAIN after STARTTLS, redacted in the transcript [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  starttls(srv, ehlo_tls)
      .expect("EHLO")
      .send("250-mx\r\n250 AUTH PLAIN LOGIN\r\n")
      .expect("AUTH PLAIN AHVzZXIAc2VjcmV0")
      .send("235 2.7.0 ok\r\n");
  lockstep_delivery(srv);
  auto o = tls_options(tls_mode::required);
  o.auth.emplace();
  o.auth->credentials.user = "user";
  o.auth->credentials.secret = "secret";
  std::ostringstream log;
  auto r = deliver_transcribed(io, srv, o, log);
  CHECK(srv.failures().empty());
  CHECK(r.authenticated);
  CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
  CHECK(log.str().find("C: AUTH PLAIN <redacted>") != std::string::npos);
  CHECK(log.str().find("AHVzZXIAc2VjcmV0") == std::string::npos);
}

TEST_CASE(
    "opportunistic TLS refused: a fresh plaintext connection, reported truthfully [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  // STARTTLS is still offered on the second connection: not used again.
  lockstep_delivery(starttls_refused(srv, ehlo_tls, "454 4.7.0 TLS not available\r\n", ehlo_tls));
  auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::opportunistic));
  check_plaintext_fallback(srv, r, errc::starttls_refused);
}
