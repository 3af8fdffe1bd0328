// Servers that refuse, close, or answer out of turn (security.md §6 B 24-26, D 43, 46-48, 51,
// 52), and the bookkeeping that splits recipients and messages over transactions.
// RFC 5321 §3.8 (421 and lost connections), §4.1.1.1 (EHLO/HELO), §4.1.1.10 (QUIT), §4.5.3.1.8
// (recipients per transaction); RFC 2920 §3.1 (pipelined groups); RFC 2197 (DATA after every
// RCPT failed).
#include "support/conversation.hpp"
#include "support/run.hpp"
#include "support/script_server.hpp"
#include "support/wire.hpp"

#include <doctest/doctest.h>

using namespace smtpipe;
using namespace smtpipe::test;
using namespace std::chrono_literals;

namespace {

const std::string mail_line = "MAIL FROM:<a@example.org>\r\n";
const std::string closing = "421 4.3.2 shutting down\r\n";

std::vector<message> one_message(std::string body = "hello\r\n") {
  return {test::make_message("a@example.org", {"b@example.org"}, std::move(body))};
}

// A body far larger than what the kernel buffers between client and server.
std::string big_body(std::size_t octets = 8 * 1024 * 1024) {
  const std::string line = std::string(78, 'x') + "\r\n";
  std::string body;
  body.reserve(octets + line.size());
  while (body.size() < octets) body += line;
  return body;
}

}  // namespace

// ---- D43: 421 at every step ----------------------------------------------------------------

namespace {
struct closing_step {
  const char* name;
  void (*script)(script_server&);  // the conversation up to the command that gets 421
  std::string sent;                // what the client wrote by then
};

const std::vector<closing_step> pipelined_steps{
    {"greeting", [](script_server& s) { s.send(closing); }, ""},
    {"EHLO", [](script_server& s) { s.greet(greeting, closing); }, ehlo_line},
    {"MAIL",
     [](script_server& s) { s.greet(greeting, ehlo_enhanced).expect_group().send(closing); },
     ehlo_line + group_one},
    {"RCPT",
     [](script_server& s) {
       s.greet(greeting, ehlo_enhanced).expect_group().send("250 2.1.0 ok\r\n" + closing);
     },
     ehlo_line + group_one},
    {"DATA",
     [](script_server& s) {
       s.greet(greeting, ehlo_enhanced)
           .expect_group()
           .send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n" + closing);
     },
     ehlo_line + group_one},
    {"dot",
     [](script_server& s) {
       s.greet(greeting, ehlo_enhanced)
           .expect_group()
           .send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n")
           .expect_data()
           .expect_group()
           .send(closing);
     },
     // The dot rides with the second message's group, which gets no reply.
     ehlo_line + group_one + "hello\r\n.\r\n" + mail_line + "RCPT TO:<c@example.org>\r\nDATA\r\n"},
};

const std::vector<closing_step> lockstep_steps{
    {"MAIL",
     [](script_server& s) { s.greet(greeting, ehlo_lockstep).expect("MAIL").send(closing); },
     ehlo_line + mail_line},
    {"RCPT",
     [](script_server& s) {
       s.greet(greeting, ehlo_lockstep)
           .expect("MAIL")
           .send("250 ok\r\n")
           .expect("RCPT")
           .send(closing);
     },
     ehlo_line + group_one.substr(0, group_one.size() - 6)},
    {"DATA",
     [](script_server& s) {
       s.greet(greeting, ehlo_lockstep)
           .expect("MAIL")
           .send("250 ok\r\n")
           .expect("RCPT")
           .send("250 ok\r\n")
           .expect("DATA")
           .send(closing);
     },
     ehlo_line + group_one},
    {"dot", [](script_server& s) { s.greet(greeting, ehlo_lockstep).lockstep_message(closing); },
     ehlo_line + group_one + "hello\r\n.\r\n"},
};

void check_closing(const closing_step& step, bool server_closes) {
  const std::string name = step.name;
  CAPTURE(name);
  CAPTURE(server_closes);
  asio::io_context io;
  script_server srv(io);
  step.script(srv);
  if (server_closes) srv.close();  // as RFC 5321 §3.8 says it will
  else srv.expect_close(2000ms);   // a server that lingers: the client must still hang up
  const auto start = std::chrono::steady_clock::now();
  auto r = start_and_deliver(io, srv,
                             {test::make_message("a@example.org", {"b@example.org"}, "hello\r\n"),
                              test::make_message("a@example.org", {"c@example.org"}, "again\r\n")});
  CHECK(std::chrono::steady_clock::now() - start < 1s);  // no reply timeout was waited for
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::service_not_available);
  CHECK(r.error_text == "shutting down");
  // Nothing after the command that got 421 (not even QUIT: the server is going away).
  CHECK(srv.received() == step.sent);
  for (const auto& m : r.messages) {
    const auto& rr = m.recipients.at(0);
    CAPTURE(rr.address);
    CHECK(rr.status == delivery_status::transient);
    CHECK(rr.code == 421);
    CHECK(rr.enhanced == enhanced_status{4, 3, 2});
  }
}
}  // namespace

