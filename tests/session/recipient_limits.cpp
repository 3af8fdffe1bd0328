// Recipient limits (RFC 5321 §4.5.3.1.10): a 452 (or 4.5.3) to RCPT after an accepted
// recipient sends the rest of the message's recipients in a following transaction on the same
// connection, not a failure.
#include "support/run.hpp"
#include "support/script_server.hpp"

#include <doctest/doctest.h>

using namespace smtpipe;
using test::script_server;

namespace {
const std::string ehlo_pipelining = "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
const std::string ehlo_plain = "250-mx.example.org\r\n250 8BITMIME\r\n";

message recipients(int n) {
  std::vector<std::string> to;
  for (int i = 1; i <= n; ++i) to.push_back("r" + std::to_string(i) + "@example.org");
  return test::make_message("a@example.org", std::move(to), "x\r\n");
}
}  // namespace

TEST_CASE(
    "pipelined: 452 after two recipients, the rest go in a second transaction [smtpipe][limit]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n").expect("EHLO").send(ehlo_pipelining);
  srv.expect("MAIL")
      .expect("RCPT TO:<r1@")
      .expect("RCPT TO:<r2@")
      .expect("RCPT TO:<r3@")
      .expect("RCPT TO:<r4@")
      .expect("RCPT TO:<r5@")
      .expect("DATA")
      .send(
          "250 ok\r\n250 ok\r\n250 ok\r\n452 4.5.3 Error: too many recipients\r\n"
          "452 4.5.3 Error: too many recipients\r\n452 4.5.3 Error: too many recipients\r\n"
          "354 go\r\n")
      .expect_data();
  // The second transaction starts at r3, with the first's "." ahead of it.
  srv.expect("MAIL")
      .expect("RCPT TO:<r3@")
      .expect("RCPT TO:<r4@")
      .expect("RCPT TO:<r5@")
      .expect("DATA")
      .send("250 first queued\r\n250 ok\r\n250 ok\r\n250 ok\r\n452 4.5.3 too many\r\n354 go\r\n")
      .expect_data();
  srv.expect("MAIL")
      .expect("RCPT TO:<r5@")
      .expect("DATA")
      .send("250 second queued\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 third queued\r\n221 bye\r\n");
  auto r = test::start_and_deliver(io, srv, {recipients(5)});
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(r.transactions == 3);
  const auto& rs = r.messages.at(0).recipients;
  CHECK(r.messages.at(0).transactions == 3);
  CHECK(rs[0].text == "first queued");
  CHECK(rs[1].text == "first queued");
  CHECK(rs[2].text == "second queued");
  CHECK(rs[3].text == "second queued");
  CHECK(rs[4].text == "third queued");
  for (const auto& rr : rs) CHECK(rr.status == delivery_status::delivered);
}

TEST_CASE("lock-step: 452 too many recipients continues in a new transaction [smtpipe][limit]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n")
      .expect("EHLO")
      .send(ehlo_plain)
      .expect("MAIL")
      .send("250 ok\r\n")
      .expect("RCPT TO:<r1@")
      .send("250 ok\r\n")
      .expect("RCPT TO:<r2@")
      .send("452 too many recipients\r\n")
      .expect("RCPT TO:<r3@")
      .send("452 too many recipients\r\n")
      .expect("DATA")
      .send("354 go\r\n")
      .expect_data()
      .send("250 one\r\n")
      .expect("MAIL")
      .send("250 ok\r\n")
      .expect("RCPT TO:<r2@")
      .send("250 ok\r\n")
      .expect("RCPT TO:<r3@")
      .send("250 ok\r\n")
      .expect("DATA")
      .send("354 go\r\n")
      .expect_data()
      .send("250 two\r\n")
      .quit();
  auto r = test::start_and_deliver(io, srv, {recipients(3)});
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  const auto& rs = r.messages.at(0).recipients;
  CHECK(rs[0].text == "one");
  CHECK(rs[1].text == "two");
  CHECK(rs[2].text == "two");
  for (const auto& rr : rs) CHECK(rr.status == delivery_status::delivered);
  CHECK(srv.bodies().size() == 2);
}

TEST_CASE("a 452 to the first recipient is that recipient's transient failure [smtpipe][limit]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n")
      .expect("EHLO")
      .send(ehlo_pipelining)
      .expect("MAIL")
      .expect("RCPT TO:<r1@")
      .expect("RCPT TO:<r2@")
      .expect("DATA")
      .send("250 ok\r\n452 4.3.1 insufficient system storage\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
  auto r = test::start_and_deliver(io, srv, {recipients(2)});
  CHECK(srv.failures().empty());
  const auto& rs = r.messages.at(0).recipients;
  CHECK(rs[0].status == delivery_status::transient);
  CHECK(rs[0].code == 452);
  CHECK(rs[1].status == delivery_status::delivered);
  CHECK(r.transactions == 1);
}

TEST_CASE("a 4.5.3 with 451 is a limit too; refusals after it are kept [smtpipe][limit]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n").expect("EHLO").send(ehlo_pipelining);
  srv.expect("MAIL").expect("RCPT TO:<r1@").expect("RCPT TO:<r2@").expect("DATA");
  srv.send("250 ok\r\n250 ok\r\n451 4.5.3 recipient limit\r\n354 go\r\n").expect_data();
  srv.expect("MAIL").expect("RCPT TO:<r2@").expect("DATA");
  srv.send("250 one\r\n250 ok\r\n550 5.1.1 unknown\r\n503 no valid recipients\r\n")
      .expect("QUIT")
      .send("221 bye\r\n");
  auto r = test::start_and_deliver(io, srv, {recipients(2)});
  CHECK(srv.failures().empty());
  const auto& rs = r.messages.at(0).recipients;
  CHECK(rs[0].status == delivery_status::delivered);
  CHECK(rs[0].text == "one");
  CHECK(rs[1].status == delivery_status::permanent);
  CHECK(rs[1].code == 550);
}
