// smtpipe/client/deliver.hpp - Connect and deliver: coroutine and Asio initiating functions.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLIENT_DELIVER_HPP
#define SMTPIPE_CLIENT_DELIVER_HPP

#include "smtpipe/client/registry.hpp"
#include "smtpipe/client/runner.hpp"
#include "smtpipe/config.hpp"

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <exception>
#include <span>
#include <string>
#include <system_error>
#include <utility>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

namespace detail {

// Resolves and connects within `timeout`; the first address that answers wins.
struct connect_to {
  std::string host;
  std::string port;
  std::chrono::milliseconds timeout;

  asio::awaitable<std::error_code> operator()(asio::ip::tcp::socket& socket) const;
};

template <class Table>
asio::awaitable<session_result> deliver(std::string host, std::string port, Table table,
                                        std::span<const message> messages,
                                        session_options options) {
  auto executor = co_await asio::this_coro::executor;
  if (options.tls_server_name.empty()) options.tls_server_name = host;
  connect_to connect{std::move(host), std::move(port), options.timeouts.connect};
  asio::ip::tcp::socket socket(executor);
  Table again = table;
  session_result result =
      co_await run_table(std::move(socket), std::move(table), messages, options, connect);
  if (options.tls != tls_mode::opportunistic || !result.tls_fallback_reason) co_return result;
  // Opportunistic TLS failed before any message byte: a fresh plaintext connection, never
  // the one on which TLS failed.
  const std::error_code why = result.tls_fallback_reason;
  options.tls = tls_mode::none;
  asio::ip::tcp::socket plain(executor);
  result = co_await run_table(std::move(plain), std::move(again), messages, std::move(options),
                              std::move(connect));
  result.tls_fallback_reason = why;
  co_return result;
}

// Runs `work` as an Asio asynchronous operation completing with
// `void(std::error_code, Result)`, the error being the result's own `error` if it has one, or
// the exception that ended `work`; the token's cancellation slot reaches the work.
template <class Result, class CompletionToken>
auto async_run(asio::any_io_executor executor, asio::awaitable<Result> work,
               CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(std::error_code, Result)>(
      [](auto handler, asio::any_io_executor ex, asio::awaitable<Result> aw) {
        auto slot = asio::get_associated_cancellation_slot(handler);
        asio::co_spawn(
            ex, std::move(aw),
            asio::bind_cancellation_slot(
                slot,
                [h = std::move(handler), ex](std::exception_ptr failure, Result result) mutable {
                  std::error_code ec;
                  if constexpr (requires { result.error; }) ec = result.error;
                  if (failure) {
                    try {
                      std::rethrow_exception(failure);
                    } catch (const std::system_error& e) {
                      ec = e.code();
                    } catch (...) {
                      ec = errc::state_failed;
                    }
                  }
                  auto target = asio::get_associated_executor(h, ex);
                  asio::dispatch(target, [h = std::move(h), ec, r = std::move(result)]() mutable {
                    std::move(h)(ec, std::move(r));
                  });
                }));
      },
      token, std::move(executor), std::move(work));
}

}  // namespace detail

/// Resolves `host`:`port`, connects (within `options.timeouts.connect`), and delivers
/// `messages` over one session running `pipeline` (a static `pipeline<...>` or a
/// `state_machine`). Never throws for SMTP, network or timeout failures: see the result.
/// Nothing is sent, and no connection made, when every message is refused by validation.
template <class Pipeline>
asio::awaitable<session_result> deliver(std::string host, std::string port,
                                        const Pipeline& pipeline, std::span<const message> messages,
                                        session_options options = {}) {
  // Not a coroutine itself: arguments (temporaries, default arguments) bind to this plain
  // function and are moved into the coroutine, which g++ 12 needs to copy them correctly.
  auto table = detail::make_table(pipeline);
  return detail::deliver(std::move(host), std::move(port), std::move(table), messages,
                         std::move(options));
}

/// `deliver` with the process-wide `default_state_machine()` (Momentum's registrations).
inline asio::awaitable<session_result> deliver(std::string host, std::string port,
                                               std::span<const message> messages,
                                               session_options options = {}) {
  return deliver(std::move(host), std::move(port), default_state_machine(), messages,
                 std::move(options));
}

/// Asio initiating function for `deliver`; completes with
/// `void(std::error_code, session_result)` where the error is `session_result::error`. With
/// `use_awaitable` a session error throws and the per-recipient results are lost: use
/// `as_tuple(use_awaitable)` to keep them. Cancellation through the token's slot ends the
/// session and closes the connection. `messages` must outlive the operation.
template <class Pipeline, class CompletionToken>
auto async_deliver(asio::any_io_executor executor, std::string host, std::string port,
                   const Pipeline& pipeline, std::span<const message> messages,
                   session_options options, CompletionToken&& token) {
  auto table = detail::make_table(pipeline);
  auto work = detail::deliver(std::move(host), std::move(port), std::move(table), messages,
                              std::move(options));
  return detail::async_run(std::move(executor), std::move(work),
                           std::forward<CompletionToken>(token));
}

/// Asio initiating function for `run_session` over a connected `socket`; completes with
/// `void(std::error_code, session_result)`. Opportunistic TLS cannot fall back to a fresh
/// connection here: its failure is the session's error.
template <class Pipeline, class CompletionToken>
auto async_run_session(asio::ip::tcp::socket socket, const Pipeline& pipeline,
                       std::span<const message> messages, session_options options,
                       CompletionToken&& token) {
  asio::any_io_executor executor = socket.get_executor();
  auto work = run_session(std::move(socket), pipeline, messages, std::move(options));
  return detail::async_run(std::move(executor), std::move(work),
                           std::forward<CompletionToken>(token));
}

}  // namespace smtpipe

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/client/impl/deliver.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_CLIENT_DELIVER_HPP
