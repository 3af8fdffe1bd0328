// Every recipient result carries its bounce class (Momentum's classes, reference §4): from the
// reply that decided it, from a local error, through the session's classifier.
#include "support/conversation.hpp"
#include "support/run.hpp"
#include "support/script_server.hpp"

#include <smtpipe/protocol/bounce_classifier.hpp>

#include <doctest/doctest.h>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <ostream>  // doctest prints std::error_code through operator<<
#include <string>
#include <vector>

using namespace smtpipe;
using namespace smtpipe::test;

namespace {

// Four recipients of one message: one accepted, three refused at RCPT with well-known texts.
void four_recipients(script_server& srv) {
  srv.greet(greeting, ehlo_enhanced)
      .expect("MAIL")
      .expect("RCPT TO:<ok@example.org>")
      .expect("RCPT TO:<gone@example.org>")
      .expect("RCPT TO:<full@example.net>")
      .expect("RCPT TO:<listed@example.com>")
      .expect("DATA")
      .send(
          "250 2.1.0 ok\r\n250 2.1.5 ok\r\n"
          "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown\r\n"
          "452 4.2.2 <full@example.net>: mailbox full\r\n"
          "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using "
          "zen.spamhaus.org\r\n"
          "354 go ahead\r\n")
      .expect_data()
      .send("250 2.0.0 queued\r\n")
      .quit();
}

std::vector<message> four_message() {
  return {
      make_message("a@example.org",
                   {"ok@example.org", "gone@example.org", "full@example.net", "listed@example.com"},
                   "hello\r\n")};
}

}  // namespace

TEST_CASE("bounce class: each recipient result carries its class and name [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  four_recipients(srv);
  const session_result r = start_and_deliver(io, srv, four_message());
  CHECK(srv.failures().empty());
  REQUIRE(r.messages.size() == 1);
  const auto& rs = r.messages[0].recipients;
  REQUIRE(rs.size() == 4);
  CHECK(rs[0].status == delivery_status::delivered);
  CHECK(rs[0].bounce_class == 0);
  CHECK(rs[0].bounce_class_name.empty());
  CHECK(rs[1].status == delivery_status::permanent);
  CHECK(rs[1].bounce_class == 10);
  CHECK(rs[1].bounce_class_name == "Invalid Recipient");
  CHECK(rs[2].status == delivery_status::transient);
  CHECK(rs[2].bounce_class == 22);
  CHECK(rs[2].bounce_class_name == "Mailbox Full");
  CHECK(rs[3].bounce_class == 51);
  CHECK(rs[3].bounce_class_name == "Spam Block");
}

TEST_CASE("bounce class: the session uses the classifier of its options [smtpipe]") {
  bounce_classifier classifier;
  REQUIRE(!classifier.register_class(99, "Our Suppression", "on the sender's own list"));
  REQUIRE(!classifier.add_rules("example.org,99,user unknown\n,25,mailbox full"));
  asio::io_context io;
  script_server srv(io);
  four_recipients(srv);
  session_options options = fast_options(0.01);
  options.bounce_classifier = &classifier;
  const session_result r = start_and_deliver(io, srv, four_message(), options);
  CHECK(srv.failures().empty());
  const auto& rs = r.messages.at(0).recipients;
  REQUIRE(rs.size() == 4);
  CHECK(rs[0].bounce_class == 0);
  CHECK(rs[1].bounce_class == 99);  // the rule for example.org
  CHECK(rs[1].bounce_class_name == "Our Suppression");
  CHECK(rs[2].bounce_class == 25);  // a global rule
  CHECK(rs[2].bounce_class_name == "Admin Failure");
  CHECK(rs[3].bounce_class == 51);  // no rule: the built-in one
}

TEST_CASE("bounce class: the reply to the final dot classifies every recipient [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_enhanced)
      .expect_group()
      .send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n")
      .expect_data()
      .send("552 5.3.4 Message size exceeds fixed limit\r\n")
      .quit();
  const session_result r =
      start_and_deliver(io, srv, {make_message("a@example.org", {"b@example.org"}, "x\r\n")});
  CHECK(srv.failures().empty());
  const auto& rr = r.messages.at(0).recipients.at(0);
  CHECK(rr.status == delivery_status::permanent);
  CHECK(rr.bounce_class == 23);
  CHECK(rr.bounce_class_name == "Too Large");
}

TEST_CASE("bounce class: local failures classify recipients never tried [smtpipe]") {
  SUBCASE("a refused connection is a transient failure") {
    asio::io_context io;
    unsigned short port = 0;
    {
      // A port that was just free on loopback: nothing listens there any more.
      asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
      port = a.local_endpoint().port();
    }
    const session_result r = deliver_to(
        io, port, {make_message("a@example.org", {"b@example.org"}, "x\r\n")}, fast_options(0.01));
    REQUIRE(r.error);
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.error == errc::not_attempted);
    CHECK(rr.bounce_class == 70);
    CHECK(rr.bounce_class_name == "Transient Failure");
  }
  SUBCASE("a silent server is a timeout") {
    asio::io_context io;
    script_server srv(io);
    srv.expect_close();
    const session_result r = start_and_deliver(
        io, srv, {make_message("a@example.org", {"b@example.org"}, "x\r\n")}, fast_options(0.001));
    CHECK(r.error == errc::timeout);
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.bounce_class == 24);
    CHECK(rr.bounce_class_name == "Timeout");
  }
  SUBCASE("a message refused before sending is an admin failure") {
    asio::io_context io;  // refused before connecting: no server needed
    const session_result r = deliver_to(
        io, 1, {make_message("a@example.org", {"not an address"}, "x\r\n")}, fast_options(0.01));
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.status == delivery_status::permanent);
    CHECK(rr.bounce_class == 25);
  }
  SUBCASE("a connection closed after the final dot leaves the outcome unknown, transient") {
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_enhanced)
        .expect_group()
        .send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n")
        .expect_data()
        .close();
    const session_result r =
        start_and_deliver(io, srv, {make_message("a@example.org", {"b@example.org"}, "x\r\n")});
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.status == delivery_status::unknown);
    CHECK(rr.bounce_class == 70);
  }
}
