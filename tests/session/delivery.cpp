// Delivery over a scripted server: pipelining, lock-step, several messages, mixed results.
#include "support/run.hpp"
#include "support/script_server.hpp"

#include <doctest/doctest.h>

using namespace smtpipe;
using test::script_server;

namespace {
const std::string ehlo_pipelining = "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
const std::string ehlo_plain = "250-mx.example.org\r\n250 8BITMIME\r\n";
}  // namespace

TEST_CASE("pipelined delivery sends MAIL, RCPT and DATA as one group [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx.example.org ESMTP\r\n")
      .expect("EHLO localhost")
      .send(ehlo_pipelining)
      .expect("MAIL FROM:<a@example.org>")
      .expect("RCPT TO:<b@example.org>")
      .expect("DATA")
      .send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 2.0.0 queued as X\r\n221 2.0.0 bye\r\n");
  srv.start();
  auto r = test::deliver_to(
      io, srv.port(),
      {test::make_message("a@example.org", {"b@example.org"}, "Subject: t\n\nline\n.dot\n")});
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(r.pipelining);
  REQUIRE(r.messages.size() == 1);
  const auto& rr = r.messages[0].recipients.at(0);
  CHECK(rr.status == delivery_status::delivered);
  CHECK(rr.code == 250);
  CHECK(rr.enhanced == enhanced_status{2, 0, 0});
  CHECK(rr.text == "queued as X");
  CHECK(rr.state == "data");
  // Line ends canonicalised, the leading dot stuffed, exactly one terminator.
  CHECK(srv.bodies().at(0) == "Subject: t\r\n\r\nline\r\n..dot\r\n.\r\n");
  // EHLO, then MAIL+RCPT+DATA in one read, then body+"."+QUIT in one read.
  REQUIRE(srv.reads().size() == 3);
  CHECK(srv.reads()[1] ==
        std::string("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n").size());
}

TEST_CASE("without PIPELINING every command waits for its reply [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n")
      .expect("EHLO")
      .send(ehlo_plain)
      .expect("MAIL FROM:<a@example.org>")
      .expect_silence(std::chrono::milliseconds(100))
      .send("250 ok\r\n")
      .expect("RCPT TO:<b@example.org>")
      .expect_silence(std::chrono::milliseconds(100))
      .send("250 ok\r\n")
      .expect("DATA")
      .send("354 go\r\n")
      .expect_data()
      .expect_silence(std::chrono::milliseconds(100))
      .send("250 queued\r\n")
      .quit();
  srv.start();
  auto r = test::deliver_to(io, srv.port(),
                            {test::make_message("a@example.org", {"b@example.org"}, "hi\r\n")});
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.pipelining);
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
}

TEST_CASE(
    "several messages over one pipelined connection: the dot rides with the next MAIL [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n").expect("EHLO").send(ehlo_pipelining);
  for (int i = 0; i < 3; ++i) {
    srv.expect("MAIL FROM:").expect("RCPT TO:").expect("DATA");
    if (i > 0) srv.send("250 queued " + std::to_string(i - 1) + "\r\n");
    srv.send("250 ok\r\n250 ok\r\n354 go\r\n").expect_data();
  }
  srv.expect("QUIT").send("250 queued 2\r\n221 bye\r\n");
  srv.start();
  std::vector<message> msgs;
  for (int i = 0; i < 3; ++i)
    msgs.push_back(test::make_message("a@example.org", {"r" + std::to_string(i) + "@example.org"},
                                      "body\r\n"));
  auto r = test::deliver_to(io, srv.port(), msgs);
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  for (int i = 0; i < 3; ++i) {
    const auto& rr = r.messages.at(i).recipients.at(0);
    CHECK(rr.status == delivery_status::delivered);
    CHECK(rr.text == "queued " + std::to_string(i));
  }
  // EHLO, first group, then one read per later message: body, ".", MAIL, RCPT, DATA together.
  CHECK(srv.reads().size() == 5);
}

TEST_CASE("mixed recipient results in one pipelined group (Exim 0217) [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n")
      .expect("EHLO")
      .send(ehlo_pipelining)
      .expect("MAIL")
      .expect("RCPT TO:<r1@")
      .expect("RCPT TO:<r2@")
      .expect("RCPT TO:<r3@")
      .expect("RCPT TO:<r4@")
      .expect("DATA")
      .send(
          "250 ok\r\n250 ok\r\n451 4.3.0 try later\r\n550 5.1.1 no such user\r\n250 ok\r\n354 "
          "go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 2.0.0 queued\r\n221 bye\r\n");
  srv.start();
  auto r = test::deliver_to(
      io, srv.port(),
      {test::make_message("a@example.org",
                          {"r1@example.org", "r2@example.org", "r3@example.org", "r4@example.org"},
                          "x\r\n")});
  CHECK(srv.failures().empty());
  const auto& rs = r.messages.at(0).recipients;
  CHECK(rs[0].status == delivery_status::delivered);
  CHECK(rs[1].status == delivery_status::transient);
  CHECK(rs[1].code == 451);
  CHECK(rs[1].state == "rcpt");
  CHECK(rs[2].status == delivery_status::permanent);
  CHECK(rs[2].enhanced == enhanced_status{5, 1, 1});
  CHECK(rs[3].status == delivery_status::delivered);
}

TEST_CASE("SIZE= counts the body as sent, CRLF line ends (RFC 1870) [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n")
      .expect("EHLO")
      .send("250-mx\r\n250-PIPELINING\r\n250 SIZE 1000\r\n")
      .expect("MAIL FROM:<a@example.org> SIZE=6")
      .expect("RCPT")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 ok\r\n221 bye\r\n");
  srv.start();
  // Four octets with bare LFs are six on the wire.
  auto r = test::deliver_to(io, srv.port(),
                            {test::make_message("a@example.org", {"b@example.org"}, "a\nb\n")});
  CHECK(srv.failures().empty());
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
}

TEST_CASE("a message over the server's SIZE limit is refused before MAIL [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n").expect("EHLO").send("250-mx\r\n250-PIPELINING\r\n250 SIZE 5\r\n").quit();
  srv.start();
  auto r = test::deliver_to(io, srv.port(),
                            {test::make_message("a@example.org", {"b@example.org"}, "a\nb\n")});
  CHECK(srv.failures().empty());
  const auto& rr = r.messages.at(0).recipients.at(0);
  CHECK(rr.status == delivery_status::permanent);
  CHECK(rr.error == errc::message_too_big);
  CHECK(srv.received().find("MAIL") == std::string::npos);
}
