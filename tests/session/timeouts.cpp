// Servers that go silent, trickle, or stop reading (security.md §6 B 26, D 49, D 50).
// RFC 5321 §4.5.3.2 gives each wait its own timeout; a whole-session deadline stops a server
// that answers every step just in time (the slowloris of AtSmtpSenderThread.cpp).
// Every test sets only the timeout under test short and the others long: a test that ends
// quickly proves the right timeout fired.
#include "support/run.hpp"
#include "support/script_server.hpp"
#include "support/wire.hpp"

#include <doctest/doctest.h>

using namespace smtpipe;
using namespace std::chrono_literals;
using test::script_server;
using ms = std::chrono::milliseconds;

namespace {

const std::string greeting = "220 mx.example.org ESMTP\r\n";
const std::string ehlo_pipelining = "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
const std::string ehlo_lockstep = "250-mx.example.org\r\n250 8BITMIME\r\n";
const std::string ehlo_line = "EHLO localhost\r\n";
const std::string mail_line = "MAIL FROM:<a@example.org>\r\n";
const std::string rcpt_line = "RCPT TO:<b@example.org>\r\n";

// Every timeout 3 s (the session unlimited), but `which`, which is `short_one`.
session_options only_short(ms timeouts::*which, ms short_one = 150ms) {
  session_options o;
  for (ms timeouts::*d : {&timeouts::connect, &timeouts::greeting, &timeouts::ehlo,
                          &timeouts::starttls, &timeouts::auth, &timeouts::mail, &timeouts::rcpt,
                          &timeouts::data_init, &timeouts::data_block, &timeouts::data_done,
                          &timeouts::rset, &timeouts::quit, &timeouts::command})
    o.timeouts.*d = 3s;
  o.timeouts.session = ms::zero();
  o.timeouts.*which = short_one;
  return o;
}

std::vector<message> one_message(std::string body = "hello\r\n") {
  return {test::make_message("a@example.org", {"b@example.org"}, std::move(body))};
}

struct timed_result {
  session_result result;
  std::chrono::steady_clock::duration elapsed;
};

timed_result run(asio::io_context& io, script_server& srv, const std::vector<message>& msgs,
                 const session_options& options) {
  srv.start();
  const auto start = std::chrono::steady_clock::now();
  auto r = test::deliver_to(io, srv.port(), msgs, options);
  return {std::move(r), std::chrono::steady_clock::now() - start};
}

struct silent_step {
  const char* name;
  ms timeouts::*timeout;
  void (*script)(script_server&);  // the conversation up to the silence
  std::string sent;                // everything the client wrote: nothing after the silence
  stage late;                      // the stage the result must name
  const char* state;               // the state running when it fired
  delivery_status status;
  std::error_code recipient_error = errc::timeout;  // not_attempted before any RCPT
};

void check_silence(const silent_step& step) {
  const std::string name = step.name;
  CAPTURE(name);
  asio::io_context io;
  script_server srv(io);
  step.script(srv);
  srv.expect_close(2000ms);
  auto [r, elapsed] = run(io, srv, one_message(), only_short(step.timeout));
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::timeout);
  CHECK(r.error_stage == int(step.late));
  if (step.state) CHECK(r.error_state == step.state);
  CHECK(elapsed >= 150ms);
  CHECK(elapsed < 1s);                 // not one of the 3 s timeouts
  CHECK(srv.received() == step.sent);  // and no QUIT on a connection that timed out
  const auto& rr = r.messages.at(0).recipients.at(0);
  CHECK(rr.status == step.status);
  CHECK(rr.error == step.recipient_error);
}

}  // namespace

TEST_CASE("RFC 5321 §4.5.3.2 values are the default timeouts [smtpipe]") {
  const timeouts t;
  CHECK(t.greeting == 5min);
  CHECK(t.mail == 5min);
  CHECK(t.rcpt == 5min);
  CHECK(t.data_init == 2min);
  CHECK(t.data_block == 3min);
  CHECK(t.data_done == 10min);
}

TEST_CASE(
    "silence at each lock-step step fires that step's timeout and names its stage "
    "[smtpipe][B26]") {
  const std::vector<silent_step> steps{
      {"greeting", &timeouts::greeting, [](script_server&) {}, "", stage::reading_banner, "banner",
       delivery_status::transient, errc::not_attempted},
      {"EHLO", &timeouts::ehlo, [](script_server& s) { s.send(greeting).expect("EHLO"); },
       ehlo_line, stage::during_ehlo, "ehlo", delivery_status::transient, errc::not_attempted},
      {"MAIL", &timeouts::mail,
       [](script_server& s) { s.greet(greeting, ehlo_lockstep).expect("MAIL"); },
       ehlo_line + mail_line, stage::during_mail_from, "mail", delivery_status::transient,
       errc::not_attempted},
      {"RCPT", &timeouts::rcpt,
       [](script_server& s) {
         s.greet(greeting, ehlo_lockstep).expect("MAIL").send("250 ok\r\n").expect("RCPT");
       },
       ehlo_line + mail_line + rcpt_line, stage::during_rcpt_to, "rcpt",
       delivery_status::transient},
      {"DATA", &timeouts::data_init,
       [](script_server& s) {
         s.greet(greeting, ehlo_lockstep)
             .expect("MAIL")
             .send("250 ok\r\n")
             .expect("RCPT")
             .send("250 ok\r\n")
             .expect("DATA");
       },
       ehlo_line + mail_line + rcpt_line + "DATA\r\n", stage::during_data, "data",
       delivery_status::transient},
      {"dot", &timeouts::data_done,
       [](script_server& s) {
         s.greet(greeting, ehlo_lockstep)
             .expect("MAIL")
             .send("250 ok\r\n")
             .expect("RCPT")
             .send("250 ok\r\n")
             .expect("DATA")
             .send("354 go\r\n")
             .expect_data();
       },
       ehlo_line + mail_line + rcpt_line + "DATA\r\nhello\r\n.\r\n", stage::reading_confirmation,
       "data", delivery_status::unknown},
  };
  for (const auto& step : steps) check_silence(step);
}

