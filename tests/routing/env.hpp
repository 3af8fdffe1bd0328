// tests/routing/env.hpp - The loopback unbound and smtp-sinks that routing_env.py started.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TESTS_ROUTING_ENV_HPP
#define SMTPIPE_TESTS_ROUTING_ENV_HPP

#include <smtpipe.hpp>
#include <smtpipe/routing.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace smtpipe::test {

inline std::string env_or_throw(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw std::runtime_error(std::string(name) + " unset: run through routing_env.py");
  return v;
}

/// unbound's "127.0.0.1@PORT".
inline std::string test_dns() { return env_or_throw("SMTPIPE_TEST_DNS"); }
inline std::uint16_t test_mx_port() {
  return static_cast<std::uint16_t>(std::stoi(env_or_throw("SMTPIPE_TEST_MX_PORT")));
}

inline resolver_options test_resolver_options(
    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  resolver_options o;
  o.forwarder = test_dns();
  o.timeout = timeout;
  return o;
}

/// Runs `work` on `io` to completion (at most `limit`).
template <class T>
T run_to_end(asio::io_context& io, asio::awaitable<T> work,
             std::chrono::seconds limit = std::chrono::seconds(60)) {
  std::optional<T> out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out = co_await std::move(work); }, asio::detached);
  io.run_for(limit);
  io.restart();
  if (!out) throw std::runtime_error("operation did not finish in time");
  return std::move(*out);
}

}  // namespace smtpipe::test

#endif  // !SMTPIPE_TESTS_ROUTING_ENV_HPP
