// Plaintext around the TLS handshake: injected replies behind the STARTTLS 220 (whole, partial,
// late), garbage instead of a handshake, a stalled handshake, implicit TLS against a plaintext
// banner (security.md §6 A 5-7, 11, 12, 15). After the failing step the capture holds nothing
// but TLS records.
#include "tls/tls_test.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using namespace smtpipe;
using namespace smtpipe::test;
using namespace std::chrono_literals;

namespace {

const std::string ehlo_tls =
    "250-mx.example.org\r\n250-PIPELINING\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n";

}  // namespace

TEST_CASE(
    "A5/A6 injection behind the 220, whole or partial line: no handshake, no fallback [smtpipe]") {
  for (const tls_mode mode : {tls_mode::required, tls_mode::opportunistic}) {
    for (const std::string injected : {"250-x\r\n250 AUTH PLAIN\r\n", "250-PIPELINING"}) {
      CAPTURE(injected);
      CAPTURE(static_cast<int>(mode));
      asio::io_context io;
      script_server srv(io);
      // The injected reply would answer the EHLO after TLS: the server then stays silent for
      // 2 s, as a man in the middle would, and the client must have given up long before.
      up_to_starttls(srv, ehlo_tls).send("220 go\r\n" + injected).expect_close(2000ms);
      auto o = tls_options(mode);
      add_auth(o);
      const auto started = std::chrono::steady_clock::now();
      auto r = start_and_deliver(io, srv, one_message(), o);
      CHECK(srv.failures().empty());
      CHECK(r.error == errc::tls_plaintext_injection);
      CHECK(r.error_state == "starttls");
      // An attack is not a reason to go on in plaintext: no second connection.
      CHECK_FALSE(r.tls_fallback_reason);
      CHECK(srv.connections() == 1);
      CHECK_FALSE(r.tls.active);
      CHECK(sent_after(srv, "STARTTLS\r\n").empty());  // not even a ClientHello
      CHECK(leak_in(srv.received()).empty());
      CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
      CHECK(std::chrono::steady_clock::now() - started < 1500ms);
    }
  }
}

TEST_CASE("A7 plaintext arriving during the handshake breaks it: nothing in clear [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  up_to_starttls(srv, ehlo_tls)
      .send("220 go\r\n")
      .expect_octets(5)  // the ClientHello's record header: the handshake has begun
      .sleep(50ms)
      .send("250-mx.example.org\r\n250 AUTH PLAIN\r\n")
      .expect_close();
  auto r = start_and_deliver(io, srv, one_message(), with_auth(tls_mode::required));
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::tls_handshake_failed);
  CHECK(r.error_state == "starttls");
  CHECK_FALSE(r.tls.active);
  REQUIRE(srv.bodies().size() == 1);
  CHECK(srv.bodies()[0].substr(0, 2) == "\x16\x03");
  CHECK(plaintext_after_starttls(srv).empty());
  CHECK(count_of(srv.received(), "EHLO") == 1);
  CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
}

TEST_CASE("A11 a plaintext reply instead of a handshake: TLS error, no QUIT in clear [smtpipe]") {
  enum class then { close, keep_reading, next_connection };
  for (const then after : {then::close, then::keep_reading, then::next_connection}) {
    CAPTURE(static_cast<int>(after));
    const tls_mode mode =
        after == then::next_connection ? tls_mode::opportunistic : tls_mode::required;
    asio::io_context io;
    script_server srv(io);
    up_to_starttls(srv, ehlo_tls).send("220 go\r\n").expect_octets(5).send("220 hello\r\n");
    if (after == then::close) srv.close();
    if (after == then::keep_reading) srv.expect_close();  // captures whatever the client sends
    if (after == then::next_connection)  // a broken handshake: plaintext on a new connection
      lockstep_delivery(srv.next_connection().send("220 mx\r\n").expect("EHLO").send("250 mx\r\n"));
    auto r = start_and_deliver(io, srv, one_message(), tls_options(mode));
    CHECK(srv.failures().empty());
    const std::string first = srv.received().substr(0, srv.received().find("EHLO", 10));
    CHECK(first.find("STARTTLS\r\n\x16\x03") != std::string::npos);  // then the ClientHello
    CHECK_FALSE(contains(first, "QUIT"));
    CHECK(leak_in(first).empty());
    if (mode == tls_mode::required) {
      CHECK(r.error == errc::tls_handshake_failed);
      CHECK(r.error_state == "starttls");
      CHECK(plaintext_after_starttls(srv).empty());
      CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
    } else {
      CHECK_FALSE(r.error);
      CHECK(r.tls_fallback_reason == errc::tls_handshake_failed);
      CHECK(srv.connections() == 2);
      CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
    }
  }
}

TEST_CASE("A12 a stalled handshake: the STARTTLS timeout fires and names the stage [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  up_to_starttls(srv, ehlo_tls).send("220 go\r\n").expect_close(8000ms);
  auto o = tls_options(tls_mode::required);  // timeouts.starttls: 1.2 s
  add_auth(o);
  const auto started = std::chrono::steady_clock::now();
  auto r = start_and_deliver(io, srv, one_message(), o);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::timeout);
  CHECK(r.error_state == "starttls");
  CHECK(r.error_stage == static_cast<int>(stage::handshaking_tls));
  CHECK_FALSE(r.tls.active);
  CHECK(took >= 1100ms);
  CHECK(took < 5000ms);
  CHECK(plaintext_after_starttls(srv).empty());
  CHECK_FALSE(contains(sent_after(srv, "STARTTLS\r\n"), "QUIT"));
  CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
}

TEST_CASE(
    "A12 opportunistic: a stalled handshake times out, then a fresh plaintext connection "
    "[smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  up_to_starttls(srv, ehlo_tls)
      .send("220 go\r\n")
      .expect_close(8000ms)  // the ClientHello is never answered: the client gives up
      .next_connection()
      .greet("220 mx\r\n", "250 mx\r\n");
  lockstep_delivery(srv);
  auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::opportunistic));
  check_plaintext_fallback(srv, r, errc::timeout);
}

TEST_CASE("A15 implicit TLS against a plaintext banner: the handshake fails, no EHLO [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx.example.org ESMTP\r\n").expect_close();
  auto r = start_and_deliver(io, srv, one_message(), with_auth(tls_mode::implicit));
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::tls_handshake_failed);
  CHECK_FALSE(r.tls.active);
  CHECK(r.greeting.empty());  // the banner was never read as one
  REQUIRE(srv.received().size() >= 2);
  CHECK(srv.received().substr(0, 2) == "\x16\x03");  // a ClientHello, nothing else in clear
  CHECK_FALSE(contains(srv.received(), "EHLO"));
  CHECK_FALSE(contains(srv.received(), "QUIT"));
  CHECK(leak_in(srv.received()).empty());
  CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
}

TEST_CASE("A15 implicit TLS verifies like STARTTLS and reports it [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.upgrade_refused(tls_handshake(cert("untrusted.crt"), cert("untrusted.key"))).expect_close();
  auto r = start_and_deliver(io, srv, one_message(), tls_options(tls_mode::implicit));
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::tls_certificate_rejected);
  CHECK_FALSE(r.tls.active);
  CHECK(contains(r.tls.verify_result, "issuer"));
  CHECK_FALSE(contains(srv.received(), "EHLO"));
}
