// CHUNKING/BDAT (RFC 3030), BINARYMIME (RFC 3030 §3) and 8BITMIME labelling (RFC 6152)
// against the scripted loopback server: the bytes on the wire, the pipelined groups, and
// servers that refuse a chunk, answer one early or drop the connection between chunks.
#include "support/conversation.hpp"
#include "support/run.hpp"
#include "support/script_server.hpp"
#include "support/wire.hpp"

#include <doctest/doctest.h>

using namespace smtpipe;
using namespace smtpipe::test;
using namespace std::chrono_literals;

namespace {

const std::string ehlo_chunking =
    "250-mx.example.org\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
    "250 CHUNKING\r\n";
const std::string ehlo_chunking_lockstep =
    "250-mx.example.org\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 CHUNKING\r\n";
const std::string ehlo_binary =
    "250-mx.example.org\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-BINARYMIME\r\n"
    "250 CHUNKING\r\n";
const std::string ehlo_7bit = "250-mx.example.org\r\n250-PIPELINING\r\n250 CHUNKING\r\n";

message msg(std::string body, std::vector<std::string> to = {"b@example.org"}) {
  return make_message("a@example.org", std::move(to), std::move(body));
}

session_options chunked(std::size_t chunk_size) {
  auto o = fast_options(0.01);
  o.bdat_chunk_size = chunk_size;
  return o;
}

std::string describe_failures(const script_server& srv) {
  std::string out;
  for (const auto& f : srv.failures()) out += f + "\n";
  return out;
}

std::string big_body(std::size_t octets) {
  const std::string line = std::string(78, 'y') + "\r\n";
  std::string body;
  while (body.size() < octets) body += line;
  return body;
}

}  // namespace

TEST_CASE("BDAT: two pipelined messages, one write each, no dot-stuffing [smtpipe][bdat]") {
  const std::string body1 = "Subject: t\n\nline\n.dot\n";  // canonical: 24 octets
  const std::string wire1 = "Subject: t\r\n\r\nline\r\n.dot\r\n";
  const std::string body2 = "second";  // canonical: "second\r\n"
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_chunking)
      .expect("MAIL FROM:<a@example.org>")
      .expect("RCPT TO:<b@example.org>")
      .send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n")
      .expect("BDAT 26 LAST")
      .expect_octets(26)
      .expect("MAIL FROM:<a@example.org>")
      .expect("RCPT TO:<c@example.org>")
      .send("250 2.0.0 queued as 1\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n")
      .expect("BDAT 8 LAST")
      .expect_octets(8)
      .expect("QUIT")
      .send("250 2.0.0 queued as 2\r\n221 2.0.0 bye\r\n");
  auto r = start_and_deliver(io, srv, {msg(body1), msg(body2, {"c@example.org"})});
  CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
  CHECK_FALSE(r.error);
  REQUIRE(r.messages.size() == 2);
  const auto& r1 = r.messages[0].recipients.at(0);
  CHECK(r1.status == delivery_status::delivered);
  CHECK(r1.text == "queued as 1");
  CHECK(r1.state == "data");
  CHECK(r.messages[1].recipients.at(0).text == "queued as 2");
  CHECK(r.messages[1].recipients.at(0).status == delivery_status::delivered);
  REQUIRE(srv.bodies().size() == 2);
  CHECK(srv.bodies()[0] == wire1);
  CHECK(srv.bodies()[1] == "second\r\n");
  CHECK_FALSE(contains(srv.received(), "DATA\r\n"));
  // EHLO; MAIL+RCPT; the first message's chunk with the next MAIL+RCPT; the last chunk+QUIT.
  const auto c = chunks(srv);
  REQUIRE(c.size() == 4);
  CHECK(c[1] == "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n");
  CHECK(c[2] ==
        "BDAT 26 LAST\r\n" + wire1 + "MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\n");
  CHECK(c[3] == "BDAT 8 LAST\r\nsecond\r\nQUIT\r\n");
}