TEST_CASE(
    "421 at every pipelined step: transient for every recipient, nothing sent after "
    "[smtpipe]") {
  for (const auto& step : pipelined_steps) {
    check_closing(step, true);
    check_closing(step, false);
  }
}

TEST_CASE(
    "421 at every lock-step step: transient for every recipient, nothing sent after "
    "[smtpipe]") {
  for (const auto& step : lockstep_steps) {
    check_closing(step, true);
    check_closing(step, false);
  }
}

// ---- B25, B26: the connection lost during and right after the data --------------------------

TEST_CASE(
    "the server closes halfway through the body: transient, never unknown or delivered "
    "[smtpipe][B25]") {
  const std::string body = big_body();
  asio::io_context io;
  script_server srv(io);
  srv.receive_buffer(64 * 1024)
      .greet(greeting, ehlo_enhanced)
      .expect_group()
      .send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n")
      .expect_octets(256 * 1024)
      .close();
  auto r = start_and_deliver(io, srv, one_message(body));
  CHECK(srv.failures().empty());
  CHECK(r.error);
  CHECK(r.error_state == "data");
  CHECK(r.error_stage == int(stage::sending_body));
  const auto& rr = r.messages.at(0).recipients.at(0);
  CHECK(rr.status == delivery_status::transient);
  CHECK(rr.error == r.error);
  CHECK(rr.code == 0);
}

TEST_CASE(
    "the server closes right after the dot: the message may have been delivered [smtpipe][B26]") {
  for (bool pipelining : {true, false}) {
    CAPTURE(pipelining);
    asio::io_context io;
    script_server srv(io);
    srv.send(greeting).expect("EHLO");
    if (pipelining) {
      srv.send(ehlo_enhanced)
          .expect("MAIL")
          .expect("RCPT")
          .expect("RCPT")
          .expect("DATA")
          .send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
          .expect_data()
          .expect("QUIT")
          .close();
    } else {
      srv.send(ehlo_lockstep)
          .expect("MAIL")
          .send("250 ok\r\n")
          .expect("RCPT")
          .send("250 ok\r\n")
          .expect("RCPT")
          .send("250 ok\r\n")
          .expect("DATA")
          .send("354 go\r\n")
          .expect_data()
          .close();
    }
    auto r = start_and_deliver(
        io, srv,
        {test::make_message("a@example.org", {"b@example.org", "c@example.org"}, "hello\r\n")});
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::connection_closed);
    for (const auto& rr : r.messages.at(0).recipients) {
      CHECK(rr.status == delivery_status::unknown);
      CHECK(rr.state == "data");
    }
  }
}

// ---- B24: a reply while the body is still being sent -----------------------------------------

