// TLS policies against a scripted server: stripping, refused or odd STARTTLS replies, no ESMTP,
// unsolicited plaintext, opportunistic fallback, and what the result says about TLS
// (security.md §6 A 1-4, 10, 16). Every case checks the bytes the server captured.
#include "tls/tls_test.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace smtpipe;
using namespace smtpipe::test;

namespace {

const std::string ehlo_tls =
    "250-mx.example.org\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n";

// Nothing followed the STARTTLS reply but an optional QUIT.
bool quit_at_most(const script_server& srv) {
  const std::string after = sent_after(srv, "STARTTLS\r\n");
  return after.empty() || after == "QUIT\r\n";
}

}  // namespace

TEST_CASE(
    "A1 required: STARTTLS stripped from the capabilities, AUTH offered: nothing after EHLO "
    "[smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet("220 mx\r\n", "250-mx\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n").quit();
  auto o = tls_options(tls_mode::required);
  add_auth(o, {}, true);  // even with plaintext AUTH allowed: TLS comes first
  auto r = start_and_deliver(io, srv, one_message(), o);
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::starttls_refused);
  CHECK(r.error_state == "starttls");
  CHECK_FALSE(r.tls.active);
  CHECK_FALSE(r.authenticated);
  CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
  CHECK(sent_after(srv, "EHLO localhost\r\n") == "QUIT\r\n");
  CHECK(leak_in(srv.received()).empty());
  CHECK(srv.connections() == 1);
}

TEST_CASE(
    "A2 required: STARTTLS refused with 502 or 454: transient, no plaintext, no retry [smtpipe]") {
  for (const std::string refusal : {"502 5.5.1 not implemented", "454 4.7.0 TLS not available"}) {
    CAPTURE(refusal);
    asio::io_context io;
    script_server srv(io);
    up_to_starttls(srv, ehlo_tls).send(refusal + "\r\n").quit();
    auto r = start_and_deliver(io, srv, one_message(), with_auth(tls_mode::required));
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::starttls_refused);
    CHECK_FALSE(r.error_text.empty());
    CHECK(contains(refusal, r.error_text));
    CHECK_FALSE(r.tls.active);
    CHECK_FALSE(r.tls_fallback_reason);  // required: no fallback
    CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
    CHECK(quit_at_most(srv));
    CHECK(leak_in(srv.received()).empty());
    CHECK(srv.connections() == 1);
  }
}

TEST_CASE(
    "A3 odd STARTTLS replies: each an error, transient, nothing in clear; 421 closes [smtpipe]") {
  for (const std::string odd : {"354 go ahead", "250 ok", "221 bye", "500 what", "501 syntax",
                                "530 5.7.0 must issue STARTTLS first"}) {
    CAPTURE(odd);
    asio::io_context io;
    script_server srv(io);
    up_to_starttls(srv, ehlo_tls).send(odd + "\r\n").expect_close();
    auto r = start_and_deliver(io, srv, one_message(), with_auth(tls_mode::required));
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::starttls_refused);
    CHECK_FALSE(r.tls.active);
    CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
    CHECK(quit_at_most(srv));
    CHECK(leak_in(srv.received()).empty());
    CHECK(srv.connections() == 1);
  }
  {
    asio::io_context io;
    script_server srv(io);
    up_to_starttls(srv, ehlo_tls).send("421 4.3.2 shutting down\r\n").expect_close();
    auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::required));
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::service_not_available);
    CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
    CHECK(r.messages[0].recipients[0].code == 421);
    CHECK(sent_after(srv, "STARTTLS\r\n").empty());  // nothing after a 421, not even QUIT
  }
}

TEST_CASE(
    "A3 opportunistic: odd STARTTLS replies also mean a fresh plaintext connection [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  lockstep_delivery(starttls_refused(srv, ehlo_tls, "250 sure\r\n", "250-mx\r\n250 STARTTLS\r\n"));
  auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::opportunistic));
  check_plaintext_fallback(srv, r, errc::starttls_refused);
}

TEST_CASE("A4 no ESMTP: required aborts without HELO; none falls back to HELO [smtpipe]") {
  for (const std::string refusal : {"502 5.5.2 command not recognized", "500 unknown command"}) {
    CAPTURE(refusal);
    {
      asio::io_context io;
      script_server srv(io);
      srv.greet("220 mx\r\n", refusal + "\r\n").quit();
      auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::required));
      CHECK(srv.failures().empty());
      CHECK(r.error == errc::starttls_refused);
      CHECK(r.error_state == "ehlo");
      CHECK_FALSE(contains(srv.received(), "HELO "));
      CHECK(leak_in(srv.received()).empty());
      CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
    }
    {
      asio::io_context io;
      script_server srv(io);
      lockstep_delivery(
          srv.greet("220 mx\r\n", refusal + "\r\n").expect("HELO").send("250 mx\r\n"));
      auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::none));
      CHECK(srv.failures().empty());
      CHECK_FALSE(r.error);
      CHECK_FALSE(r.esmtp);
      CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
    }
  }
}

