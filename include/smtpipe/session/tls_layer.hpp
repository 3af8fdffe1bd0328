// smtpipe/session/tls_layer.hpp - The interface of a TLS layer and of what provides it.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_TLS_LAYER_HPP
#define SMTPIPE_SESSION_TLS_LAYER_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/tls_peer_policy.hpp"

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace smtpipe {

/// How a server certificate is checked (Momentum's `tls_verify`).
enum class tls_verify {
  none,  ///< Accept any certificate (the result is still reported).
  ca,    ///< The chain must lead to a trusted CA.
  host,  ///< As `ca`, and the certificate must name the configured host.
};

/// What a TLS session is, as reported in results: never more than what happened.
struct tls_status {
  bool active = false;  ///< The connection is encrypted.
  std::string version;  ///< e.g. "TLSv1.3".
  std::string cipher;   ///< e.g. "TLS_AES_256_GCM_SHA384".
  /// The certificate passed the checks of `tls_verify::ca` or `host`; always false under `none`.
  bool verified = false;
  /// "ok" or OpenSSL's verification error text (under `none`: of the chain only).
  std::string verify_result;
  std::string server_name;  ///< SNI sent; empty for IP literals.
  /// How the server was authenticated: "dane-ee" or "dane-ta" (a TLSA record of that usage
  /// matched, RFC 7672), "pkix" (the chain leads to a trusted CA and the certificate names
  /// the host), or "none" (encrypted only, or no TLS).
  std::string authentication = "none";
};

/// An encrypted stream over a session's TCP socket. The session owns it once STARTTLS (or
/// implicit TLS) succeeded; reads and writes then go through it.
class tls_layer {
 public:
  using io_result = std::pair<std::error_code, std::size_t>;

  virtual ~tls_layer() = default;
  /// The client handshake.
  virtual asio::awaitable<std::error_code> handshake() = 0;
  virtual asio::awaitable<io_result> read_some(asio::mutable_buffer buffer) = 0;
  /// Writes all of `buffer`.
  virtual asio::awaitable<io_result> write(asio::const_buffer buffer) = 0;
  virtual tls_status status() const = 0;
};

/// Makes TLS layers for sessions. smtpipe's
/// OpenSSL implementation is `smtpipe::make_openssl_provider` (<smtpipe/openssl.hpp>); the core
/// never links OpenSSL itself.
class tls_provider {
 public:
  virtual ~tls_provider() = default;
  /// A TLS layer over `socket` for a server known as `server_name` (checked against the
  /// certificate under `tls_verify::host`, sent as SNI unless it is an IP literal).
  virtual std::unique_ptr<tls_layer> wrap(asio::ip::tcp::socket& socket,
                                          std::string_view server_name) = 0;
  /// A provider whose layers authenticate a peer as `policy` says (DANE or PKIX with its
  /// own names and checks), sharing this one's settings otherwise; null when unsupported.
  virtual std::shared_ptr<tls_provider> for_peer(const tls_peer_policy& policy) {
    (void)policy;
    return nullptr;
  }
};

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_TLS_LAYER_HPP