TEST_CASE("BDAT: an empty body is BDAT 0 LAST [smtpipe][bdat]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_chunking_lockstep)
      .expect("MAIL")
      .send("250 ok\r\n")
      .expect("RCPT")
      .send("250 ok\r\n")
      .expect("BDAT 0 LAST")
      .send("250 2.0.0 queued\r\n")
      .quit();
  auto r = start_and_deliver(io, srv, {msg("")});
  CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
  CHECK(sent_after(srv, "RCPT TO:<b@example.org>\r\n") == "BDAT 0 LAST\r\nQUIT\r\n");
}

TEST_CASE("BDAT: a large body goes in chunks of the exact configured size [smtpipe][bdat]") {
  // 25 canonical octets in chunks of 10: 10, 10, then 5 LAST.
  const std::string body = "0123456789abcdefghijABCD\n";
  for (bool pipelining : {true, false}) {
    CAPTURE(pipelining);
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, pipelining ? ehlo_chunking : ehlo_chunking_lockstep);
    if (pipelining) srv.expect("MAIL").expect("RCPT").send("250 ok\r\n250 ok\r\n");
    else srv.expect("MAIL").send("250 ok\r\n").expect("RCPT").send("250 ok\r\n");
    srv.expect("BDAT 10")
        .expect_octets(10)
        .send("250 2.0.0 10 octets\r\n")
        .expect("BDAT 10")
        .expect_octets(10)
        .send("250 2.0.0 20 octets\r\n")
        .expect("BDAT 6 LAST")
        .expect_octets(6)
        .send("250 2.0.0 queued\r\n")
        .quit();
    auto r = start_and_deliver(io, srv, {msg(body)}, chunked(10));
    CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
    CHECK_FALSE(r.error);
    CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
    CHECK(r.messages.at(0).recipients.at(0).text == "queued");
    CHECK(sent_after(srv, "RCPT TO:<b@example.org>\r\n") ==
          "BDAT 10\r\n0123456789BDAT 10\r\nabcdefghijBDAT 6 LAST\r\nABCD\r\nQUIT\r\n");
  }
}

TEST_CASE(
    "BDAT: a 5xx to a chunk in the middle decides every recipient; no more chunks "
    "[smtpipe][bdat]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_chunking_lockstep)
      .expect("MAIL")
      .send("250 ok\r\n")
      .expect("RCPT")
      .send("250 ok\r\n")
      .expect("RCPT")
      .send("250 ok\r\n")
      .expect("BDAT 10")
      .expect_octets(10)
      .send("250 2.0.0 more\r\n")
      .expect("BDAT 10")
      .expect_octets(10)
      .send("554 5.6.0 content refused\r\n")
      .quit();  // RSET only comes before another message
  auto r = start_and_deliver(io, srv, {msg(std::string(40, 'z') + "\r\n", {"b@x.org", "c@x.org"})},
                             chunked(10));
  CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
  CHECK_FALSE(r.error);
  for (const auto& rr : r.messages.at(0).recipients) {
    CHECK(rr.status == delivery_status::permanent);
    CHECK(rr.code == 554);
    CHECK(rr.enhanced == enhanced_status{5, 6, 0});
    CHECK(rr.text == "content refused");
    CHECK(rr.state == "data");
  }
  CHECK(count_of(srv.received(), "BDAT") == 2);
  CHECK_FALSE(contains(srv.received(), "LAST"));
}

TEST_CASE(
    "BDAT: a 4xx to a chunk is transient; RSET, and the next message still goes "
    "[smtpipe][bdat]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_chunking_lockstep)
      .expect("MAIL")
      .send("250 ok\r\n")
      .expect("RCPT")
      .send("250 ok\r\n")
      .expect("BDAT 10")
      .expect_octets(10)
      .send("452 4.3.1 out of space\r\n")
      .expect("RSET")
      .send("250 2.0.0 reset\r\n")
      .expect("MAIL")
      .send("250 ok\r\n")
      .expect("RCPT")
      .send("250 ok\r\n")
      .expect("BDAT 4 LAST")
      .expect_octets(4)
      .send("250 2.0.0 queued\r\n")
      .quit();
  auto r =
      start_and_deliver(io, srv, {msg(std::string(40, 'z') + "\r\n"), msg("ok\n")}, chunked(10));
  CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
  CHECK_FALSE(r.error);
  const auto& r1 = r.messages.at(0).recipients.at(0);
  CHECK(r1.status == delivery_status::transient);
  CHECK(r1.code == 452);
  CHECK(r.messages.at(1).recipients.at(0).status == delivery_status::delivered);
  CHECK(count_of(srv.received(), "BDAT 10\r\n") == 1);
}