TEST_CASE(
    "a reply during the body stops the body; 250 is never a success, 452/554 are reported "
    "[smtpipe][B24]") {
  struct variant {
    std::string reply;
    delivery_status status;
    int code;
  };
  const std::vector<variant> variants{
      {"250 2.0.0 queued already\r\n", delivery_status::transient, 0},
      {"452 4.3.1 out of spool space\r\n", delivery_status::transient, 452},
      {"554 5.3.4 message too big\r\n", delivery_status::permanent, 554},
  };
  const std::string body = big_body();
  for (const auto& v : variants) {
    CAPTURE(v.reply);
    asio::io_context io;
    script_server srv(io);
    srv.receive_buffer(64 * 1024)
        .greet(greeting, ehlo_enhanced)
        .expect_group()
        .send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n")
        .expect_octets(128 * 1024)
        .send(v.reply)
        .sleep(200ms)
        .expect_close(2000ms);
    const auto start = std::chrono::steady_clock::now();
    auto r = start_and_deliver(io, srv, one_message(body));
    CHECK(std::chrono::steady_clock::now() - start < 1s);
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::early_reply);
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.status == v.status);
    CHECK(rr.code == v.code);
    CHECK(rr.error == errc::early_reply);
    // Sending stopped: neither the rest of the body nor a final dot nor QUIT.
    CHECK(srv.received().size() < body.size() / 2);
    CHECK_FALSE(test::contains(srv.received(), "\r\n.\r\n"));
    CHECK_FALSE(test::contains(srv.received(), "QUIT"));
  }
}

TEST_CASE(
    "a refusal right behind the 354, before any body byte, is an early reply: reported, no body "
    "[smtpipe][B24]") {
  // smtp-sink -A: the server answers DATA, then aborts the data at once.
  for (const bool pipelining : {true, false}) {
    CAPTURE(pipelining);
    asio::io_context io;
    script_server srv(io);
    srv.send(greeting).expect("EHLO");
    if (pipelining) {
      srv.send(ehlo_enhanced)
          .expect_group()
          .send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n554 5.3.4 message refused\r\n");
    } else {
      srv.send(ehlo_lockstep)
          .expect("MAIL")
          .send("250 ok\r\n")
          .expect("RCPT")
          .send("250 ok\r\n")
          .expect("DATA")
          .send("354 go\r\n554 5.3.4 message refused\r\n");
    }
    srv.expect_close(2000ms);
    auto r = start_and_deliver(io, srv, one_message());
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::early_reply);
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.status == delivery_status::permanent);
    CHECK(rr.code == 554);
    CHECK(rr.text == "message refused");
    CHECK(rr.error == errc::early_reply);
    CHECK(test::sent_after(srv, "DATA\r\n").empty());  // no body, no dot, no QUIT
  }
}

// ---- D46, D47: pipelined groups whose replies say no -----------------------------------------

TEST_CASE(
    "MAIL 451 then 503 to every RCPT and DATA: no body, transient, RSET before the next message "
    "[smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_enhanced)
      .expect("MAIL")
      .expect("RCPT TO:<b@")
      .expect("RCPT TO:<c@")
      .expect("DATA")
      .send(
          "451 4.3.0 try later\r\n503 5.5.1 need MAIL first\r\n503 5.5.1 need MAIL first\r\n"
          "503 5.5.1 need MAIL first\r\n")
      .expect("RSET")
      .expect("MAIL")
      .expect("RCPT TO:<d@")
      .expect("DATA")
      .send("250 2.0.0 reset\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 2.0.0 queued\r\n221 2.0.0 bye\r\n");
  auto r = start_and_deliver(
      io, srv,
      {test::make_message("a@example.org", {"b@example.org", "c@example.org"}, "first\r\n"),
       test::make_message("a@example.org", {"d@example.org"}, "second\r\n")});
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  for (const auto& rr : r.messages.at(0).recipients) {
    CAPTURE(rr.address);
    // The refused MAIL decides: the 503s only say that no transaction existed.
    CHECK(rr.status == delivery_status::transient);
    CHECK(rr.code == 451);
    CHECK(rr.enhanced == enhanced_status{4, 3, 0});
    CHECK(rr.text == "try later");
  }
  CHECK(r.messages.at(1).recipients.at(0).status == delivery_status::delivered);
  CHECK_FALSE(test::contains(srv.received(), "first"));
  const std::vector<std::string> expected{
      ehlo_line, mail_line + "RCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
      "RSET\r\n" + mail_line + "RCPT TO:<d@example.org>\r\nDATA\r\n", "second\r\n.\r\nQUIT\r\n"};
  CHECK(test::chunks(srv) == expected);
}

