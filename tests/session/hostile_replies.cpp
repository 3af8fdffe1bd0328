// Replies a careless or hostile server may send (security.md §6 D 35-42, 44, 45, 51; B 27):
// fragmented, coalesced, premature, unsolicited, overlong, endless, malformed, mismatched.
// RFC 5321 §4.2: a reply is `code [SP text] CRLF`, every line of a multi-line reply carries
// the same code, and a reply answers the oldest command still waiting (RFC 2920 §3.1).
#include "support/conversation.hpp"
#include "support/run.hpp"
#include "support/script_server.hpp"
#include "support/wire.hpp"

#include <doctest/doctest.h>

using namespace smtpipe;
using namespace smtpipe::test;
using namespace std::chrono_literals;

namespace {

std::vector<message> one_message(std::vector<std::string> to = {"b@example.org"}) {
  return {test::make_message("a@example.org", std::move(to), "hello\r\n")};
}

bool any_delivered(const session_result& r) { return r.count(delivery_status::delivered) != 0; }

/// The end of a pipelined conversation up to the reply to ".", for one message.
script_server& up_to_dot(script_server& srv) {
  return srv.greet(greeting, ehlo_enhanced)
      .expect_group()
      .send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT");
}

}  // namespace

// ---- D35: fragmentation -------------------------------------------------------------------

namespace {
// One conversation (two recipients, a multi-line refusal, the dot pipelined with QUIT) with
// every server write cut into `segment`-octet pieces `gap` apart.
session_result fragmented(std::size_t segment, script_server::duration gap, std::string& wire) {
  asio::io_context io;
  script_server srv(io);
  srv.send(greeting, segment, gap)
      .expect("EHLO localhost")
      .send(ehlo_enhanced, segment, gap)
      .expect("MAIL FROM:<a@example.org>")
      .expect("RCPT TO:<b@example.org>")
      .expect("RCPT TO:<c@example.org>")
      .expect("DATA")
      .send(
          "250 2.1.0 sender ok\r\n250 2.1.5 b ok\r\n550-5.1.1 c unknown\r\n550 5.1.1 really\r\n"
          "354 go ahead\r\n",
          segment, gap)
      .expect_data()
      .expect("QUIT")
      .send("250 2.0.0 queued as F00\r\n221 2.0.0 bye\r\n", segment, gap);
  auto r = start_and_deliver(io, srv, one_message({"b@example.org", "c@example.org"}));
  CHECK(srv.failures().empty());
  wire = srv.received();
  return r;
}
}  // namespace

TEST_CASE("replies split into 1-octet writes, also inside CRLF, give the same results [smtpipe]") {
  std::string whole_wire, bytes_wire, pairs_wire;
  const auto whole = fragmented(0, 0ms, whole_wire);
  const auto bytes = fragmented(1, 1ms, bytes_wire);  // every CRLF split between CR and LF
  const auto pairs = fragmented(2, 1ms, pairs_wire);  // cuts fall on both sides of CRs
  // Absolute expectations for the unsplit run, so that "the same" means "right".
  CHECK_FALSE(whole.error);
  CHECK(whole.pipelining);
  const auto& rs = whole.messages.at(0).recipients;
  CHECK(rs.at(0).status == delivery_status::delivered);
  CHECK(rs.at(0).text == "queued as F00");
  CHECK(rs.at(1).status == delivery_status::permanent);
  CHECK(rs.at(1).code == 550);
  CHECK(rs.at(1).enhanced == enhanced_status{5, 1, 1});
  CHECK(rs.at(1).text == "c unknown really");
  CHECK(test::describe(bytes) == test::describe(whole));
  CHECK(test::describe(pairs) == test::describe(whole));
  CHECK(bytes_wire == whole_wire);
  CHECK(pairs_wire == whole_wire);
}

TEST_CASE(
    "a greeting split in the middle of its text and of its CRLF is one greeting "
    "[smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx.exa")
      .sleep(20ms)
      .send("mple.org ESMTP\r")
      .sleep(20ms)
      .send("\n")
      .expect("EHLO")
      .send(ehlo_lockstep)
      .lockstep_message("250 done\r\n")
      .quit();
  auto r = start_and_deliver(io, srv, one_message());
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(r.greeting == "mx.example.org ESMTP");
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
  CHECK(test::count_of(srv.received(), "EHLO") == 1);
}

// ---- D36: coalescing ----------------------------------------------------------------------

