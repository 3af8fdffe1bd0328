// tests/support/tls_server.hpp - TLS for the scripted server: the server side of STARTTLS.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TESTS_SUPPORT_TLS_SERVER_HPP
#define SMTPIPE_TESTS_SUPPORT_TLS_SERVER_HPP

#include "support/script_server.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

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
  /// The subject of the client's certificate (one line), or "" when it sent none.
  std::string client_subject() {
    X509* peer = SSL_get1_peer_certificate(stream_.native_handle());
    if (!peer) return "";
    char line[256] = {};
    X509_NAME_oneline(X509_get_subject_name(peer), line, sizeof line - 1);
    X509_free(peer);
    return line;
  }
  asio::awaitable<io_result> read_some(asio::mutable_buffer b) override {
    auto [ec, n] =
        co_await stream_.async_read_some(b, asio::experimental::as_tuple(asio::use_awaitable));
    co_return io_result{ec, n};
  }
  asio::awaitable<io_result> write(asio::const_buffer b) override {
    auto [ec, n] =
        co_await asio::async_write(stream_, b, asio::experimental::as_tuple(asio::use_awaitable));
    co_return io_result{ec, n};
  }

 private:
  std::shared_ptr<asio::ssl::context> context_;
  asio::ssl::stream<asio::ip::tcp::socket&> stream_;
};

/// An `upgrade` step: a TLS server handshake with `cert`/`key` (PEM files). The name the
/// client sent as SNI is stored in `*sni` ("" when it sent none), even when the handshake
/// fails. With `client_ca` (a PEM file) the server requires a client certificate issued by
/// it, and stores its subject in `*client`.
inline script_server::upgrade_fn tls_handshake(std::string cert, std::string key,
                                               std::string* sni = nullptr,
                                               std::string client_ca = {},
                                               std::string* client = nullptr) {
  return [cert = std::move(cert), key = std::move(key), sni, client_ca = std::move(client_ca),
          client](asio::ip::tcp::socket& socket,
                  std::string& error) -> asio::awaitable<std::unique_ptr<script_server::stream>> {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    std::error_code ec;
    context->use_certificate_chain_file(cert, ec);
    if (!ec) context->use_private_key_file(key, asio::ssl::context::pem, ec);
    if (!ec && !client_ca.empty()) {
      context->load_verify_file(client_ca, ec);
      context->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    }
    if (ec) {
      error = "loading " + cert + ": " + ec.message();
      co_return nullptr;
    }
    auto stream = std::make_unique<tls_server_stream>(std::move(context), socket);
    const std::error_code hec = co_await stream->handshake();
    if (sni) *sni = stream->server_name();  // known once the ClientHello is read
    if (hec) {
      error = "handshake: " + hec.message();
      co_return nullptr;
    }
    if (client) *client = stream->client_subject();
    co_return stream;
  };
}

}  // namespace smtpipe::test

#endif  // !SMTPIPE_TESTS_SUPPORT_TLS_SERVER_HPP
