// send_with_as_tuple - async_deliver inside a coroutine, completion token as_tuple(use_awaitable).
// SPDX-License-Identifier: BSL-1.0
//
// `async_deliver` completes with (std::error_code, session_result). With plain
// `use_awaitable` a session error becomes an exception and the per-recipient results go with
// it; `as_tuple(use_awaitable)` hands back both, whatever happened. Two deliveries show it: one
// to a server that refuses one recipient (no session error, the results differ per
// recipient), one to a port where nobody listens (a session error, and still a result for
// every recipient: not attempted, transient).
#include "support/demo_sink.hpp"

#include <smtpipe.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <iostream>
#include <string>
#include <vector>

namespace {

using asio::experimental::as_tuple;

void print(const char* what, const std::error_code& ec, const smtpipe::session_result& result) {
  std::cout << what << ": error = " << (ec ? ec.message() : "none") << '\n';
  for (const auto& r : result.messages.at(0).recipients)
    std::cout << "  " << r.address << ": " << smtpipe::to_string(r.status) << " (" << r.code << ") "
              << r.text << '\n';
}

// A loopback port with no listener: bind one, note it, close it.
unsigned short closed_port(asio::io_context& io) {
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

}  // namespace

int main() {
  asio::io_context io;
  smtpipe_examples::sink_config config;
  config.refuse = {"bob@example.net"};
  smtpipe_examples::demo_sink sink(io, config);
  sink.start();
  const unsigned short nobody_there = closed_port(io);

  // The messages are referenced, not copied: they outlive both operations.
  std::vector<smtpipe::message> messages(1);
  messages[0].sender = "sender@example.org";
  messages[0].recipients = {"alice@example.net", "bob@example.net"};
  messages[0].body = smtpipe::body_source::view("Subject: as_tuple\r\n\r\nHi.\r\n");
  smtpipe::session_options options;
  options.timeouts = options.timeouts.scaled(0.05);

  bool ok = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto executor = co_await asio::this_coro::executor;

        auto [ec, result] = co_await smtpipe::async_deliver(
            executor, "127.0.0.1", std::to_string(sink.port()), smtpipe::default_pipeline{},
            messages, options, as_tuple(asio::use_awaitable));
        print("to the sink", ec, result);

        auto [ec2, result2] = co_await smtpipe::async_deliver(
            executor, "127.0.0.1", std::to_string(nobody_there), smtpipe::default_pipeline{},
            messages, options, as_tuple(asio::use_awaitable));
        print("to a closed port", ec2, result2);

        using smtpipe::delivery_status;
        const auto& first = result.messages.at(0).recipients;
        const auto& second = result2.messages.at(0).recipients;
        ok = !ec && first.at(0).status == delivery_status::delivered &&
             first.at(1).status == delivery_status::permanent && ec2 && second.size() == 2 &&
             second.at(0).status == delivery_status::transient;
      },
      asio::detached);
  io.run();
  std::cout << (ok ? "as expected\n" : "unexpected outcome\n");
  return ok ? 0 : 1;
}