TEST_CASE("coalesced replies pair with their commands in order, across messages [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_enhanced)
      .expect("MAIL")
      .expect("RCPT TO:<b@")
      .expect("RCPT TO:<c@")
      .expect("DATA")
      .send("250 2.1.0 ok\r\n250-2.1.5 b is\r\n250 2.1.5 fine\r\n451 4.2.0 c later\r\n354 go\r\n")
      .expect_data()
      .expect("MAIL")
      .expect("RCPT TO:<d@")
      .expect("DATA")
      // The reply to the first "." and the whole second group in one segment.
      .send("250 2.0.0 first queued\r\n250 2.1.0 ok\r\n250 2.1.5 d ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 2.0.0 second queued\r\n221 2.0.0 bye\r\n");
  std::vector<message> msgs{
      test::make_message("a@example.org", {"b@example.org", "c@example.org"}, "one\r\n"),
      test::make_message("a@example.org", {"d@example.org"}, "two\r\n")};
  auto r = test::start_and_deliver(io, srv, msgs, test::fast_options(0.01));
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  const auto& m0 = r.messages.at(0).recipients;
  CHECK(m0.at(0).status == delivery_status::delivered);
  CHECK(m0.at(0).text == "first queued");
  CHECK(m0.at(1).status == delivery_status::transient);
  CHECK(m0.at(1).code == 451);
  CHECK(m0.at(1).text == "c later");
  CHECK(m0.at(1).state == "rcpt");
  CHECK(r.messages.at(1).recipients.at(0).status == delivery_status::delivered);
  CHECK(r.messages.at(1).recipients.at(0).text == "second queued");
  const std::vector<std::string> expected{
      ehlo_line,
      "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n",
      "one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n",
      "two\r\n.\r\nQUIT\r\n"};
  CHECK(test::chunks(srv) == expected);
}

// ---- D45 and premature replies: a reply before its command was sent -------------------------

TEST_CASE(
    "a reply coalesced with the greeting, before EHLO was sent, is a protocol error "
    "[smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx.example.org ESMTP\r\n250-mx.example.org\r\n250 PIPELINING\r\n")
      .expect_close(2000ms);
  auto r = start_and_deliver(io, srv, one_message());
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::unsolicited_reply);
  CHECK(srv.received().empty());  // not even EHLO: the conversation is out of step
  CHECK_FALSE(any_delivered(r));
}

TEST_CASE(
    "a MAIL reply right behind the EHLO reply, before MAIL was sent, is a protocol error "
    "[smtpipe]") {
  for (const std::string& ehlo : {ehlo_enhanced, ehlo_lockstep}) {
    CAPTURE(ehlo);
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo + "250 2.1.0 Ok\r\n").expect_close(2000ms);
    auto r = start_and_deliver(io, srv, one_message());
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::unsolicited_reply);
    CHECK(r.error_state == "ehlo");
    CHECK(srv.received() == ehlo_line);  // no MAIL, no QUIT on a desynchronised connection
    CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::transient);
  }
}

TEST_CASE(
    "a reply begun behind the EHLO reply and ended later is premature: MAIL is never written "
    "[smtpipe]") {
  // "250 2.1" arrives with the EHLO reply, before MAIL is written; ".0 Ok" after. Pairing the
  // completed line with MAIL would take a reply the server wrote before it saw MAIL.
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_lockstep + "250 2.1").sleep(50ms).send(".0 Ok\r\n").expect_close(2000ms);
  auto r = start_and_deliver(io, srv, one_message());
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::unsolicited_reply);
  CHECK(srv.received() == ehlo_line);
  CHECK_FALSE(any_delivered(r));
}

// ---- D44: data while no reply is outstanding ------------------------------------------------

namespace {
// Holds the connection idle for 200 ms after EHLO, as a client between two messages would.
struct idle_pause {
  static constexpr std::string_view name = "idle_pause";
  asio::awaitable<transition> run(session&) {
    asio::steady_timer t(co_await asio::this_coro::executor, 200ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return transition::next();
  }
};
using idle_pipeline = pipeline<insert_after<state_id::ehlo, idle_pause>>;
}  // namespace

TEST_CASE(
    "bytes that arrive while no reply is outstanding are never paired with the next command "
    "[smtpipe]") {
  struct variant {
    std::string bytes;
    std::error_code expected;
  };
  const std::vector<variant> variants{
      {"421 4.4.2 idle timeout\r\n", errc::service_not_available},
      {"250 2.0.0 hello again\r\n", errc::unsolicited_reply},
      {"250-multi\r\n250 line\r\n", errc::unsolicited_reply},
      {"garbage\r\n", errc::malformed_reply_code},
      {"250 2.1.0 Ok", errc::unsolicited_reply},  // not even a whole line
  };
  for (const auto& v : variants) {
    CAPTURE(v.bytes);
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_lockstep).sleep(20ms).send(v.bytes, 3).expect_close(2000ms);
    auto r =
        test::start_and_deliver(io, srv, one_message(), test::fast_options(0.01), idle_pipeline{});
    CHECK(srv.failures().empty());
    CHECK(r.error == v.expected);
    CHECK(srv.received() == ehlo_line);  // no MAIL that the stray reply could answer, no QUIT
    CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::transient);
  }
}

