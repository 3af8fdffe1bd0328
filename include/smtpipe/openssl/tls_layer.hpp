// smtpipe/openssl/tls_layer.hpp - A TLS layer over a session's socket, with OpenSSL through Asio.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_OPENSSL_TLS_LAYER_HPP
#define SMTPIPE_OPENSSL_TLS_LAYER_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/session/tls_layer.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/address.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

/// `tls_layer` implemented with `asio::ssl::stream` over the session's own socket, so the
/// connection is upgraded in place. The certificate is checked against the configured
/// server name (never a name the server announced); SNI carries that name unless it is an IP
/// literal, which is then checked against the certificate's IP addresses instead.
class openssl_layer final : public tls_layer {
 public:
  openssl_layer(std::shared_ptr<asio::ssl::context> context, asio::ip::tcp::socket& socket,
                std::string server_name, tls_verify verify,
                std::shared_ptr<const tls_peer_policy> policy = nullptr)
      : context_(std::move(context)),
        stream_(socket, *context_),
        server_name_(std::move(server_name)),
        verify_(policy ? policy->verify : verify),
        policy_(std::move(policy)) {
    if (policy_ && !policy_->tlsa.empty() && !policy_->names.empty())
      server_name_ = policy_->names.front();  // DANE: the TLSA base domain (RFC 7672 §8.1)
    else if (policy_ && !policy_->server_name.empty()) server_name_ = policy_->server_name;
    else if (policy_ && !policy_->names.empty()) server_name_ = policy_->names.front();
  }

  asio::awaitable<std::error_code> handshake() override {
    using asio::experimental::as_tuple;
    SSL* ssl = stream_.native_handle();
    std::error_code address_error;
    const auto address = asio::ip::make_address(server_name_, address_error);
    const bool literal = !address_error;
    if (!literal && !server_name_.empty()) {
      SSL_set_tlsext_host_name(ssl, server_name_.c_str());
      sni_ = server_name_;
    }
    if (policy_ && !policy_->tlsa.empty()) {
      if (!setup_dane(ssl)) co_return make_error_code(errc::tls_handshake_failed);
    } else {
      stream_.set_verify_mode(verify_ == tls_verify::none ? asio::ssl::verify_none
                                                          : asio::ssl::verify_peer);
    }
    if (dane_) {
      // RFC 7672 §3.2: names are checked by OpenSSL for DANE-TA only (set by setup_dane).
    } else if (verify_ == tls_verify::host && policy_ && policy_->names.size() > 1) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      for (const auto& name : policy_->names)
        if (SSL_add1_host(ssl, name.c_str()) != 1)
          co_return make_error_code(errc::tls_handshake_failed);
    } else if (verify_ == tls_verify::host) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int set = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, server_name_.c_str())
                              : X509_VERIFY_PARAM_set1_host(param, server_name_.c_str(), 0);
      if (set != 1 || server_name_.empty()) co_return make_error_code(errc::tls_handshake_failed);
    }
    (void)address;
    auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::client,
                                                 as_tuple(asio::use_awaitable));
    if (!ec) {
      active_ = true;
      co_return ec;
    }
    if (ec == asio::error::operation_aborted) co_return ec;
    const long verdict = SSL_get_verify_result(ssl);
    if ((dane_ || verify_ != tls_verify::none) && verdict != X509_V_OK)
      co_return make_error_code(errc::tls_certificate_rejected);
    co_return make_error_code(errc::tls_handshake_failed);
  }

  asio::awaitable<io_result> read_some(asio::mutable_buffer buffer) override {
    auto [ec, n] =
        co_await stream_.async_read_some(buffer, asio::experimental::as_tuple(asio::use_awaitable));
    // A close without close_notify is how most SMTP servers end; read it as end of stream.
    if (ec == asio::ssl::error::stream_truncated) ec = asio::error::eof;
    co_return io_result{ec, n};
  }

  asio::awaitable<io_result> write(asio::const_buffer buffer) override {
    auto [ec, n] = co_await asio::async_write(stream_, buffer,
                                              asio::experimental::as_tuple(asio::use_awaitable));
    co_return io_result{ec, n};
  }

  tls_status status() const override {
    SSL* ssl = const_cast<asio::ssl::stream<asio::ip::tcp::socket&>&>(stream_).native_handle();
    tls_status st;
    st.active = active_;
    st.server_name = sni_;
    const long verdict = SSL_get_verify_result(ssl);
    st.verify_result = verdict == X509_V_OK ? "ok" : X509_verify_cert_error_string(verdict);
    // Under `none` nothing was checked (not the name, and a failed chain did not stop the
    // handshake): the certificate is never reported verified; `verify_result` still says what
    // OpenSSL found of the chain.
    st.verified = active_ && (dane_ || verify_ != tls_verify::none) && verdict == X509_V_OK;
    if (st.verified && dane_) {
      std::uint8_t usage = 0, selector = 0, matching = 0;
      if (SSL_get0_dane_tlsa(ssl, &usage, &selector, &matching, nullptr, nullptr) >= 0)
        st.authentication = usage == 3 ? "dane-ee" : usage == 2 ? "dane-ta" : "none";
    } else if (st.verified && verify_ == tls_verify::host) {
      st.authentication = "pkix";
    }
    if (active_) {
      st.version = SSL_get_version(ssl);
      if (const char* cipher = SSL_get_cipher_name(ssl)) st.cipher = cipher;
    }
    return st;
  }

 private:
  // OpenSSL's DANE (RFC 7671): the TLSA base domain and the MX host name as reference names
  // for DANE-TA, no name checks for DANE-EE (RFC 7672 §3.2.1), each record added.
  bool setup_dane(SSL* ssl) {
    if (SSL_CTX_dane_enable(SSL_get_SSL_CTX(ssl)) <= 0) return false;
    const std::string& base = policy_->tlsa_base.empty() ? server_name_ : policy_->tlsa_base;
    if (SSL_dane_enable(ssl, base.c_str()) <= 0) return false;
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    for (const auto& name : policy_->names)
      if (name != base && SSL_add1_host(ssl, name.c_str()) != 1) return false;
    int usable = 0;
    for (const auto& r : policy_->tlsa) {
      const int added =
          SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.matching,
                            reinterpret_cast<const unsigned char*>(r.data.data()), r.data.size());
      if (added < 0) return false;
      if (added > 0) ++usable;
    }
    if (usable == 0) return false;
    SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
    dane_ = true;
    return true;
  }

  std::shared_ptr<asio::ssl::context> context_;
  asio::ssl::stream<asio::ip::tcp::socket&> stream_;
  std::string server_name_;
  std::string sni_;
  tls_verify verify_;
  std::shared_ptr<const tls_peer_policy> policy_;
  bool dane_ = false;
  bool active_ = false;
};

}  // namespace smtpipe

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_OPENSSL_TLS_LAYER_HPP
