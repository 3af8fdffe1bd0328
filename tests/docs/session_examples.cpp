// Examples quoted by docs/sessions.md: compiled and run against the scripted loopback server.
#include "support/script_server.hpp"

#include <smtpipe.hpp>

#include <doctest/doctest.h>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <sstream>
#include <string>
#include <vector>

using smtpipe::test::script_server;

namespace {
void answer_one_message(script_server& srv) {
  srv.send("220 mx.example.org ESMTP\r\n")
      .expect("EHLO")
      .send("250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10000000\r\n250 8BITMIME\r\n")
      .expect("MAIL FROM:")
      .expect("RCPT TO:<alice@")
      .expect("RCPT TO:<bob@")
      .expect("DATA")
      .send(
          "250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 <bob@example.net>: no such user\r\n"
          "354 go ahead\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 2.0.0 Ok: queued as 4XyZ\r\n221 2.0.0 bye\r\n");
}
}  // namespace

TEST_CASE("docs: deliver one message and read every recipient's result [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  answer_one_message(srv);
  srv.start();
  const std::string port = srv.port_string();
  std::ostringstream log;

  //! [deliver]
  std::vector<smtpipe::message> messages(1);
  messages[0].sender = "newsletter@example.org";  // "" would be the null sender <>
  messages[0].recipients = {"alice@example.net", "bob@example.net"};
  messages[0].body = smtpipe::body_source::copy("Subject: hello\n\nBare LFs are fine.\n");

  smtpipe::session_options options;
  options.helo_name = "mta1.example.org";
  smtpipe::transcript transcript(log);  // C:/S: lines, AUTH payloads redacted
  options.observer = &transcript;

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        smtpipe::session_result result = co_await smtpipe::deliver(
            "127.0.0.1", port, smtpipe::default_pipeline{}, messages, options);
        for (const smtpipe::recipient_result& r : result.messages[0].recipients)
          std::printf("%s: %s %d %s (decided by %s)\n", r.address.c_str(),
                      smtpipe::to_string(r.status), r.code, r.text.c_str(), r.state.c_str());
        // alice@example.net: delivered 250 Ok: queued as 4XyZ (decided by data)
        // bob@example.net: permanent 550 <bob@example.net>: no such user (decided by rcpt)
      },
      asio::detached);
  io.run();
  //! [deliver]
  CHECK(srv.failures().empty());
  CHECK(log.str().find("C: MAIL FROM:<newsletter@example.org> SIZE=") != std::string::npos);
  CHECK(srv.bodies().at(0) == "Subject: hello\r\n\r\nBare LFs are fine.\r\n.\r\n");
}

TEST_CASE("docs: a session that cannot finish still reports every recipient [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n")
      .expect("EHLO")
      .send("250-mx\r\n250 PIPELINING\r\n")
      .expect("MAIL")
      .expect("RCPT")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .close();  // gone after the "."
  srv.start();
  std::vector<smtpipe::message> messages(1);
  messages[0].sender = "a@example.org";
  messages[0].recipients = {"alice@example.net"};
  messages[0].body = smtpipe::body_source::view("hi\r\n");
  smtpipe::session_result result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await smtpipe::deliver("127.0.0.1", srv.port_string(),
                                           smtpipe::default_pipeline{}, messages);
      },
      asio::detached);
  io.run();
  //! [unknown]
  // The final "." was written, the connection closed before its reply: the message may have
  // been delivered. smtpipe says so, and never says "delivered" without a 2yz reply.
  CHECK(result.error == smtpipe::errc::connection_closed);
  CHECK(result.messages[0].recipients[0].status == smtpipe::delivery_status::unknown);
  //! [unknown]
}

TEST_CASE("docs: timeouts and cancellation [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("220 mx\r\n").expect("EHLO").sleep(std::chrono::milliseconds(2000));
  srv.start();
  std::vector<smtpipe::message> messages(1);
  messages[0].sender = "a@example.org";
  messages[0].recipients = {"alice@example.net"};
  messages[0].body = smtpipe::body_source::view("hi\r\n");
  const std::string port = srv.port_string();
  std::error_code seen;

  //! [cancel]
  smtpipe::session_options options;
  options.timeouts = options.timeouts.scaled(0.01);     // e.g. EHLO: 5 min -> 3 s
  options.timeouts.session = std::chrono::seconds(60);  // and a bound on the whole session

  asio::cancellation_signal stop;  // emit() to end the session early, connection closed
  smtpipe::async_deliver(
      io.get_executor(), "127.0.0.1", port, smtpipe::default_pipeline{}, messages, options,
      asio::bind_cancellation_slot(
          stop.slot(), [&](std::error_code ec, smtpipe::session_result) { seen = ec; }));
  asio::steady_timer later(io, std::chrono::milliseconds(100));
  later.async_wait([&](std::error_code) { stop.emit(asio::cancellation_type::terminal); });
  io.run();
  // seen == asio::error::operation_aborted; every recipient: transient, not attempted
  //! [cancel]
  CHECK(seen == asio::error::operation_aborted);
}