// ---- D37, D38: bounded replies ------------------------------------------------------------

TEST_CASE("a 1 MiB greeting line with no line end fails at the line cap and closes [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 ").flood(std::string(16 * 1024, 'x'), 1024 * 1024);
  const auto start = std::chrono::steady_clock::now();
  auto r = start_and_deliver(io, srv, one_message());
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(r.error == errc::reply_line_too_long);
  CHECK(r.error_stage == int(stage::reading_banner));
  CHECK(srv.received().empty());
  CHECK(srv.finished());  // the flood ended because the client closed
}

TEST_CASE(
    "an overlong 550 after the final dot is an error and the message may have been delivered "
    "[smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  up_to_dot(srv).send("550 5.0.0 " + std::string(10000, 'x') + "\r\n").expect_close(2000ms);
  auto r = start_and_deliver(io, srv, one_message());
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::reply_line_too_long);
  const auto& rr = r.messages.at(0).recipients.at(0);
  CHECK(rr.status == delivery_status::unknown);
  CHECK(rr.code == 0);
}

TEST_CASE("an endless multi-line EHLO reply fails at the reply cap, no MAIL follows [smtpipe]") {
  for (const std::string& unit :
       {std::string("250-x\r\n"), "250-" + std::string(1000, 'y') + "\r\n"}) {
    CAPTURE(unit.size());
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, "250-mx.example.org\r\n").flood(unit, 8 * 1024 * 1024);
    auto r = start_and_deliver(io, srv, one_message());
    CHECK(r.error == errc::reply_too_long);
    CHECK(r.error_stage == int(stage::during_ehlo));
    CHECK(srv.received() == ehlo_line);
    CHECK(srv.finished());
    CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::transient);
  }
}

// ---- D39: malformed codes ---------------------------------------------------------------

namespace {
struct bad_reply {
  std::string bytes;
  std::error_code expected;
};
const std::vector<bad_reply> bad_replies{
    {"22X OK\r\n", errc::malformed_reply_code},
    {"220OK\r\n", errc::malformed_reply_code},
    {"2 0\r\n", errc::malformed_reply_code},
    {"-250\r\n", errc::malformed_reply_code},
    {"\r\n", errc::malformed_reply_code},
    {"666 the number of the beast\r\n", errc::malformed_reply_code},
    {"699 x\r\n", errc::malformed_reply_code},
    {"100 x\r\n", errc::malformed_reply_code},
    {"850 x\r\n", errc::malformed_reply_code},
    {"260 x\r\n", errc::malformed_reply_code},  // second digit beyond 5
    {"250 a\x01"
     "b\r\n",
     errc::control_character_in_reply},
    {"250 a\rb\r\n", errc::control_character_in_reply},
    {"250 a\x1b[2Jb\r\n", errc::control_character_in_reply},
    {std::string("250 a\0b\r\n", 9), errc::control_character_in_reply},
};
}  // namespace

TEST_CASE(
    "malformed greetings are protocol errors: nothing is sent, nothing delivered "
    "[smtpipe]") {
  for (const auto& b : bad_replies) {
    CAPTURE(b.bytes);
    asio::io_context io;
    script_server srv(io);
    srv.send(b.bytes).expect_close(2000ms);
    auto r = start_and_deliver(io, srv, one_message());
    CHECK(srv.failures().empty());
    CHECK(r.error == b.expected);
    CHECK(r.error_stage == int(stage::reading_banner));
    CHECK(srv.received().empty());
    CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::transient);
  }
}

TEST_CASE("a malformed reply to MAIL stops the transaction before the body [smtpipe]") {
  for (const auto& b : bad_replies) {
    CAPTURE(b.bytes);
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_enhanced)
        .expect_group()
        .send(b.bytes + "250 2.1.5 ok\r\n354 go\r\n")
        .expect_close(2000ms);
    auto r = start_and_deliver(io, srv, one_message());
    CHECK(srv.failures().empty());
    CHECK(r.error == b.expected);
    CHECK(srv.received() == ehlo_line + group_one);  // no body, no QUIT
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.status == delivery_status::transient);
    CHECK(rr.error == b.expected);
  }
}