TEST_CASE(
    "a refused RSET leaves the server's state unknown: nothing more is sent, not even QUIT "
    "[smtpipe]") {
  // RSET must be answered 250 (RFC 5321 §4.1.1.5). After a 502 the MAIL, RCPT and DATA
  // pipelined behind it were taken in some unknown state, here up to a 354: a QUIT now
  // would become message data.
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_enhanced)
      .expect("MAIL")
      .expect("RCPT TO:<b@")
      .expect("DATA")
      .send("550 5.7.1 sender refused\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n")
      .expect("RSET")
      .expect("MAIL")
      .expect("RCPT TO:<c@")
      .expect("DATA")
      .send("502 5.5.1 RSET not implemented\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_close(2000ms);
  auto r =
      start_and_deliver(io, srv,
                        {test::make_message("a@example.org", {"b@example.org"}, "first\r\n"),
                         test::make_message("a@example.org", {"c@example.org"}, "second\r\n")});
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::unexpected_reply);
  CHECK(test::sent_after(srv, "RCPT TO:<c@example.org>\r\nDATA\r\n").empty());
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::permanent);
  CHECK(r.messages.at(0).recipients.at(0).code == 550);
  CHECK(r.messages.at(1).recipients.at(0).status == delivery_status::transient);
}

TEST_CASE("every RCPT refused but DATA answered 354: only a lone dot, never the body [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_enhanced)
      .expect("MAIL")
      .expect("RCPT TO:<b@")
      .expect("RCPT TO:<c@")
      .expect("DATA")
      .send("250 2.1.0 ok\r\n550 5.1.1 no b\r\n550 5.1.1 no c\r\n354 go\r\n")
      .expect_data()
      .send("554 5.5.1 no valid recipients\r\n")
      .expect("RSET")
      .expect("MAIL")
      .expect("RCPT TO:<d@")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 2.0.0 queued\r\n221 bye\r\n");
  auto r = start_and_deliver(
      io, srv,
      {test::make_message("a@example.org", {"b@example.org", "c@example.org"}, "secret body\r\n"),
       test::make_message("a@example.org", {"d@example.org"}, "second\r\n")});
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  REQUIRE(srv.bodies().size() == 2);
  CHECK(srv.bodies()[0] == ".\r\n");
  CHECK_FALSE(test::contains(srv.received(), "secret"));
  for (const auto& rr : r.messages.at(0).recipients) {
    CHECK(rr.status == delivery_status::permanent);
    CHECK(rr.code == 550);
    CHECK(rr.state == "rcpt");
  }
  CHECK(r.messages.at(1).recipients.at(0).status == delivery_status::delivered);
}

TEST_CASE("every RCPT refused in lock-step: no DATA at all [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_lockstep)
      .expect("MAIL")
      .send("250 ok\r\n")
      .expect("RCPT TO:<b@")
      .send("550 5.1.1 no b\r\n")
      .expect("RCPT TO:<c@")
      .send("550 5.1.1 no c\r\n")
      .quit();
  auto r = start_and_deliver(
      io, srv,
      {test::make_message("a@example.org", {"b@example.org", "c@example.org"}, "body\r\n")});
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK_FALSE(test::contains(srv.received(), "DATA"));
  CHECK(r.messages.at(0).count(delivery_status::permanent) == 2);
}

// ---- D48: no PIPELINING, no sending ahead ------------------------------------------------------

