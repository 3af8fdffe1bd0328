// LMTP (RFC 2033) over a scripted server: LHLO, one reply per accepted recipient after the
// final ".", each deciding its own recipient; hostile servers that send fewer or more.
#include "support/run.hpp"
#include "support/script_server.hpp"

#include <doctest/doctest.h>

using namespace smtpipe;
using test::script_server;

namespace {
const std::string lhlo_pipelining = "250-lmtp.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
const std::string lhlo_plain = "250-lmtp.example.org\r\n250 8BITMIME\r\n";

session_options lmtp_options(double scale = 0.01) {
  //! [lmtp]
  smtpipe::session_options o;
  o.lmtp = true;  // LHLO, and one reply per accepted recipient after the data
  //! [lmtp]
  o.timeouts = o.timeouts.scaled(scale);
  return o;
}

message three_recipients() {
  return test::make_message("a@example.org", {"r1@example.org", "r2@example.org", "r3@example.org"},
                            "x\r\n");
}
}  // namespace

TEST_CASE("LMTP: LHLO, then one reply per accepted recipient in RCPT order [smtpipe][lmtp]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 lmtp.example.org LMTP\r\n")
      .expect("LHLO localhost")
      .send(lhlo_pipelining)
      .expect("MAIL FROM:<a@example.org>")
      .expect("RCPT TO:<r1@")
      .expect("RCPT TO:<r2@")
      .expect("RCPT TO:<r3@")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      // r1 and r3 were accepted: two replies, r1's then r3's.
      .send("250 2.0.0 r1 saved\r\n552 5.2.2 r3 over quota\r\n221 bye\r\n");
  auto r = test::start_and_deliver(io, srv, {three_recipients()}, lmtp_options());
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(srv.received().find("EHLO") == std::string::npos);
  CHECK(srv.received().find("HELO") == std::string::npos);
  const auto& rs = r.messages.at(0).recipients;
  CHECK(rs[0].status == delivery_status::delivered);
  CHECK(rs[0].text == "r1 saved");
  CHECK(rs[0].state == "data");
  CHECK(rs[1].status == delivery_status::permanent);
  CHECK(rs[1].code == 550);
  CHECK(rs[1].state == "rcpt");
  CHECK(rs[2].status == delivery_status::permanent);
  CHECK(rs[2].code == 552);
  CHECK(rs[2].enhanced == enhanced_status{5, 2, 2});
  CHECK(rs[2].text == "r3 over quota");
}

TEST_CASE("LMTP in lock-step: every reply to the dot is read before QUIT [smtpipe][lmtp]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 lmtp\r\n")
      .expect("LHLO")
      .send(lhlo_plain)
      .expect("MAIL")
      .send("250 ok\r\n")
      .expect("RCPT TO:<r1@")
      .send("250 ok\r\n")
      .expect("RCPT TO:<r2@")
      .send("250 ok\r\n")
      .expect("RCPT TO:<r3@")
      .send("250 ok\r\n")
      .expect("DATA")
      .send("354 go\r\n")
      .expect_data()
      .send("250 one\r\n")
      .expect_silence(std::chrono::milliseconds(100))
      .send("452 4.2.2 two full\r\n")
      .expect_silence(std::chrono::milliseconds(100))
      .send("250 three\r\n")
      .quit();
  auto r = test::start_and_deliver(io, srv, {three_recipients()}, lmtp_options(1.0));
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  const auto& rs = r.messages.at(0).recipients;
  CHECK(rs[0].status == delivery_status::delivered);
  CHECK(rs[1].status == delivery_status::transient);
  CHECK(rs[1].code == 452);
  CHECK(rs[1].text == "two full");
  CHECK(rs[2].status == delivery_status::delivered);
  CHECK(rs[2].text == "three");
}

TEST_CASE("LMTP: a refused LHLO fails the session, no HELO fallback [smtpipe][lmtp]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 lmtp\r\n")
      .expect("LHLO")
      .send("500 5.5.1 what?\r\n")
      .expect("QUIT")
      .send("221 bye\r\n");
  auto r = test::start_and_deliver(io, srv, {three_recipients()}, lmtp_options());
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::unexpected_reply);
  CHECK(srv.received().find("HELO") == std::string::npos);
  for (const auto& rr : r.messages.at(0).recipients) CHECK(rr.status == delivery_status::permanent);
}