TEST_CASE(
    "a malformed reply to the final dot leaves the message undecided, never delivered "
    "[smtpipe][B27]") {
  std::vector<bad_reply> cases = bad_replies;
  cases.push_back({"400 Interrupted\r", errc::connection_closed});  // then EOF (below)
  for (const auto& b : cases) {
    CAPTURE(b.bytes);
    asio::io_context io;
    script_server srv(io);
    up_to_dot(srv).send(b.bytes).close();
    auto r = start_and_deliver(io, srv, one_message());
    CHECK(srv.failures().empty());
    CHECK(r.error == b.expected);
    CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::unknown);
  }
}

TEST_CASE("bare codes '250' and '250 ' are valid replies [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220\r\n")
      .expect("EHLO")
      .send("250-mx\r\n250 PIPELINING\r\n")
      .expect_group()
      .send("250\r\n250 \r\n354\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250\r\n221\r\n");
  auto r = start_and_deliver(io, srv, one_message());
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  const auto& rr = r.messages.at(0).recipients.at(0);
  CHECK(rr.status == delivery_status::delivered);
  CHECK(rr.code == 250);
  CHECK(rr.text.empty());
}

// ---- D40: codes that change inside a multi-line reply ---------------------------------------

TEST_CASE(
    "a multi-line EHLO reply whose codes differ is a protocol error: no HELO, no MAIL "
    "[smtpipe]") {
  for (const std::string& reply :
       {std::string("250-mx\r\n550 no\r\n"), std::string("200-mx\r\n250 ok\r\n"),
        std::string("550-no\r\n250 PIPELINING\r\n")}) {
    CAPTURE(reply);
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, reply).expect_close(2000ms);
    auto r = start_and_deliver(io, srv, one_message());
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::reply_code_mismatch);
    CHECK(srv.received() == ehlo_line);
    CHECK_FALSE(r.esmtp);
  }
}

TEST_CASE(
    "a '250-' line then a '550' line after the dot decides nothing from the first line "
    "[smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  up_to_dot(srv).send("250-2.0.0 queued\r\n550 5.0.0 not really\r\n").expect_close(2000ms);
  auto r = start_and_deliver(io, srv, one_message());
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::reply_code_mismatch);
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::unknown);
}

// ---- D41: bare LF line ends -------------------------------------------------------------------

TEST_CASE("replies ending in a bare LF are accepted, as documented in reply_parser [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx.example.org\n")
      .expect("EHLO")
      .send("250-mx.example.org\n250 PIPELINING\n")
      .expect("MAIL")
      .expect("RCPT TO:<b@")
      .expect("RCPT TO:<c@")
      .expect("DATA")
      .send("250 ok\n250 ok\r\n550-no\n550 such user\n354 go\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\n221 bye\n");
  auto r = start_and_deliver(io, srv, one_message({"b@example.org", "c@example.org"}));
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(r.pipelining);
  const auto& rs = r.messages.at(0).recipients;
  CHECK(rs.at(0).status == delivery_status::delivered);
  CHECK(rs.at(0).text == "queued");
  CHECK(rs.at(1).status == delivery_status::permanent);
  CHECK(rs.at(1).text == "no such user");
}

// ---- D42: enhanced status codes that contradict the basic code ------------------------------

TEST_CASE("the basic code decides; an enhanced code of another class is sanitised [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_enhanced)
      .expect("MAIL")
      .expect("RCPT TO:<b@")
      .expect("RCPT TO:<c@")
      .expect("DATA")
      .send("250 2.1.0 ok\r\n250 5.1.1 ok anyway\r\n550 2.0.0 refused anyway\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 5.0.0 queued\r\n221 bye\r\n");
  auto r = start_and_deliver(io, srv, one_message({"b@example.org", "c@example.org"}));
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  const auto& rs = r.messages.at(0).recipients;
  CHECK(rs.at(0).status == delivery_status::delivered);
  CHECK(rs.at(0).enhanced == enhanced_status{2, 0, 0});
  CHECK(rs.at(0).text == "queued");
  CHECK(rs.at(1).status == delivery_status::permanent);
  CHECK(rs.at(1).code == 550);
  CHECK(rs.at(1).enhanced == enhanced_status{5, 0, 0});
}

// ---- D53: reply text is sanitised before it reaches results ------------------------------------