TEST_CASE("without PIPELINING every write holds one command and waits for its reply [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  const auto quiet = 20ms;
  srv.send(greeting)
      .expect("EHLO")
      .expect_silence(quiet)
      .send(ehlo_lockstep)
      // message 0: one recipient refused
      .expect("MAIL")
      .expect_silence(quiet)
      .send("250 ok\r\n")
      .expect("RCPT TO:<b@")
      .expect_silence(quiet)
      .send("250 ok\r\n")
      .expect("RCPT TO:<c@")
      .expect_silence(quiet)
      .send("550 no\r\n")
      .expect("DATA")
      .expect_silence(quiet)
      .send("354 go\r\n")
      .expect_data()
      .expect_silence(quiet)
      .send("250 queued 0\r\n")
      // message 1: MAIL refused, reset before the next one
      .expect("MAIL")
      .expect_silence(quiet)
      .send("550 5.7.1 sender refused\r\n")
      .expect("RSET")
      .expect_silence(quiet)
      .send("250 reset\r\n")
      // message 2
      .expect("MAIL")
      .expect_silence(quiet)
      .send("250 ok\r\n")
      .expect("RCPT TO:<e@")
      .expect_silence(quiet)
      .send("250 ok\r\n")
      .expect("DATA")
      .expect_silence(quiet)
      .send("354 go\r\n")
      .expect_data()
      .expect_silence(quiet)
      .send("250 queued 2\r\n")
      .quit();
  auto r = start_and_deliver(
      io, srv,
      {test::make_message("a@example.org", {"b@example.org", "c@example.org"}, "m0\r\n"),
       test::make_message("a@example.org", {"d@example.org"}, "m1\r\n"),
       test::make_message("a@example.org", {"e@example.org"}, "m2\r\n")});
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK_FALSE(r.pipelining);
  const std::vector<std::string> expected{ehlo_line,
                                          mail_line,
                                          "RCPT TO:<b@example.org>\r\n",
                                          "RCPT TO:<c@example.org>\r\n",
                                          "DATA\r\n",
                                          "m0\r\n.\r\n",
                                          mail_line,
                                          "RSET\r\n",
                                          mail_line,
                                          "RCPT TO:<e@example.org>\r\n",
                                          "DATA\r\n",
                                          "m2\r\n.\r\n",
                                          "QUIT\r\n"};
  CHECK(test::chunks(srv) == expected);
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
  CHECK(r.messages.at(0).recipients.at(1).status == delivery_status::permanent);
  CHECK(r.messages.at(1).recipients.at(0).status == delivery_status::permanent);
  CHECK(r.messages.at(1).recipients.at(0).code == 550);
  CHECK(r.messages.at(2).recipients.at(0).text == "queued 2");
}

// ---- D52: QUIT edge cases ---------------------------------------------------------------------

