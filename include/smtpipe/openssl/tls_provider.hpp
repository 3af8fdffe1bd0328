// smtpipe/openssl/tls_provider.hpp - TLS for sessions from OpenSSL: settings and the provider.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_OPENSSL_TLS_PROVIDER_HPP
#define SMTPIPE_OPENSSL_TLS_PROVIDER_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/openssl/tls_layer.hpp"
#include "smtpipe/session/tls_layer.hpp"

#include <openssl/ssl.h>
#include <asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace smtpipe {

/// How sessions use TLS: certificate checks, trust anchors, an optional client certificate,
/// protocol floor and ciphers. Defaults: verify the host name against the system's CAs,
/// TLS 1.2 or later, OpenSSL's default ciphers.
struct tls_settings {
  tls_settings() = default;  // not an aggregate: see docs/architecture.md (g++ 12)

  tls_verify verify = tls_verify::host;
  std::string ca_file;       ///< PEM bundle of trusted CAs; with `ca_dir` empty too: system store.
  std::string ca_dir;        ///< Hashed CA directory (c_rehash).
  std::string cert_file;     ///< Client certificate (PEM), optional.
  std::string key_file;      ///< Its private key (PEM).
  bool tls13_only = false;   ///< Raise the floor from TLS 1.2 to TLS 1.3.
  std::string ciphers;       ///< TLS 1.2 cipher list (OpenSSL syntax); empty: default.
  std::string ciphersuites;  ///< TLS 1.3 suites; empty: default.
};

/// The OpenSSL `tls_provider`: one client context shared by every session it serves.
class openssl_provider final : public tls_provider {
 public:
  explicit openssl_provider(std::shared_ptr<asio::ssl::context> context, tls_verify verify)
      : context_(std::move(context)), verify_(verify) {}

  std::unique_ptr<tls_layer> wrap(asio::ip::tcp::socket& socket,
                                  std::string_view server_name) override {
    return std::make_unique<openssl_layer>(context_, socket, std::string(server_name), verify_,
                                           policy_);
  }

  /// The same context (CAs, client certificate, protocols), the checks of `policy`.
  std::shared_ptr<tls_provider> for_peer(const tls_peer_policy& policy) override {
    auto p = std::make_shared<openssl_provider>(context_, policy.verify);
    p->policy_ = std::make_shared<const tls_peer_policy>(policy);
    return p;
  }

  asio::ssl::context& context() noexcept { return *context_; }

 private:
  std::shared_ptr<asio::ssl::context> context_;
  tls_verify verify_;
  std::shared_ptr<const tls_peer_policy> policy_;
};

/// Builds a provider from `settings`; a CA file, certificate or key that cannot be loaded, or
/// a cipher list OpenSSL refuses, is an error and no provider is made.
inline std::error_code make_openssl_provider(const tls_settings& settings,
                                             std::shared_ptr<tls_provider>& provider) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, settings.tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION);
  // DANE (RFC 7671) for the connections whose peer policy carries TLSA records.
  if (SSL_CTX_dane_enable(native) <= 0) return errc::tls_handshake_failed;
  std::error_code ec;
  if (settings.ca_file.empty() && settings.ca_dir.empty()) {
    context->set_default_verify_paths(ec);
  } else {
    if (!settings.ca_file.empty()) context->load_verify_file(settings.ca_file, ec);
    if (!ec && !settings.ca_dir.empty()) context->add_verify_path(settings.ca_dir, ec);
  }
  if (!ec && !settings.cert_file.empty()) {
    context->use_certificate_chain_file(settings.cert_file, ec);
    if (!ec) context->use_private_key_file(settings.key_file, asio::ssl::context::pem, ec);
  }
  if (ec) return ec;
  if (!settings.ciphers.empty() && SSL_CTX_set_cipher_list(native, settings.ciphers.c_str()) != 1)
    return errc::invalid_argument;
  if (!settings.ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(native, settings.ciphersuites.c_str()) != 1)
    return errc::invalid_argument;
  provider = std::make_shared<openssl_provider>(std::move(context), settings.verify);
  return {};
}

}  // namespace smtpipe

#endif  // !SMTPIPE_OPENSSL_TLS_PROVIDER_HPP