TEST_CASE("long or odd reply text is sanitised and cut in results and errors [smtpipe]") {
  const std::string long_text(4000, 'L');  // under the line cap, over the 512 kept
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_enhanced)
      .expect("MAIL")
      .expect("RCPT TO:<b@")
      .expect("RCPT TO:<c@")
      .expect("RCPT TO:<d@")
      .expect("DATA")
      // A C1 control (U+0085) and an ill-formed octet; then 4000 octets of text.
      .send("250 ok\r\n550 5.1.1 odd\xc2\x85\xff text\r\n550 5.1.1 " + long_text +
            "\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("421 4.3.2 " + long_text + "\r\n")
      .close();
  auto r =
      start_and_deliver(io, srv, one_message({"b@example.org", "c@example.org", "d@example.org"}));
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::service_not_available);
  CHECK(r.error_text.size() <= 512 + 3);
  CHECK(r.error_text.ends_with("..."));
  const auto& rs = r.messages.at(0).recipients;
  CHECK(rs.at(0).text == "odd?? text");
  for (std::size_t i : {1, 2}) {
    CAPTURE(i);
    CHECK(rs.at(i).text.size() <= 512 + 3);
    CHECK(rs.at(i).text.starts_with("LLLL"));
    CHECK(rs.at(i).text.ends_with("..."));
  }
  CHECK(rs.at(2).status == delivery_status::transient);
  CHECK(rs.at(2).code == 421);
}

// ---- B27: garbage, then a positive reply, after the dot (Postfix smtp_chat.c) ---------------

TEST_CASE(
    "garbage then 221 after the dot and QUIT is a protocol error, never a delivery "
    "[smtpipe][B27]") {
  asio::io_context io;
  script_server srv(io);
  up_to_dot(srv).send("garbage\r\n221 2.0.0 bye\r\n").expect_close(2000ms);
  auto r = start_and_deliver(io, srv, one_message());
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::malformed_reply_code);
  for (const auto& rr : r.messages.at(0).recipients) {
    CHECK(rr.status == delivery_status::unknown);
    CHECK(rr.code == 0);
  }
}

TEST_CASE(
    "garbage then 250 after the dot in lock-step is a protocol error, never a delivery "
    "[smtpipe][B27]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_lockstep)
      .lockstep_message("garbage\r\n250 2.0.0 queued\r\n")
      .expect_close(2000ms);
  auto r = start_and_deliver(io, srv, one_message());
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::malformed_reply_code);
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::unknown);
  CHECK(test::sent_after(srv, "hello\r\n.\r\n").empty());  // no QUIT on a broken stream
}

// ---- D51: greeting variants ------------------------------------------------------------------

TEST_CASE("greeting codes: 554 permanent, 450 transient, 233 and 666 protocol errors [smtpipe]") {
  struct variant {
    std::string greeting;
    std::error_code error;
    delivery_status status;
    int code;
    bool quit;  // a well-formed reply leaves the conversation in step: QUIT closes it
  };
  const std::vector<variant> variants{
      {"554 5.7.1 no service for you\r\n", errc::greeting_refused, delivery_status::permanent, 554,
       true},
      {"554-no\r\n554 service\r\n", errc::greeting_refused, delivery_status::permanent, 554, true},
      {"450 4.3.2 busy\r\n", errc::greeting_refused, delivery_status::transient, 450, true},
      {"233 hello\r\n", errc::unexpected_reply, delivery_status::transient, 0, true},
      {"250 hello\r\n", errc::unexpected_reply, delivery_status::transient, 0, true},
      {"354 hello\r\n", errc::unexpected_reply, delivery_status::transient, 0, true},
      {"666 hello\r\n", errc::malformed_reply_code, delivery_status::transient, 0, false},
  };
  for (const auto& v : variants) {
    CAPTURE(v.greeting);
    asio::io_context io;
    script_server srv(io);
    srv.send(v.greeting);
    if (v.quit) srv.quit();
    srv.expect_close(2000ms);
    auto r = start_and_deliver(io, srv, one_message());
    CHECK(srv.failures().empty());
    CHECK(r.error == v.error);
    CHECK(r.error_stage == int(stage::reading_banner));
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.status == v.status);
    CHECK(rr.code == v.code);
    CHECK_FALSE(r.esmtp);
    // No EHLO, no MAIL: at most a polite QUIT.
    CHECK(srv.received() == (v.quit ? "QUIT\r\n" : ""));
  }
}

TEST_CASE("a three-line 220 greeting is one greeting [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220-mx.example.org ESMTP\r\n220-no UCE\r\n220 welcome\r\n")
      .expect("EHLO")
      .send(ehlo_enhanced)
      .expect_group()
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 ok\r\n221 bye\r\n");
  auto r = start_and_deliver(io, srv, one_message());
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(r.greeting == "mx.example.org ESMTP no UCE welcome");
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::delivered);
  CHECK(test::count_of(srv.received(), "EHLO") == 1);
}