TEST_CASE("LMTP: connection dropped after 1 of 3 replies: the others are unknown [smtpipe][lmtp]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 lmtp\r\n")
      .expect("LHLO")
      .send(lhlo_pipelining)
      .expect("MAIL")
      .expect("RCPT TO:<r1@")
      .expect("RCPT TO:<r2@")
      .expect("RCPT TO:<r3@")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .send("250 2.0.0 r1 saved\r\n")
      .close();
  auto r = test::start_and_deliver(io, srv, {three_recipients()}, lmtp_options());
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::connection_closed);
  const auto& rs = r.messages.at(0).recipients;
  CHECK(rs[0].status == delivery_status::delivered);
  CHECK(rs[1].status == delivery_status::unknown);
  CHECK(rs[2].status == delivery_status::unknown);
}

TEST_CASE("LMTP: a reply more than the accepted recipients is a protocol error [smtpipe][lmtp]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 lmtp\r\n")
      .expect("LHLO")
      .send(lhlo_plain)
      .expect("MAIL")
      .send("250 ok\r\n")
      .expect("RCPT TO:<r1@")
      .send("250 ok\r\n")
      .expect("RCPT TO:<r2@")
      .send("550 no\r\n")
      .expect("RCPT TO:<r3@")
      .send("250 ok\r\n")
      .expect("DATA")
      .send("354 go\r\n")
      .expect_data()
      // Two recipients accepted, three replies: out of step, the connection is dropped.
      .send("250 one\r\n250 two\r\n250 extra\r\n")
      .expect_close();
  auto r = test::start_and_deliver(io, srv, {three_recipients()}, lmtp_options());
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::unsolicited_reply);
  CHECK(srv.received().find("QUIT") == std::string::npos);
  const auto& rs = r.messages.at(0).recipients;
  CHECK(rs[0].status == delivery_status::delivered);
  CHECK(rs[1].status == delivery_status::permanent);
  CHECK(rs[2].status == delivery_status::delivered);
}

TEST_CASE(
    "LMTP: two messages pipelined, replies of the first ride before the second's [smtpipe][lmtp]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 lmtp\r\n").expect("LHLO").send(lhlo_pipelining);
  srv.expect("MAIL").expect("RCPT").expect("RCPT").expect("DATA");
  srv.send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n").expect_data();
  srv.expect("MAIL").expect("RCPT").expect("RCPT").expect("DATA");
  srv.send("250 m1 r1\r\n450 4.2.0 m1 r2 busy\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data();
  srv.expect("QUIT").send("550 5.1.1 m2 r1 gone\r\n250 m2 r2\r\n221 bye\r\n");
  std::vector<message> msgs;
  msgs.push_back(
      test::make_message("a@example.org", {"r1@example.org", "r2@example.org"}, "1\r\n"));
  msgs.push_back(
      test::make_message("a@example.org", {"r1@example.org", "r2@example.org"}, "2\r\n"));
  auto r = test::start_and_deliver(io, srv, msgs, lmtp_options());
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
  CHECK(r.messages[0].recipients[1].status == delivery_status::transient);
  CHECK(r.messages[0].recipients[1].text == "m1 r2 busy");
  CHECK(r.messages[1].recipients[0].status == delivery_status::permanent);
  CHECK(r.messages[1].recipients[1].status == delivery_status::delivered);
  CHECK(r.messages[1].recipients[1].text == "m2 r2");
}

TEST_CASE("SMTP is unchanged: one reply to the dot decides every recipient [smtpipe][lmtp]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n")
      .expect("EHLO")
      .send(lhlo_pipelining)
      .expect("MAIL")
      .expect("RCPT")
      .expect("RCPT")
      .expect("RCPT")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
  auto r = test::start_and_deliver(io, srv, {three_recipients()});
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  for (const auto& rr : r.messages.at(0).recipients) CHECK(rr.text == "queued");
}
