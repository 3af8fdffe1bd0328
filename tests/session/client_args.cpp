// Argument dictionaries (Momentum's smtp_client_args): MAIL and RCPT extension parameters per
// message and recipient, sent only when advertised, else dropped or refused by their policy;
// a state that adds, reads and deletes them during the session through Momentum's functions.
#include "smtpipe/client/client_args.hpp"
#include "support/run.hpp"
#include "support/script_server.hpp"

#include <doctest/doctest.h>

#include <cstring>

using namespace smtpipe;
using test::script_server;

namespace {
const std::string ehlo_xfoo = "250-mx.example.org\r\n250-PIPELINING\r\n250-XFOO\r\n250 XRCPT\r\n";

message one_message() {
  return test::make_message("a@example.org", {"b@example.org", "c@example.org"}, "x\r\n");
}

/// After EHLO: the hook of a module that tags every message, through Momentum's functions.
struct tagger {
  static constexpr std::string_view name = "tagger";
  static constexpr smtpipe::stage stage = smtpipe::stage::during_xclient;
  asio::awaitable<transition> run(session& s) {
    smtp_client_args* mail = smtp_client_mail_args(s, 0);
    const char* v = nullptr;
    // The message came with XFOO=old and XGONE: replace one, delete the other.
    if (!smtp_client_args_exists_and_fetch(mail, "xfoo", &v) || std::strcmp(v, "old") != 0)
      co_return s.fail_session(errc::state_failed);
    if (smtp_client_args_add(mail, "XFOO", "new") != 0)
      co_return s.fail_session(errc::state_failed);
    smtp_client_args_delete(mail, "XGONE");
    if (smtp_client_args_exists_and_fetch(mail, "XGONE", &v))
      co_return s.fail_session(errc::state_failed);
    if (smtp_client_args_add(smtp_client_rcpt_args(s, 0, 1), "XRCPT", nullptr) != 0)
      co_return s.fail_session(errc::state_failed);
    // A malformed value is refused and changes nothing.
    if (smtp_client_args_add(mail, "XFOO", "a b") == 0)
      co_return s.fail_session(errc::state_failed);
    co_return transition::next();
  }
};
}  // namespace

TEST_CASE("client_args: add, replace, fetch, delete, validation [smtpipe][args]") {
  client_args a;
  CHECK_FALSE(a.add("XFOO", "1"));
  CHECK_FALSE(a.add("XFLAG"));
  CHECK_FALSE(a.add("xfoo", "2"));  // keywords are case-insensitive: replaced, not added
  REQUIRE(a.size() == 2);
  CHECK(a.find("XFOO")->value == "2");
  CHECK_FALSE(a.find("XFLAG")->value);
  CHECK(a.rendered_length() == std::string(" xfoo=2 XFLAG").size());
  CHECK(a.add("-bad", "1") == errc::invalid_argument);
  CHECK(a.add("X FOO", "1") == errc::invalid_argument);
  CHECK(a.add("XFOO", "a=b") == errc::invalid_argument);
  CHECK(a.add("XFOO", "") == errc::invalid_argument);
  CHECK(a.add("XFOO", "x\r\nRCPT") == errc::invalid_argument);
  CHECK(a.find("XFOO")->value == "2");
  CHECK(a.erase("XFLAG"));
  CHECK_FALSE(a.erase("XFLAG"));
  smtp_client_args* m = &a;
  const char* v = "untouched";
  CHECK(smtp_client_args_exists_and_fetch(m, "XNONE", &v) == 0);
  CHECK(std::string(v) == "untouched");
  CHECK(smtp_client_args_add(m, "XNEW", nullptr) == 0);
  CHECK(smtp_client_args_exists_and_fetch(m, "XNEW", &v) != 0);
  CHECK(v == nullptr);
  CHECK(smtp_client_args_add(m, nullptr, "x") != 0);
}

