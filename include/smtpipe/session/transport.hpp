// smtpipe/session/transport.hpp - The byte stream under a session: a TCP socket, upgradable in place.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_TRANSPORT_HPP
#define SMTPIPE_SESSION_TRANSPORT_HPP

#include "smtpipe/config.hpp"

#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <system_error>
#include <utility>

namespace smtpipe {

/// A connected TCP socket that a session reads and writes. It owns the socket; the session
/// closes it when it ends, whatever the outcome, so a connection is never reused after a
/// timeout, an I/O error or a protocol error.
class transport {
 public:
  using socket_type = asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;

  explicit transport(socket_type socket) : socket_(std::move(socket)) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& socket() noexcept { return socket_; }

  /// Reads at least one byte; completes with `void(std::error_code, std::size_t)`.
  template <class CompletionToken>
  auto async_read_some(asio::mutable_buffer buffer, CompletionToken&& token) {
    return socket_.async_read_some(buffer, std::forward<CompletionToken>(token));
  }

  /// Writes all of `buffer`; completes with `void(std::error_code, std::size_t)`.
  template <class CompletionToken>
  auto async_write(asio::const_buffer buffer, CompletionToken&& token) {
    return asio::async_write(socket_, buffer, std::forward<CompletionToken>(token));
  }

  /// Cancels pending reads and writes; they complete with `operation_aborted`.
  void cancel() noexcept {
    std::error_code ignored;
    socket_.cancel(ignored);
  }

  /// Shuts the connection down and closes the socket.
  void close() noexcept {
    std::error_code ignored;
    if (!socket_.is_open()) return;
    socket_.shutdown(socket_type::shutdown_both, ignored);
    socket_.close(ignored);
  }

  bool is_open() const noexcept { return socket_.is_open(); }

 private:
  socket_type socket_;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_TRANSPORT_HPP