TEST_CASE("silence inside a pipelined group names the oldest unanswered command [smtpipe][B26]") {
  const std::string group = mail_line + rcpt_line + "DATA\r\n";
  const std::vector<silent_step> steps{
      {"MAIL", &timeouts::mail,
       [](script_server& s) { s.greet(greeting, ehlo_pipelining).expect_group(); },
       ehlo_line + group, stage::during_mail_from, nullptr, delivery_status::transient},
      {"RCPT", &timeouts::rcpt,
       [](script_server& s) {
         s.greet(greeting, ehlo_pipelining).expect_group().send("250 ok\r\n");
       },
       ehlo_line + group, stage::during_rcpt_to, nullptr, delivery_status::transient},
      {"DATA", &timeouts::data_init,
       [](script_server& s) {
         s.greet(greeting, ehlo_pipelining).expect_group().send("250 ok\r\n250 ok\r\n");
       },
       ehlo_line + group, stage::during_data, nullptr, delivery_status::transient},
      {"dot", &timeouts::data_done,
       [](script_server& s) {
         s.greet(greeting, ehlo_pipelining)
             .expect_group()
             .send("250 ok\r\n250 ok\r\n354 go\r\n")
             .expect_data()
             .expect("QUIT");
       },
       ehlo_line + group + "hello\r\n.\r\nQUIT\r\n", stage::reading_confirmation, nullptr,
       delivery_status::unknown},
  };
  for (const auto& step : steps) check_silence(step);
}

TEST_CASE("a reply's deadline is not pushed back by each byte that trickles in [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 " + std::string(60, 'x') + "\r\n", 1, 10ms);  // about 650 ms in all
  auto [r, elapsed] = run(io, srv, one_message(), only_short(&timeouts::greeting, 200ms));
  CHECK(r.error == errc::timeout);
  CHECK(r.error_stage == int(stage::reading_banner));
  CHECK(elapsed < 1s);
  CHECK(srv.received().empty());
  for (const auto& f : srv.failures()) CHECK(f.rfind("send failed", 0) == 0);
}

TEST_CASE("a server answering every step just in time is ended by the session deadline [smtpipe]") {
  // Each reply takes about 160 ms (8 octets, one every 20 ms): under the 300 ms per-reply
  // timeouts, but the session may last 450 ms only.
  session_options options = only_short(&timeouts::greeting, 300ms);
  options.timeouts.ehlo = options.timeouts.mail = options.timeouts.rcpt =
      options.timeouts.data_init = 300ms;
  options.timeouts.session = 450ms;
  asio::io_context io;
  script_server srv(io);
  const auto gap = 20ms;
  srv.send("220 mx\r\n", 1, gap)
      .expect("EHLO")
      .send("250 mx\r\n", 1, gap)
      .expect("MAIL")
      .send("250 ok\r\n", 1, gap)
      .expect("RCPT")
      .send("250 ok\r\n", 1, gap)
      .expect("DATA")
      .send("354 go\r\n", 1, gap)
      .expect_data()
      .send("250 ok\r\n", 1, gap);
  auto [r, elapsed] = run(io, srv, one_message(), options);
  CHECK(r.error == errc::session_deadline);
  CHECK(elapsed >= 450ms);
  CHECK(elapsed < 1s);
  CHECK_FALSE(test::contains(srv.received(), "DATA"));
  CHECK(r.messages.at(0).recipients.at(0).status == delivery_status::transient);
  // The script itself is cut short wherever the deadline falls (mid-send or mid-expect).
}

TEST_CASE("a server that stops reading during the body fires the data-block timeout [smtpipe]") {
  const std::string line = std::string(78, 'y') + "\r\n";
  std::string body;
  while (body.size() < 8 * 1024 * 1024) body += line;
  asio::io_context io;
  script_server srv(io);
  srv.receive_buffer(64 * 1024)
      .greet(greeting, ehlo_pipelining)
      .expect_group()
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .sleep(400ms)  // reads nothing while the client writes
      .expect_close(2000ms);
  auto [r, elapsed] = run(io, srv, one_message(body), only_short(&timeouts::data_block));
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::timeout);
  CHECK(r.error_stage == int(stage::sending_body));
  CHECK(r.error_state == "data");
  CHECK(elapsed < 1s);
  const auto& rr = r.messages.at(0).recipients.at(0);
  CHECK(rr.status == delivery_status::transient);  // the dot was never sent
  CHECK(srv.received().size() < body.size() / 2);
  CHECK_FALSE(test::contains(srv.received(), "\r\n.\r\n"));
}
