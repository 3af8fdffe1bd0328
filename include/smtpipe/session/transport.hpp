// smtpipe/session/transport.hpp - The byte stream under a session: TCP, upgradable in place.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_TRANSPORT_HPP
#define SMTPIPE_SESSION_TRANSPORT_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/tls_layer.hpp"

#include <asio/buffer.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <memory>
#include <system_error>
#include <tuple>
#include <utility>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

/// A connected TCP socket that a session reads and writes, upgraded in place to TLS by
/// `start_tls` (STARTTLS) or before the first byte (implicit TLS). It owns the socket; the
/// session closes it when it ends, whatever the outcome, so a connection is never reused
/// after a timeout, an I/O error or a protocol error.
class transport {
 public:
  using socket_type = asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using io_result = tls_layer::io_result;

  explicit transport(socket_type socket) : socket_(std::move(socket)) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& socket() noexcept { return socket_; }

  /// Reads at least one byte, through TLS once it is on.
  asio::awaitable<io_result> read_some(asio::mutable_buffer buffer) {
    if (tls_) return tls_->read_some(buffer);
    return plain_read_some(buffer);
  }

  /// Writes all of `buffer`, through TLS once it is on.
  asio::awaitable<io_result> write(asio::const_buffer buffer) {
    if (tls_) return tls_->write(buffer);
    return plain_write(buffer);
  }

  /// Wraps the socket in a TLS layer from `provider` and runs the client handshake. On
  /// success every later read and write is encrypted; on failure the transport is unusable
  /// and must be closed (nothing more is sent in plaintext).
  asio::awaitable<std::error_code> start_tls(tls_provider& provider, std::string_view server_name) {
    auto layer = provider.wrap(socket_, server_name);
    if (!layer) co_return std::make_error_code(std::errc::not_supported);
    const std::error_code ec = co_await layer->handshake();
    status_ = std::make_unique<tls_status>(layer->status());
    if (!ec) tls_ = std::move(layer);
    co_return ec;
  }

  /// Whether TLS is on, and what it is (the last handshake's outcome when it failed).
  bool secure() const noexcept { return tls_ != nullptr; }
  const tls_status& tls() const noexcept { return status_ ? *status_ : no_tls_; }

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
  // Right after a write the reply cannot have arrived yet, so the read waits for the socket to
  // become readable and then reads once, instead of a speculative read that would fail with
  // EAGAIN first; later reads (the rest of a reply) try the socket at once.
  asio::awaitable<io_result> plain_read_some(asio::mutable_buffer buffer) {
    const auto token = asio::experimental::as_tuple(asio::use_awaitable);
    std::error_code ec;
    std::size_t n = 0;
    if (reply_pending_ && socket_.non_blocking()) {
      std::tie(ec) = co_await socket_.async_wait(socket_type::wait_read, token);
      if (!ec) n = socket_.read_some(buffer, ec);
    } else {
      ec = asio::error::would_block;
    }
    if (ec == asio::error::would_block)
      std::tie(ec, n) = co_await socket_.async_read_some(buffer, token);
    reply_pending_ = false;
    co_return io_result{ec, n};
  }
  // What the socket takes at once is written without a completion round trip (a command
  // group usually fits the send buffer); the rest, if any, asynchronously.
  asio::awaitable<io_result> plain_write(asio::const_buffer buffer) {
    std::error_code ec;
    if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
    std::size_t done = ec ? 0 : socket_.write_some(buffer, ec);
    reply_pending_ = true;
    if (ec == asio::error::would_block) ec.clear();
    if (ec || done == buffer.size()) co_return io_result{ec, done};
    auto [rest_ec, rest] = co_await asio::async_write(
        socket_, buffer + done, asio::experimental::as_tuple(asio::use_awaitable));
    co_return io_result{rest_ec, done + rest};
  }

  socket_type socket_;
  bool reply_pending_ = false;  // written since the last read
  std::unique_ptr<tls_layer> tls_;
  std::unique_ptr<tls_status> status_;  // from the first handshake on: most sessions have none
  static inline const tls_status no_tls_{};
};

}  // namespace smtpipe

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_SESSION_TRANSPORT_HPP
