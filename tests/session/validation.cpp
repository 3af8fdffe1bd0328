// Input refused before any byte of it is written (security.md §6 B 20, C 28-31).
// RFC 5321 §4.1.2 (no control character even in a quoted local part), §4.5.3.1 (64/255/256
// octet limits), §2.3.8 (CR and LF only as CRLF); RFC 6531 (non-ASCII needs SMTPUTF8).
// Every refused address or body carries the word "evil", so one search of the capture shows
// that none of it reached the server.
#include "support/conversation.hpp"
#include "support/run.hpp"
#include "support/script_server.hpp"
#include "support/wire.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace smtpipe;
using namespace std::chrono_literals;
using test::ehlo_pipelining;
using test::greeting;
using test::script_server;

namespace {

struct bad_message {
  const char* what;
  message msg;
  std::error_code error;
};

message with_recipients(std::vector<std::string> to, std::string sender = "a@example.org") {
  return test::make_message(std::move(sender), std::move(to), "body\r\n");
}

std::vector<bad_message> bad_messages() {
  const std::string long_local(65, 'e');
  const std::string domain_190 =
      std::string(63, 'p') + "." + std::string(63, 'q') + "." + std::string(62, 'r');
  std::string domain_256;
  while (domain_256.size() < 256) domain_256 += "evil.";
  domain_256.resize(256);
  std::vector<bad_message> v{
      {"CRLF in the sender", with_recipients({"b@example.org"}, "evil\r\nRCPT TO:<x@example.org>"),
       errc::control_character_in_argument},
      {"CR in a recipient", with_recipients({"evil\r@example.org"}),
       errc::control_character_in_argument},
      {"LF in a recipient", with_recipients({"evil\n@example.org"}),
       errc::control_character_in_argument},
      {"NUL in a recipient", with_recipients({std::string("evil\0@example.org", 17)}),
       errc::control_character_in_argument},
      {"TAB in a recipient", with_recipients({"evil\t@example.org"}),
       errc::control_character_in_argument},
      {"DEL in a recipient", with_recipients({"evil\x7f@example.org"}),
       errc::control_character_in_argument},
      {"'>' in a recipient", with_recipients({"evil>@example.org"}), errc::invalid_address},
      {"'<' in a recipient", with_recipients({"<evil@example.org"}), errc::invalid_address},
      {"unquoted space", with_recipients({"evil x@example.org"}), errc::invalid_address},
      {"quoted CRLF (MimeKit)", with_recipients({"\"evil\r\nRSET\"@example.org"}),
       errc::control_character_in_argument},
      {"local part of 65 octets", with_recipients({"evil" + long_local + "@example.org"}),
       errc::local_part_too_long},
      {"domain of 256 octets", with_recipients({"x@" + domain_256}), errc::domain_too_long},
      {"path of 257 octets", with_recipients({"evil" + std::string(60, 'e') + "@" + domain_190}),
       errc::path_too_long},
      {"one bad recipient among good ones",
       with_recipients({"good@example.org", "evil\r\nDATA@example.org", "fine@example.org"}),
       errc::control_character_in_argument},
      {"no recipient at all", with_recipients({}), errc::invalid_argument},
  };
  message long_line = with_recipients({"b@example.org"});
  long_line.params.extra.push_back({"XPARAM", "evil" + std::string(1100, 'v')});
  v.push_back({"MAIL line over 512 (+500 for parameters) octets", std::move(long_line),
               errc::command_line_too_long});
  message nul_body = with_recipients({"evil-body@example.org"});
  nul_body.body = body_source::copy(std::string("evil body\0with NUL\r\n", 20));
  v.push_back({"NUL in the body", std::move(nul_body), errc::nul_in_body});
  return v;
}

// Runs a session where the client must not connect; the server stops waiting when it is over.
session_result deliver_unconnected(asio::io_context& io, script_server& srv,
                                   const std::vector<message>& msgs, session_options options) {
  session_result result;
  bool done = false;
  srv.start();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result =
            co_await deliver("127.0.0.1", srv.port_string(), default_pipeline{}, msgs, options);
        done = true;
        srv.stop_accepting();
      },
      asio::detached);
  io.run_for(5s);
  REQUIRE(done);
  return result;
}

}  // namespace

TEST_CASE(
    "each invalid message is refused before any byte; the valid ones in the call still go "
    "[smtpipe][C28][C29][B20]") {
  for (auto& bad : bad_messages()) {
    CAPTURE(bad.what);
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_pipelining)
        .expect("MAIL FROM:<a@example.org>")
        .expect("RCPT TO:<ok1@")
        .expect("DATA")
        .send("250 ok\r\n250 ok\r\n354 go\r\n")
        .expect_data()
        .expect("MAIL FROM:<a@example.org>")
        .expect("RCPT TO:<ok2@")
        .expect("DATA")
        .send("250 queued 1\r\n250 ok\r\n250 ok\r\n354 go\r\n")
        .expect_data()
        .expect("QUIT")
        .send("250 queued 2\r\n221 bye\r\n");
    const std::vector<message> msgs{with_recipients({"ok1@example.org"}), bad.msg,
                                    with_recipients({"ok2@example.org"})};
    auto r = test::start_and_deliver(io, srv, msgs, test::fast_options(0.01));
    CHECK(srv.failures().empty());
    CHECK_FALSE(r.error);
    CHECK_FALSE(test::contains(srv.received(), "evil"));
    CHECK(test::count_of(srv.received(), "MAIL FROM") == 2);
    CHECK(r.messages.at(0).all_delivered());
    CHECK(r.messages.at(2).all_delivered());
    const auto& refused = r.messages.at(1);
    CHECK(refused.error == bad.error);
    CHECK(refused.transactions == 0);
    for (const auto& rr : refused.recipients) {
      CHECK(rr.status == delivery_status::permanent);
      CHECK(rr.error == bad.error);
      CHECK(rr.code == 0);
    }
  }
}