TEST_CASE("whatever happens to QUIT after a 250 for the dot, the message is delivered [smtpipe]") {
  struct variant {
    const char* name;
    bool pipelining;
    void (*after_dot)(script_server&);  // from the reply to "." on
  };
  const std::vector<variant> variants{
      {"close before replying to QUIT", true,
       [](script_server& s) { s.send("250 2.0.0 queued\r\n").close(); }},
      {"close after 221", true,
       [](script_server& s) { s.send("250 2.0.0 queued\r\n221 2.0.0 bye\r\n").close(); }},
      {"221 and linger", true,
       [](script_server& s) {
         s.send("250 2.0.0 queued\r\n221 2.0.0 bye\r\n").expect_close(2000ms);
       }},
      {"no reply to QUIT at all", true,
       [](script_server& s) { s.send("250 2.0.0 queued\r\n").expect_close(2000ms); }},
      {"QUIT refused with 500", true,
       [](script_server& s) {
         s.send("250 2.0.0 queued\r\n500 5.5.1 what\r\n").expect_close(2000ms);
       }},
      {"QUIT answered with 421", true,
       [](script_server& s) { s.send("250 2.0.0 queued\r\n421 4.3.2 bye\r\n").close(); }},
      {"lock-step: close before replying to QUIT", false,
       [](script_server& s) { s.send("250 2.0.0 queued\r\n").expect("QUIT").close(); }},
      {"lock-step: 221 then close", false,
       [](script_server& s) { s.send("250 2.0.0 queued\r\n").quit().close(); }},
  };
  for (const auto& v : variants) {
    const std::string name = v.name;
    CAPTURE(name);
    asio::io_context io;
    script_server srv(io);
    srv.send(greeting).expect("EHLO");
    if (v.pipelining) {
      srv.send(ehlo_enhanced)
          .expect_group()
          .send("250 ok\r\n250 ok\r\n354 go\r\n")
          .expect_data()
          .expect("QUIT");
    } else {
      srv.send(ehlo_lockstep)
          .expect("MAIL")
          .send("250 ok\r\n")
          .expect("RCPT")
          .send("250 ok\r\n")
          .expect("DATA")
          .send("354 go\r\n")
          .expect_data();
    }
    v.after_dot(srv);
    const auto start = std::chrono::steady_clock::now();
    auto r = start_and_deliver(io, srv, one_message());
    CHECK(std::chrono::steady_clock::now() - start < 1s);
    CHECK(srv.failures().empty());
    CHECK_FALSE(r.error);
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.status == delivery_status::delivered);
    CHECK(rr.text == "queued");
    CHECK(test::count_of(srv.received(), "QUIT") == 1);
  }
}

TEST_CASE(
    "a refused greeting or EHLO is followed by QUIT and nothing else (RFC 5321 §3.1, §4.1.1.10) "
    "[smtpipe]") {
  for (const std::string& first :
       {std::string("554 5.7.1 no service\r\n"), std::string("450 4.3.2 busy\r\n")}) {
    CAPTURE(first);
    asio::io_context io;
    script_server srv(io);
    srv.send(first).quit().expect_close(2000ms);
    auto r = start_and_deliver(io, srv, one_message());
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::greeting_refused);
    CHECK(srv.received() == "QUIT\r\n");
  }
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, "550 5.7.1 go away\r\n").quit().expect_close(2000ms);
  auto r = start_and_deliver(io, srv, one_message());
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::unexpected_reply);
  CHECK(srv.received() == ehlo_line + "QUIT\r\n");
}

// ---- EHLO refusals: which ones fall back to HELO (RFC 5321 §4.1.1.1, §3.2) ---------------------

TEST_CASE("EHLO 500 or 502 falls back to HELO and delivers in lock-step [smtpipe]") {
  for (const std::string& refusal :
       {std::string("500 5.5.1 unrecognized\r\n"), std::string("502 5.5.1 not implemented\r\n")}) {
    CAPTURE(refusal);
    asio::io_context io;
    script_server srv(io);
    srv.send(greeting)
        .expect("EHLO localhost")
        .send(refusal)
        .expect("HELO localhost")
        .send("250 mx\r\n")
        .expect("MAIL FROM:<a@example.org>")
        .send("250 ok\r\n")
        .expect("RCPT")
        .send("250 ok\r\n")
        .expect("DATA")
        .send("354 go\r\n")
        .expect_data()
        .send("250 queued\r\n")
        .quit();
    auto r = start_and_deliver(io, srv, one_message());
    CHECK(srv.failures().empty());
    CHECK_FALSE(r.error);
    CHECK_FALSE(r.esmtp);
    CHECK_FALSE(r.pipelining);
    CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
    // A HELO session gets no ESMTP parameters (no SIZE=, no BODY=).
    CHECK(test::contains(srv.received(), "\r\nMAIL FROM:<a@example.org>\r\n"));
  }
}