TEST_CASE("A4 opportunistic without ESMTP: HELO and plaintext, reported as such [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet("220 mx\r\n", "502 no\r\n").expect("HELO").send("250 mx\r\n");
  lockstep_delivery(srv);
  auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::opportunistic));
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK_FALSE(r.tls.active);
  CHECK_FALSE(r.tls_fallback_reason);  // nothing failed: TLS was never on offer
  CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
}

TEST_CASE(
    "A10 unsolicited plaintext before STARTTLS is a protocol error, never a reply [smtpipe]") {
  SUBCASE("coalesced behind the greeting") {
    asio::io_context io;
    script_server srv(io);
    srv.send("220 mx\r\n250 unsolicited\r\n").expect_close();
    auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::required));
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::unsolicited_reply);
    CHECK_FALSE(contains(srv.received(), "STARTTLS"));
    CHECK(leak_in(srv.received()).empty());
    CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
  }
  SUBCASE("coalesced behind the EHLO reply") {
    asio::io_context io;
    script_server srv(io);
    srv.greet("220 mx\r\n", ehlo_tls + "220 ready for TLS\r\n").expect_close();
    auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::required));
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::unsolicited_reply);
    CHECK_FALSE(contains(srv.received(), "STARTTLS"));
    CHECK_FALSE(r.tls.active);
  }
}

TEST_CASE(
    "A16 state honesty: the result says what TLS was, and a fallback says plaintext [smtpipe]") {
  SUBCASE("STARTTLS verified") {
    asio::io_context io;
    script_server srv(io);
    std::string sni;
    starttls(srv, ehlo_tls, "server", &sni).expect("EHLO").send("250 mx\r\n");
    lockstep_delivery(srv);
    auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::required));
    CHECK(srv.failures().empty());
    CHECK(r.tls.active);
    CHECK(r.tls.verified);
    CHECK(r.tls.verify_result == "ok");
    CHECK(r.tls.version == "TLSv1.3");
    CHECK(r.tls.cipher.rfind("TLS_", 0) == 0);
    CHECK(r.tls.server_name == "localhost");
    CHECK(sni == "localhost");
    CHECK_FALSE(r.tls_fallback_reason);
  }
  SUBCASE("no verification: active, not verified") {
    asio::io_context io;
    script_server srv(io);
    starttls(srv, ehlo_tls, "selfsigned").expect("EHLO").send("250 mx\r\n");
    lockstep_delivery(srv);
    auto r = start_and_deliver(io, srv, one_message(),
                               tls_options(tls_mode::required, tls_verify::none));
    CHECK(srv.failures().empty());
    CHECK(r.tls.active);
    CHECK_FALSE(r.tls.verified);
    CHECK(r.tls.verify_result != "ok");
    CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
  }
  SUBCASE("opportunistic, certificate refused: plaintext on a fresh connection, and why") {
    asio::io_context io;
    script_server srv(io);
    up_to_starttls(srv, ehlo_tls)
        .send("220 go\r\n")
        .upgrade_refused(tls_handshake(cert("untrusted.crt"), cert("untrusted.key")))
        .next_connection()
        .greet("220 mx\r\n", ehlo_tls);
    lockstep_delivery(srv);
    auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::opportunistic));
    check_plaintext_fallback(srv, r, errc::tls_certificate_rejected);
    CHECK_FALSE(r.tls.verified);
    CHECK(r.tls.version.empty());
    CHECK(r.tls.cipher.empty());
    // The first connection carried nothing after STARTTLS but the handshake.
    const std::string first = srv.received().substr(0, srv.received().find("EHLO", 10));
    CHECK(leak_in(first).empty());
  }
  SUBCASE("required, certificate refused: not active, the verification error reported") {
    asio::io_context io;
    script_server srv(io);
    up_to_starttls(srv, ehlo_tls)
        .send("220 go\r\n")
        .upgrade_refused(tls_handshake(cert("expired.crt"), cert("expired.key")))
        .expect_close();
    auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::required));
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::tls_certificate_rejected);
    CHECK_FALSE(r.tls.active);
    CHECK_FALSE(r.tls.verified);
    CHECK(r.tls.verify_result == "certificate has expired");
    CHECK(r.error_text == "certificate has expired");
    CHECK(r.tls.version.empty());
    CHECK(plaintext_after_starttls(srv).empty());
  }
}
