// Examples quoted by docs/bounce-classes.md: compiled and run (the session one against the
// scripted loopback server).
#include "support/script_server.hpp"

#include <smtpipe.hpp>
#include <smtpipe/client/error_classify.hpp>

#include <doctest/doctest.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using smtpipe::test::script_server;

TEST_CASE("docs: classify replies and local errors [smtpipe]") {
  //! [classify]
  const smtpipe::bounce_classifier& classifier = smtpipe::bounce_classifier::builtin();

  // A raw response, as a server sent it (one or more lines).
  int c = classifier.classify_response("550 5.1.1 <bob@example.net>: User unknown");
  // c == 10, "Invalid Recipient"

  // A parsed reply: code, RFC 3463 code and text.
  int full = classifier.classify(452, {4, 2, 2}, "mailbox full");  // 22, "Mailbox Full"

  // A local failure: DNS, timeout, TLS, refused or dropped connection...
  int dns = classifier.classify_error(asio::error::host_not_found);  // 21, "DNS Failure"
  int slow = classifier.classify_error(smtpipe::errc::timeout);      // 24, "Timeout"

  std::string_view name = classifier.class_name(c);  // "Invalid Recipient"
  //! [classify]
  CHECK(c == 10);
  CHECK(full == 22);
  CHECK(dns == 21);
  CHECK(slow == 24);
  CHECK(name == "Invalid Recipient");
}

TEST_CASE("docs: override rules and custom classes [smtpipe]") {
  //! [rules]
  smtpipe::bounce_classifier classifier;  // the built-in rules, plus ours below

  // A custom class: a code below 100 that no built-in class uses.
  std::error_code ec = classifier.register_class(99, "Parked", "Held by our own policy");

  // Momentum's bounce_classifier_override lines: domain,code,rule (empty domain: all).
  const char* rules =
      "# domain,code,rule\n"
      "example.net,22,storage allocation\n"        // example.net's odd wording
      ",99,parked by policy|held * for review\n";  // '|': alternatives, '*' wildcards
  smtpipe::bounce_rule_error where;
  if (!ec) ec = classifier.add_rules(rules, &where);
  if (ec) std::cerr << "line " << where.line << ": " << where.reason << '\n';

  int a = classifier.classify_response("550 exceeded storage allocation", "example.net");  // 22
  int b = classifier.classify_response("554 5.7.1 Message held 3 days for review");        // 99
  //! [rules]
  CHECK(!ec);
  CHECK(a == 22);
  CHECK(b == 99);
  CHECK(classifier.add_rules("example.net,10,ok\nexample.net,7,never", &where) ==
        smtpipe::errc::unknown_bounce_class);
  CHECK(where.line == 2);
}

TEST_CASE("docs: each recipient result carries its class [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet("220 mx.example.net ESMTP\r\n",
            "250-mx.example.net\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n")
      .expect("MAIL")
      .expect("RCPT")
      .expect("RCPT")
      .expect("DATA")
      .send(
          "250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 <bob@example.net>: no such user\r\n"
          "354 go ahead\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 2.0.0 queued\r\n221 bye\r\n");
  srv.start();
  const std::string port = srv.port_string();
  std::ostringstream log;
  smtpipe::bounce_classifier my_classifier;

  //! [session]
  std::vector<smtpipe::message> messages(1);
  messages[0].sender = "news@example.org";
  messages[0].recipients = {"alice@example.net", "bob@example.net"};
  messages[0].body = smtpipe::body_source::copy("Subject: hi\n\nhello\n");

  smtpipe::session_options options;
  options.bounce_classifier = &my_classifier;  // null: bounce_classifier::builtin()

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        smtpipe::session_result r = co_await smtpipe::deliver(
            "127.0.0.1", port, smtpipe::default_pipeline{}, messages, options);
        for (const auto& rr : r.messages[0].recipients)
          log << rr.address << ' ' << rr.bounce_class << ' ' << rr.bounce_class_name << '\n';
        // alice@example.net 0
        // bob@example.net 10 Invalid Recipient
      },
      asio::detached);
  //! [session]
  io.run_for(std::chrono::seconds(30));
  CHECK(log.str() == "alice@example.net 0 \nbob@example.net 10 Invalid Recipient\n");
}

TEST_CASE("docs: Momentum's classification functions [smtpipe]") {
  //! [momentum]
  using namespace smtpipe::momentum;

  smtp_error_register_class(98, "Vendor Hold", "Held by a vendor's appliance");
  configure_bounce_classifier([](smtpipe::bounce_classifier& c) {
    return c.add_rules("example.com,98,quarantined by appliance");
  });

  int id = smtp_error_classify("550 5.7.1 quarantined by appliance", "example.com", nullptr);
  const smtp_error_class* cls = smtp_error_for_id(static_cast<unsigned short>(id));
  // id == 98, cls->short_name == "Vendor Hold"
  //! [momentum]
  CHECK(id == 98);
  REQUIRE(cls != nullptr);
  CHECK(std::string(cls->short_name) == "Vendor Hold");
  configure_bounce_classifier([](smtpipe::bounce_classifier& c) { c.clear_rules(); });
}