TEST_CASE("when no message is valid, no connection is made at all [smtpipe][C28]") {
  std::vector<message> msgs;
  for (auto& bad : bad_messages()) msgs.push_back(bad.msg);
  asio::io_context io;
  script_server srv(io);
  auto r = deliver_unconnected(io, srv, msgs, test::fast_options(0.01));
  CHECK_FALSE(srv.connected());
  CHECK(r.error == errc::control_character_in_argument);  // the first message's error
  for (const auto& m : r.messages) {
    CHECK(m.error);
    for (const auto& rr : m.recipients) CHECK(rr.status == delivery_status::permanent);
  }
}

TEST_CASE("a bad EHLO name is a configuration error: no connection [smtpipe][C31]") {
  const std::vector<std::string> names{
      "x\r\nMAIL FROM:<a@b>", "", "host name", "a..b", "ex\x01ample.org", "-dash.example.org"};
  for (const auto& name : names) {
    CAPTURE(name);
    asio::io_context io;
    script_server srv(io);
    auto options = test::fast_options(0.01);
    options.helo_name = name;
    auto r = deliver_unconnected(io, srv, {with_recipients({"b@example.org"})}, options);
    CHECK_FALSE(srv.connected());
    CHECK(r.error);
    CHECK(r.error.category() == error_category());
    CHECK_FALSE(r.all_delivered());
  }
}

TEST_CASE("a message that needs SMTPUTF8 fails alone when the server lacks it [smtpipe][C30]") {
  // "dö" in UTF-8, and U+2028 LINE SEPARATOR: both non-ASCII, checked as encoded octets.
  for (const std::string& address :
       {std::string("d\xc3\xb6@example.org"), std::string("evil\xe2\x80\xa8@example.org")}) {
    CAPTURE(address);
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_pipelining)
        .expect("MAIL FROM:<a@example.org>")
        .expect("RCPT TO:<ok@")
        .expect("DATA")
        .send("250 ok\r\n250 ok\r\n354 go\r\n")
        .expect_data()
        .expect("QUIT")
        .send("250 queued\r\n221 bye\r\n");
    auto r = test::start_and_deliver(
        io, srv, {with_recipients({address}), with_recipients({"ok@example.org"})},
        test::fast_options(0.01));
    CHECK(srv.failures().empty());
    CHECK_FALSE(r.error);
    CHECK(test::count_of(srv.received(), "MAIL FROM") == 1);
    CHECK_FALSE(test::contains(srv.received(), "RSET"));  // no transaction was opened for it
    CHECK_FALSE(test::contains(srv.received(), "\xc3"));
    CHECK_FALSE(test::contains(srv.received(), "\xe2"));
    const auto& rr = r.messages.at(0).recipients.at(0);
    CHECK(rr.status == delivery_status::permanent);
    CHECK(rr.error == errc::extension_not_supported);
    CHECK(r.messages.at(1).all_delivered());
  }
}

TEST_CASE(
    "with SMTPUTF8 advertised, a UTF-8 address is sent with the SMTPUTF8 parameter "
    "[smtpipe][C30]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, "250-mx.example.org\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
      .expect("MAIL FROM:<a@example.org> SMTPUTF8")
      .expect("RCPT TO:<d\xc3\xb6@example.org>")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
  auto r = test::start_and_deliver(io, srv, {with_recipients({"d\xc3\xb6@example.org"})},
                                   test::fast_options(0.01));
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(r.all_delivered());
}

TEST_CASE(
    "a body file that gains a NUL after validation stops mid-body: no dot, no QUIT "
    "[smtpipe][B20]") {
  const auto path =
      std::filesystem::temp_directory_path() /
      ("smtpipe-validation-" +
       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".eml");
  const std::string line = std::string(70, 'z') + "\r\n";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 4000; ++i) out << line;  // 288,000 octets
  }
  message msg = with_recipients({"b@example.org"});
  msg.body = body_source::file(path.string());
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_pipelining)
      .expect_group()
      .call([&] {  // validated already; now the file changes under the client
        std::FILE* f = std::fopen(path.c_str(), "r+b");
        REQUIRE(f);
        std::fseek(f, 150000, SEEK_SET);
        std::fputc('\0', f);
        std::fclose(f);
      })
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_octets(100000)
      .expect_close(2000ms);
  auto r = test::start_and_deliver(io, srv, {msg}, test::fast_options(0.01));
  std::filesystem::remove(path);
  CHECK(srv.failures().empty());
  CHECK(r.error == errc::nul_in_body);
  const auto& rr = r.messages.at(0).recipients.at(0);
  CHECK(rr.status == delivery_status::permanent);
  CHECK(rr.error == errc::nul_in_body);
  CHECK(srv.received().size() < 150000 + 1000);
  CHECK_FALSE(test::contains(srv.received(), "\r\n.\r\n"));
  CHECK_FALSE(test::contains(srv.received(), "QUIT"));  // it would land inside the body
  CHECK_FALSE(test::contains(srv.received(), std::string(1, '\0')));
}