TEST_CASE("advertised arguments go on MAIL and RCPT, unadvertised ones by policy [smtpipe][args]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n")
      .expect("EHLO")
      .send(ehlo_xfoo)
      .expect("MAIL FROM:<a@example.org> XFOO=1")
      .expect("RCPT TO:<b@example.org> XRCPT=yes")
      .expect("RCPT TO:<c@example.org>")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
  message m = one_message();
  //! [args]
  m.args.add("XFOO", "1");                             // refused if not advertised
  m.args.add("XBAR", "2", unadvertised_policy::drop);  // left out if not advertised
  m.recipients[0].args.add("XRCPT", "yes");
  m.recipients[1].args.add("XNOPE", {}, unadvertised_policy::drop);  // a flag, no value
  //! [args]
  auto r = test::start_and_deliver(io, srv, {m});
  // Exactly these lines: XBAR and XNOPE (not advertised, policy drop) left out.
  CHECK(srv.received().find("MAIL FROM:<a@example.org> XFOO=1\r\n"
                            "RCPT TO:<b@example.org> XRCPT=yes\r\n"
                            "RCPT TO:<c@example.org>\r\n") != std::string::npos);
  for (const auto& f : srv.failures()) MESSAGE(f);
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  for (const auto& rr : r.messages.at(0).recipients) CHECK(rr.status == delivery_status::delivered);
}

TEST_CASE(
    "an unadvertised MAIL argument with policy refuse fails the message unsent [smtpipe][args]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n")
      .expect("EHLO")
      .send(ehlo_xfoo)
      // The first message is refused before MAIL; the second goes.
      .expect("MAIL FROM:<a@example.org>")
      .expect("RCPT")
      .expect("RCPT")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
  message bad = one_message();
  REQUIRE_FALSE(bad.args.add("XUNKNOWN", "1"));
  auto r = test::start_and_deliver(io, srv, {bad, one_message()});
  CHECK(srv.received().find("MAIL FROM:<a@example.org>\r\n") != std::string::npos);
  for (const auto& f : srv.failures()) MESSAGE(f);
  CHECK(srv.failures().empty());
  CHECK(srv.received().find("XUNKNOWN") == std::string::npos);
  for (const auto& rr : r.messages.at(0).recipients) {
    CHECK(rr.status == delivery_status::permanent);
    CHECK(rr.error == errc::extension_not_supported);
  }
  CHECK(r.messages.at(1).recipients.at(0).status == delivery_status::delivered);
}

TEST_CASE(
    "an unadvertised RCPT argument with policy refuse fails the transaction [smtpipe][args]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n")
      .expect("EHLO")
      .send(ehlo_xfoo)
      .expect("MAIL")
      // No RCPT at all: the transaction ends (no RSET is due before QUIT).
      .expect("QUIT")
      .send("250 ok\r\n221 bye\r\n");
  message m = one_message();
  REQUIRE_FALSE(m.recipients[1].args.add("XUNKNOWN"));
  auto r = test::start_and_deliver(io, srv, {m});
  for (const auto& f : srv.failures()) MESSAGE(f);
  CHECK(srv.failures().empty());
  CHECK(srv.received().find("XUNKNOWN") == std::string::npos);
  for (const auto& rr : r.messages.at(0).recipients) {
    CHECK(rr.status == delivery_status::permanent);
    CHECK(rr.error == errc::extension_not_supported);
  }
}

TEST_CASE(
    "a state changes the arguments during the session (Momentum's functions) [smtpipe][args]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n")
      .expect("EHLO")
      .send(ehlo_xfoo)
      .expect("MAIL FROM:<a@example.org> XFOO=new")
      .expect("RCPT TO:<b@example.org>")
      .expect("RCPT TO:<c@example.org> XRCPT")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
  message m = one_message();
  REQUIRE_FALSE(m.args.add("XFOO", "old"));
  REQUIRE_FALSE(m.args.add("XGONE", "1"));  // not advertised: would fail the message
  auto r = test::start_and_deliver(io, srv, {m}, test::fast_options(0.01),
                                   pipeline<insert_after<state_id::ehlo, tagger>>{});
  CHECK(srv.received().find("MAIL FROM:<a@example.org> XFOO=new\r\n"
                            "RCPT TO:<b@example.org>\r\n"
                            "RCPT TO:<c@example.org> XRCPT\r\n") != std::string::npos);
  for (const auto& f : srv.failures()) MESSAGE(f);
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  for (const auto& rr : r.messages.at(0).recipients) CHECK(rr.status == delivery_status::delivered);
}