TEST_CASE("EHLO 421, 451, 550, 554 never fall back to HELO [smtpipe]") {
  struct variant {
    std::string reply;
    std::error_code error;
    delivery_status status;
    int code;
    bool quit;  // no QUIT to a server that said 421 (closing)
  };
  const std::vector<variant> variants{
      {"421 4.3.2 closing\r\n", errc::service_not_available, delivery_status::transient, 421,
       false},
      {"451 4.3.0 later\r\n", errc::unexpected_reply, delivery_status::transient, 451, true},
      {"550 5.7.1 go away\r\n", errc::unexpected_reply, delivery_status::permanent, 550, true},
      {"554 5.7.1 go away\r\n", errc::unexpected_reply, delivery_status::permanent, 554, true},
  };
  for (const auto& v : variants) {
    CAPTURE(v.reply);
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, v.reply);
    if (v.quit) srv.quit();
    srv.expect_close(2000ms);
    auto r = start_and_deliver(io, srv, one_message());
    CHECK(srv.failures().empty());
    CHECK(r.error == v.error);
    CHECK(r.error_stage == int(stage::during_ehlo));
    CHECK(srv.received() == ehlo_line + (v.quit ? "QUIT\r\n" : ""));  // no HELO, no MAIL
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.status == v.status);
    CHECK(rr.code == v.code);
  }
}

// ---- transactions and connections: recipient batches and max_messages --------------------------

TEST_CASE(
    "max 2 recipients per transaction: 5 recipients take 3 transactions, the body sent 3 times "
    "[smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_enhanced)
      .expect("MAIL")
      .expect("RCPT TO:<r0@")
      .expect("RCPT TO:<r1@")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("MAIL")
      .expect("RCPT TO:<r2@")
      .expect("RCPT TO:<r3@")
      .expect("DATA")
      .send("250 queued 0\r\n250 ok\r\n250 ok\r\n550 no r3\r\n354 go\r\n")
      .expect_data()
      .expect("MAIL")
      .expect("RCPT TO:<r4@")
      .expect("DATA")
      .send("250 queued 1\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued 2\r\n221 bye\r\n");
  auto options = test::fast_options(0.01);
  options.max_recipients_per_transaction = 2;
  std::vector<std::string> to;
  for (int i = 0; i < 5; ++i) to.push_back("r" + std::to_string(i) + "@example.org");
  auto r =
      start_and_deliver(io, srv, {test::make_message("a@example.org", to, "body\r\n")}, options);
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(r.transactions == 3);
  CHECK(r.messages.at(0).transactions == 3);
  CHECK(srv.bodies() == std::vector<std::string>(3, "body\r\n.\r\n"));
  const auto& rs = r.messages.at(0).recipients;
  const std::vector<std::string> texts{"queued 0", "queued 0", "queued 1", "no r3", "queued 2"};
  for (std::size_t i = 0; i < rs.size(); ++i) {
    CAPTURE(i);
    CHECK(rs[i].text == texts[i]);
    CHECK(rs[i].status == (i == 3 ? delivery_status::permanent : delivery_status::delivered));
  }
}

TEST_CASE("max_messages bounds the messages started on one connection [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_enhanced)
      .expect("MAIL")
      .expect("RCPT TO:<r0@")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("MAIL")
      .expect("RCPT TO:<r1@")
      .expect("DATA")
      .send("250 queued 0\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued 1\r\n221 bye\r\n");
  auto options = test::fast_options(0.01);
  options.max_messages = 2;
  std::vector<message> msgs;
  for (int i = 0; i < 3; ++i)
    msgs.push_back(test::make_message("a@example.org", {"r" + std::to_string(i) + "@example.org"},
                                      "body\r\n"));
  auto r = start_and_deliver(io, srv, msgs, options);
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(test::count_of(srv.received(), "MAIL FROM") == 2);
  CHECK_FALSE(test::contains(srv.received(), "r2@"));
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
  CHECK(r.messages.at(1).recipients.at(0).status == delivery_status::delivered);
  const auto& left = r.messages.at(2).recipients.at(0);
  CHECK(left.status == delivery_status::transient);
  CHECK(left.error == errc::not_attempted);
  CHECK(r.messages.at(2).transactions == 0);
}