TEST_CASE(
    "BDAT: the connection dropped between chunks: transient before LAST, unknown after "
    "[smtpipe][bdat]") {
  SUBCASE("before the last chunk") {
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_chunking_lockstep)
        .expect("MAIL")
        .send("250 ok\r\n")
        .expect("RCPT")
        .send("250 ok\r\n")
        .expect("BDAT 10")
        .expect_octets(10)
        .send("250 2.0.0 more\r\n")
        .close();
    auto r = start_and_deliver(io, srv, {msg(std::string(40, 'z') + "\r\n")}, chunked(10));
    CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
    CHECK(r.error);
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.status == delivery_status::transient);
    CHECK(rr.code == 0);
  }
  SUBCASE("after the last chunk") {
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_chunking_lockstep)
        .expect("MAIL")
        .send("250 ok\r\n")
        .expect("RCPT")
        .send("250 ok\r\n")
        .expect("BDAT 10")
        .expect_octets(10)
        .send("250 2.0.0 more\r\n")
        .expect("BDAT 5 LAST")
        .expect_octets(5)
        .close();
    auto r = start_and_deliver(io, srv, {msg("0123456789abc\r\n")}, chunked(10));
    CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
    CHECK(r.error);
    CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::unknown);
  }
}

TEST_CASE("BDAT: a reply before the chunk was fully written is early [smtpipe][bdat]") {
  asio::io_context io;
  script_server srv(io);
  srv.receive_buffer(16 * 1024)
      .greet(greeting, ehlo_chunking)
      .expect("MAIL")
      .expect("RCPT")
      .send("250 ok\r\n250 ok\r\n")
      .expect("BDAT 8388608")
      .send("552 5.3.4 too big\r\n")
      .expect_close();
  auto r = start_and_deliver(io, srv, {msg(big_body(12 * 1024 * 1024))}, chunked(8 * 1024 * 1024));
  CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
  CHECK(r.error == errc::early_reply);
  const auto& rr = r.messages.at(0).recipients.at(0);
  CHECK(rr.status == delivery_status::permanent);
  CHECK(rr.code == 552);
  CHECK_FALSE(contains(srv.received(), "LAST"));
}

TEST_CASE(
    "BDAT: an early reply to a last chunk that rides with the next MAIL decides neither "
    "message [smtpipe][bdat]") {
  const std::string body = big_body(6 * 1024 * 1024);  // whole lines: canonical as it is
  asio::io_context io;
  script_server srv(io);
  srv.receive_buffer(16 * 1024)
      .greet(greeting, ehlo_chunking)
      .expect("MAIL")
      .expect("RCPT")
      .send("250 ok\r\n250 ok\r\n")
      .expect("BDAT " + std::to_string(body.size()) + " LAST")
      .send("554 5.3.4 too big\r\n")
      .expect_close();
  auto r = start_and_deliver(io, srv, {msg(body), msg("next\n")}, chunked(8 * 1024 * 1024));
  CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
  CHECK(r.error == errc::early_reply);
  // The last chunk was not completely written: the first message cannot have been taken.
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::transient);
  CHECK(r.messages.at(0).recipients.at(0).code == 0);
  // The second message's MAIL and RCPT were never answered.
  CHECK(r.messages.at(1).recipients.at(0).status == delivery_status::transient);
  CHECK(r.messages.at(1).recipients.at(0).code == 0);
}

TEST_CASE("BDAT off: session_options::chunking = false sends DATA [smtpipe][bdat]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_chunking)
      .expect_group()
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
  auto o = fast_options(0.01);
  o.chunking = false;
  auto r = start_and_deliver(io, srv, {msg("hi\r\n")}, o);
  CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
  CHECK_FALSE(contains(srv.received(), "BDAT"));
}

