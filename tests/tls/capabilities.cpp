// What is learnt before TLS is forgotten after it, and credentials never travel in clear unless
// allowed (security.md §6 A 8, 9).
#include "tls/tls_test.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>

using namespace smtpipe;
using namespace smtpipe::test;

namespace {

const std::string ehlo_before =
    "250-mx.example.org\r\n250-CHUNKING\r\n250-SIZE 10\r\n250-AUTH PLAIN LOGIN\r\n"
    "250-SMTPUTF8\r\n250-8BITMIME\r\n250 STARTTLS\r\n";
const std::string ehlo_after = "250-mx.example.org\r\n250-PIPELINING\r\n250 AUTH XOAUTH2\r\n";

const std::string ehlo_plain = "250-mx\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n";

// AUTH offered without TLS, and a client set for AUTH under `mode` (no plaintext AUTH): it
// must say nothing but QUIT after EHLO.
session_result auth_only_in_clear(asio::io_context& io, script_server& srv, tls_mode mode) {
  srv.greet("220 mx\r\n", ehlo_plain).quit();
  return start_and_deliver(io, srv, one_message(), with_auth(mode));
}

std::string hundred_octets() {
  std::string body = "Subject: capability reset\r\n\r\n";
  while (body.size() < 98) body += 'x';
  return body + "\r\n";
}

}  // namespace

TEST_CASE("A8 capabilities reset after TLS: no SIZE cap, PLAIN or SMTPUTF8 from before [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  std::string mail;
  starttls(srv, ehlo_before)
      .expect("EHLO")
      .send(ehlo_after)
      .answer("MAIL",
              [&](const std::string& line) {
                mail = line;
                return std::string();
              })
      .expect("RCPT")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
  std::vector<message> messages;
  messages.push_back(make_message("a@example.org", {"b@example.org"}, hundred_octets()));
  // Needs SMTPUTF8, which only the plaintext EHLO offered: refused, never sent.
  messages.push_back(
      make_message("a@example.org", {"j\xc3\xbcrgen@example.org"}, "Subject: u\r\n\r\nu\r\n"));
  auto r = start_and_deliver(io, srv, messages, tls_options(tls_mode::required));
  CHECK(srv.failures().empty());
  CHECK(r.tls.active);
  CHECK(count_of(srv.received(), "EHLO") == 2);
  CHECK(mail == "MAIL FROM:<a@example.org>");                               // no SIZE=, no SMTPUTF8
  CHECK(r.pipelining);                                                      // from the second EHLO
  CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);  // 100 > SIZE 10
  CHECK(r.messages[1].recipients[0].status == delivery_status::permanent);
  CHECK(r.messages[1].recipients[0].error == errc::extension_not_supported);
  CHECK_FALSE(contains(srv.received(), "SIZE="));
  CHECK_FALSE(contains(srv.received(), "SMTPUTF8"));
  CHECK_FALSE(contains(srv.received(), "BDAT"));
  CHECK_FALSE(contains(srv.received(), "AUTH"));
  CHECK_FALSE(contains(srv.received(), "j\xc3\xbcrgen"));
}

TEST_CASE("A8 after TLS only the new AUTH mechanisms count [smtpipe]") {
  SUBCASE("PLAIN was offered only in clear: no common mechanism, no AUTH sent") {
    asio::io_context io;
    script_server srv(io);
    starttls(srv, ehlo_before).expect("EHLO").send(ehlo_after).quit();
    auto r = start_and_deliver(io, srv, one_message(), with_auth(tls_mode::required));
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::auth_not_available);
    CHECK_FALSE(r.authenticated);
    CHECK(leak_in(srv.received()).empty());
  }
  SUBCASE("XOAUTH2, named, is offered after TLS: used") {
    asio::io_context io;
    script_server srv(io);
    std::string token;
    starttls(srv, ehlo_before)
        .expect("EHLO")
        .send(ehlo_after)
        .answer("AUTH XOAUTH2 ", [&](const std::string& line) {
          token = unb64(line.substr(13));
          return "235 2.7.0 accepted\r\n";
        });
    pipelined_delivery(srv);
    auto o = tls_options(tls_mode::required);
    add_auth(o, "XOAUTH2");
    auto r = start_and_deliver(io, srv, one_message(), o);
    CHECK(srv.failures().empty());
    CHECK(r.authenticated);
    CHECK(token == "user=" + std::string(test_user) + "\x01" + "auth=Bearer " +
                       std::string(test_secret) + "\x01\x01");
    CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
  }
}

