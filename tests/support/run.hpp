// tests/support/run.hpp - Run a delivery against a loopback server to completion.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TESTS_SUPPORT_RUN_HPP
#define SMTPIPE_TESTS_SUPPORT_RUN_HPP

#include "smtpipe/client/deliver.hpp"
#include "support/script_server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace smtpipe::test {

/// Delivers `messages` to 127.0.0.1:`port` with `pipeline`, running `io` until the session
/// and the server are done (at most `limit`: a hung session fails the test run loudly).
template <class Pipeline = default_pipeline>
session_result deliver_to(asio::io_context& io, unsigned short port,
                          const std::vector<message>& messages, session_options options = {},
                          const Pipeline& pipeline = {},
                          std::chrono::seconds limit = std::chrono::seconds(30)) {
  session_result result;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await deliver("127.0.0.1", std::to_string(port), pipeline, messages, options);
        done = true;
      },
      asio::detached);
  io.run_for(limit);
  if (!done) throw std::runtime_error("session did not finish in time");
  return result;
}

/// A message from `from` to `to` with `body`.
inline message make_message(std::string from, std::vector<std::string> to, std::string body) {
  message m;
  m.sender = std::move(from);
  for (auto& r : to) m.recipients.emplace_back(std::move(r));
  m.body = body_source::copy(std::move(body));
  return m;
}

/// Options with every timeout scaled down so that silence tests run fast.
inline session_options fast_options(double scale = 0.001) {
  session_options o;
  o.timeouts = o.timeouts.scaled(scale);
  return o;
}

/// Starts `srv`'s script, then runs a delivery to it like `deliver_to` (fast timeouts unless
/// `options` says otherwise).
template <class Pipeline = default_pipeline>
session_result start_and_deliver(asio::io_context& io, script_server& srv,
                                 const std::vector<message>& messages,
                                 session_options options = fast_options(0.01),
                                 const Pipeline& pipeline = {}) {
  srv.start();
  return deliver_to(io, srv.port(), messages, std::move(options), pipeline);
}

}  // namespace smtpipe::test

#endif  // !SMTPIPE_TESTS_SUPPORT_RUN_HPP