TEST_CASE(
    "BINARYMIME: raw octets with BDAT when advertised, refused unsent otherwise "
    "[smtpipe][bdat]") {
  const std::string body("bin\0ary\nbare LF\r\r\n", 19);
  auto binary = msg(body);
  binary.params.body = body_type::binary_mime;
  {
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_binary)
        .expect("MAIL FROM:<a@example.org> BODY=BINARYMIME")
        .expect("RCPT")
        .send("250 ok\r\n250 ok\r\n")
        .expect("BDAT 19 LAST")
        .expect_octets(19)
        .expect("QUIT")
        .send("250 queued\r\n221 bye\r\n");
    auto r = start_and_deliver(io, srv, {binary});
    CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
    CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
    REQUIRE(srv.bodies().size() == 1);
    CHECK(srv.bodies()[0] == body);
  }
  for (const std::string& ehlo : {ehlo_chunking, ehlo_enhanced}) {
    CAPTURE(ehlo);
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo).quit();
    auto r = start_and_deliver(io, srv, {binary});
    CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.status == delivery_status::permanent);
    CHECK(rr.error == errc::binarymime_not_supported);
    CHECK(rr.enhanced == enhanced_status{5, 6, 3});
    CHECK_FALSE(contains(srv.received(), "MAIL"));
  }
}

TEST_CASE(
    "8BITMIME: an 8-bit body is labelled, or refused unsent without 8BITMIME "
    "[smtpipe][8bitmime]") {
  const std::string body = "Subject: caf\xc3\xa9\r\n\r\nd\xc3\xa9j\xc3\xa0 vu\r\n";
  SUBCASE("labelled BODY=8BITMIME when the caller left BODY unspecified") {
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_enhanced)
        .expect("MAIL FROM:<a@example.org> BODY=8BITMIME")
        .expect("RCPT")
        .expect("DATA")
        .send("250 ok\r\n250 ok\r\n354 go\r\n")
        .expect_data()
        .expect("QUIT")
        .send("250 queued\r\n221 bye\r\n");
    auto r = start_and_deliver(io, srv, {msg(body)});
    CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
    CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
    CHECK(contains(srv.received(), "MAIL FROM:<a@example.org> BODY=8BITMIME\r\n"));
  }
  SUBCASE("a 7-bit body stays unlabelled") {
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_chunking)
        .expect("MAIL FROM:<a@example.org>")
        .expect("RCPT")
        .send("250 ok\r\n250 ok\r\n")
        .expect("BDAT 5 LAST")
        .expect_octets(5)
        .expect("QUIT")
        .send("250 queued\r\n221 bye\r\n");
    auto r = start_and_deliver(io, srv, {msg("abc\n")});
    CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
    CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
    CHECK(contains(srv.received(), "MAIL FROM:<a@example.org>\r\n"));
  }
  SUBCASE("refused before any byte when the server lacks 8BITMIME") {
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_7bit).quit();
    auto r = start_and_deliver(io, srv, {msg(body)});
    CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.status == delivery_status::permanent);
    CHECK(rr.error == errc::eight_bit_not_supported);
    CHECK(rr.enhanced == enhanced_status{5, 6, 3});
    CHECK(r.messages.at(0).error == errc::eight_bit_not_supported);
    CHECK_FALSE(contains(srv.received(), "MAIL"));
  }
  SUBCASE("sent as is when the caller opts in") {
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_7bit)
        .expect("MAIL FROM:<a@example.org>")
        .expect("RCPT")
        .send("250 ok\r\n250 ok\r\n")
        .expect("BDAT")
        .expect_octets(body.size())
        .expect("QUIT")
        .send("250 queued\r\n221 bye\r\n");
    auto o = fast_options(0.01);
    o.eight_bit_as_is = true;
    auto r = start_and_deliver(io, srv, {msg(body)}, o);
    CHECK_MESSAGE(srv.failures().empty(), describe_failures(srv));
    CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
    REQUIRE(srv.bodies().size() == 1);
    CHECK(srv.bodies()[0] == body);
    CHECK(contains(srv.received(), "MAIL FROM:<a@example.org>\r\n"));
  }
}
