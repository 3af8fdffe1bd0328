// async_deliver and async_run_session with the completion tokens callers use, and terminal
// cancellation through the token's slot: the operation completes once, with
// asio::error::operation_aborted, and the connection is closed, not left to a timeout.
#include "support/run.hpp"
#include "support/script_server.hpp"
#include "support/wire.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <doctest/doctest.h>

using namespace smtpipe;
using namespace std::chrono_literals;
using asio::experimental::as_tuple;
using test::script_server;

namespace {

const std::string greeting = "220 mx.example.org ESMTP\r\n";
const std::string ehlo_pipelining = "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
const std::string sent_before_cancel =
    "EHLO localhost\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n";

const std::vector<message> messages{
    test::make_message("a@example.org", {"b@example.org"}, "hello\r\n")};

// The server cancels the client once the first pipelined group has arrived, then checks that
// the client hangs up. Timeouts keep their defaults (minutes): only cancellation ends this fast.
void script_cancel_mid_session(script_server& srv, asio::cancellation_signal& signal) {
  srv.greet(greeting, ehlo_pipelining)
      .expect_group()
      .call([&] { signal.emit(asio::cancellation_type::terminal); })
      .expect_close(2000ms);
}

void script_delivery(script_server& srv) {
  srv.greet(greeting, ehlo_pipelining)
      .expect_group()
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 2.0.0 queued\r\n221 bye\r\n");
}

void check_cancelled(const script_server& srv, std::error_code ec, const session_result& r) {
  CHECK(srv.failures().empty());  // includes: the client closed the connection
  CHECK(ec == asio::error::operation_aborted);
  CHECK(r.error == asio::error::operation_aborted);
  CHECK(srv.received() == sent_before_cancel);  // nothing after the cancellation, no QUIT
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].recipients.at(0).status == delivery_status::transient);
}

}  // namespace

TEST_CASE(
    "async_deliver with a bound cancellation slot: terminal cancellation mid-session [smtpipe]") {
  asio::io_context io;
  asio::cancellation_signal signal;
  script_server srv(io);
  script_cancel_mid_session(srv, signal);
  srv.start();
  int calls = 0;
  std::error_code ec;
  session_result result;
  const auto start = std::chrono::steady_clock::now();
  async_deliver(
      io.get_executor(), "127.0.0.1", srv.port_string(), default_pipeline{}, messages,
      session_options{},
      asio::bind_cancellation_slot(signal.slot(), [&](std::error_code e, session_result r) {
        ++calls;
        ec = e;
        result = std::move(r);
      }));
  io.run_for(5s);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(calls == 1);
  check_cancelled(srv, ec, result);
}

TEST_CASE("cancellation while waiting for the greeting sends nothing [smtpipe]") {
  asio::io_context io;
  asio::cancellation_signal signal;
  script_server srv(io);
  srv.sleep(20ms)
      .call([&] { signal.emit(asio::cancellation_type::terminal); })
      .expect_close(2000ms);
  srv.start();
  int calls = 0;
  std::error_code ec;
  async_deliver(io.get_executor(), "127.0.0.1", srv.port_string(), default_pipeline{}, messages,
                session_options{},
                asio::bind_cancellation_slot(signal.slot(), [&](std::error_code e, session_result) {
                  ++calls;
                  ec = e;
                }));
  io.run_for(5s);
  CHECK(calls == 1);
  CHECK(ec == asio::error::operation_aborted);
  CHECK(srv.failures().empty());
  CHECK(srv.received().empty());
}

TEST_CASE("async_deliver with as_tuple(use_awaitable) in a cancelled coroutine [smtpipe]") {
  asio::io_context io;
  asio::cancellation_signal signal;
  script_server srv(io);
  script_cancel_mid_session(srv, signal);
  srv.start();
  bool done = false;
  std::error_code ec;
  session_result result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto [e, r] = co_await async_deliver(co_await asio::this_coro::executor, "127.0.0.1",
                                             srv.port_string(), default_pipeline{}, messages,
                                             session_options{}, as_tuple(asio::use_awaitable));
        ec = e;
        result = std::move(r);
        done = true;
      },
      asio::bind_cancellation_slot(signal.slot(), asio::detached));
  io.run_for(5s);
  REQUIRE(done);
  check_cancelled(srv, ec, result);
}

TEST_CASE(
    "async_deliver with as_tuple(use_awaitable) and with a plain callback deliver [smtpipe]") {
  {
    asio::io_context io;
    script_server srv(io);
    script_delivery(srv);
    srv.start();
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto [ec, r] =
              co_await async_deliver(co_await asio::this_coro::executor, "127.0.0.1",
                                     srv.port_string(), default_pipeline{}, messages,
                                     test::fast_options(0.01), as_tuple(asio::use_awaitable));
          CHECK_FALSE(ec);
          CHECK(r.all_delivered());
          done = true;
        },
        asio::detached);
    io.run_for(5s);
    CHECK(done);
    CHECK(srv.failures().empty());
  }
  {
    asio::io_context io;
    script_server srv(io);
    script_delivery(srv);
    srv.start();
    int calls = 0;
    async_deliver(io.get_executor(), "127.0.0.1", srv.port_string(), default_pipeline{}, messages,
                  test::fast_options(0.01), [&](std::error_code ec, session_result r) {
                    ++calls;
                    CHECK_FALSE(ec);
                    CHECK(r.messages.at(0).recipients.at(0).text == "queued");
                  });
    io.run_for(5s);
    CHECK(calls == 1);
    CHECK(srv.failures().empty());
  }
}

TEST_CASE("async_deliver with use_awaitable throws the session's error [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.send("554 5.7.1 no service\r\n").quit();
  srv.start();
  std::error_code thrown;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          co_await async_deliver(co_await asio::this_coro::executor, "127.0.0.1", srv.port_string(),
                                 default_pipeline{}, messages, test::fast_options(0.01),
                                 asio::use_awaitable);
        } catch (const std::system_error& e) {
          thrown = e.code();
        }
      },
      asio::detached);
  io.run_for(5s);
  CHECK(thrown == errc::greeting_refused);
}

TEST_CASE(
    "async_run_session over a connected socket, with a plain callback and with cancellation "
    "[smtpipe]") {
  {
    asio::io_context io;
    script_server srv(io);
    script_delivery(srv);
    srv.start();
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), srv.port()});
    int calls = 0;
    async_run_session(std::move(socket), default_pipeline{}, messages, test::fast_options(0.01),
                      [&](std::error_code ec, session_result r) {
                        ++calls;
                        CHECK_FALSE(ec);
                        CHECK(r.all_delivered());
                      });
    io.run_for(5s);
    CHECK(calls == 1);
    CHECK(srv.failures().empty());
  }
  {
    asio::io_context io;
    asio::cancellation_signal signal;
    script_server srv(io);
    script_cancel_mid_session(srv, signal);
    srv.start();
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), srv.port()});
    int calls = 0;
    std::error_code ec;
    session_result result;
    async_run_session(
        std::move(socket), default_pipeline{}, messages, session_options{},
        asio::bind_cancellation_slot(signal.slot(), [&](std::error_code e, session_result r) {
          ++calls;
          ec = e;
          result = std::move(r);
        }));
    io.run_for(5s);
    CHECK(calls == 1);
    check_cancelled(srv, ec, result);
  }
}