TEST_CASE("A9 AUTH offered before TLS is never used before the handshake [smtpipe]") {
  for (const tls_mode mode : {tls_mode::required, tls_mode::opportunistic}) {
    CAPTURE(static_cast<int>(mode));
    asio::io_context io;
    script_server srv(io);
    std::size_t before_tls = 0;
    up_to_starttls(srv, ehlo_before)
        .call([&] { before_tls = srv.received().size(); })
        .send("220 go\r\n")
        .upgrade(tls_handshake(cert("server.crt"), cert("server.key")))
        .expect("EHLO")
        .send("250-mx\r\n250 AUTH PLAIN\r\n")
        .expect("AUTH PLAIN " + b64(plain_message()))
        .send("235 2.7.0 ok\r\n");
    lockstep_delivery(srv);
    auto o = tls_options(mode);
    add_auth(o, {}, true);  // plaintext allowed, and still TLS first
    auto r = start_and_deliver(io, srv, one_message(), o);
    CHECK(srv.failures().empty());
    CHECK(r.authenticated);
    CHECK(r.tls.active);
    CHECK(srv.received().substr(0, before_tls) == "EHLO localhost\r\nSTARTTLS\r\n");
  }
}

TEST_CASE("A9 without TLS, credentials go only where plaintext AUTH is allowed [smtpipe]") {
  SUBCASE("tls none, plaintext not allowed: no AUTH at all") {
    asio::io_context io;
    script_server srv(io);
    auto r = auth_only_in_clear(io, srv, tls_mode::none);
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::auth_not_available);
    CHECK(r.error_state == "auth");
    CHECK(leak_in(srv.received()).empty());
    CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
  }
  SUBCASE("opportunistic, no STARTTLS offered, plaintext not allowed: no AUTH") {
    asio::io_context io;
    script_server srv(io);
    auto r = auth_only_in_clear(io, srv, tls_mode::opportunistic);
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::auth_not_available);
    CHECK(leak_in(srv.received()).empty());
  }
  SUBCASE("opportunistic fallback after a refused STARTTLS: still no AUTH in clear") {
    asio::io_context io;
    script_server srv(io);
    starttls_refused(srv, ehlo_before, "454 4.7.0 not now\r\n", ehlo_before).quit();
    auto r = start_and_deliver(io, srv, one_message(), with_auth(tls_mode::opportunistic));
    CHECK(srv.failures().empty());
    CHECK(srv.connections() == 2);
    CHECK(r.tls_fallback_reason == errc::starttls_refused);
    CHECK(r.error == errc::auth_not_available);
    CHECK(leak_in(srv.received()).empty());
  }
  SUBCASE("tls none, plaintext allowed: AUTH PLAIN in clear") {
    asio::io_context io;
    script_server srv(io);
    std::string plain;
    pipelined_delivery(accept_plain(srv.send("220 mx\r\n").expect("EHLO").send(ehlo_plain), plain));
    auto o = tls_options(tls_mode::none);
    add_auth(o, {}, true);
    std::ostringstream log;
    auto r = deliver_transcribed(io, srv, o, log);
    CHECK(srv.failures().empty());
    CHECK(r.authenticated);
    CHECK_FALSE(r.tls.active);
    CHECK(plain == plain_message());
    CHECK(contains(log.str(), "C: AUTH PLAIN <redacted>"));
    CHECK_FALSE(contains(log.str(), b64(plain)));
    CHECK_FALSE(contains(log.str(), test_secret));
    CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
  }
}
