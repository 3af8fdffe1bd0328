// tests/support/tls_server.hpp - TLS for the scripted server: the server side of STARTTLS.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TESTS_SUPPORT_TLS_SERVER_HPP
#define SMTPIPE_TESTS_SUPPORT_TLS_SERVER_HPP

#include "support/script_server.hpp"

#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace smtpipe::test {

/// The server end of a TLS connection over the scripted server's socket.
class tls_server_stream final : public script_server::stream {
 public:
  tls_server_stream(std::shared_ptr<asio::ssl::context> context, asio::ip::tcp::socket& socket)
      : context_(std::move(context)), stream_(socket, *context_) {}

  asio::awaitable<std::error_code> handshake() {
    auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server,
                                                 asio::experimental::as_tuple(asio::use_awaitable));
    co_return ec;
  }
  std::string server_name() {
    const char* name = SSL_get_servername(stream_.native_handle(), TLSEXT_NAMETYPE_host_name);
    return name ? name : "";
  }
  asio::awaitable<io_result> read_some(asio::mutable_buffer b) override {
    auto [ec, n] = co_await stream_.async_read_some(b, asio::experimental::as_tuple(asio::use_awaitable));
    co_return io_result{ec, n};
  }
  asio::awaitable<io_result> write(asio::const_buffer b) override {
    auto [ec, n] = co_await asio::async_write(stream_, b, asio::experimental::as_tuple(asio::use_awaitable));
    co_return io_result{ec, n};
  }

 private:
  std::shared_ptr<asio::ssl::context> context_;
  asio::ssl::stream<asio::ip::tcp::socket&> stream_;
};

/// An `upgrade` step: a TLS server handshake with `cert`/`key` (PEM files). The name the
/// client sent as SNI is stored in `*sni` ("" when it sent none).
inline script_server::upgrade_fn tls_handshake(std::string cert, std::string key,
                                               std::string* sni = nullptr) {
  return [cert = std::move(cert), key = std::move(key), sni](
             asio::ip::tcp::socket& socket,
             std::string& error) -> asio::awaitable<std::unique_ptr<script_server::stream>> {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    std::error_code ec;
    context->use_certificate_chain_file(cert, ec);
    if (!ec) context->use_private_key_file(key, asio::ssl::context::pem, ec);
    if (ec) {
      error = "loading " + cert + ": " + ec.message();
      co_return nullptr;
    }
    auto stream = std::make_unique<tls_server_stream>(std::move(context), socket);
    if (auto hec = co_await stream->handshake()) {
      error = "handshake: " + hec.message();
      co_return nullptr;
    }
    if (sni) *sni = stream->server_name();
    co_return stream;
  };
}

}  // namespace smtpipe::test

#endif  // !SMTPIPE_TESTS_SUPPORT_TLS_SERVER_HPP
