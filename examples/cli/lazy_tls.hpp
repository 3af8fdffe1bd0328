// cli/lazy_tls.hpp - An OpenSSL provider made on first use: no CA store loaded when TLS never
// starts. SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_LAZY_TLS_HPP
#define SMTPIPE_CLI_LAZY_TLS_HPP

#include <smtpipe.hpp>
#include <smtpipe/openssl.hpp>

#include <memory>
#include <string_view>
#include <system_error>

namespace smtpipe_cli {

/// Makes the OpenSSL provider (which loads the system's trusted certificates: tens of
/// milliseconds, more than sending a thousand messages) only when the session first starts
/// TLS, never for a server that offers no STARTTLS. Settings
/// that name files are loaded at once instead (cli/session.hpp), so that their errors are
/// reported before connecting; a failure here makes TLS fail (`not_supported`).
class lazy_openssl_provider : public smtpipe::tls_provider {
 public:
  explicit lazy_openssl_provider(smtpipe::tls_settings settings) : settings_(std::move(settings)) {}

  std::unique_ptr<smtpipe::tls_layer> wrap(asio::ip::tcp::socket& socket,
                                           std::string_view server_name) override {
    auto* p = get();
    return p ? p->wrap(socket, server_name) : nullptr;
  }
  std::shared_ptr<smtpipe::tls_provider> for_peer(const smtpipe::tls_peer_policy& policy) override {
    auto* p = get();
    return p ? p->for_peer(policy) : nullptr;
  }

 private:
  smtpipe::tls_provider* get() {
    if (!real_ && !failed_) failed_ = bool(smtpipe::make_openssl_provider(settings_, real_));
    return real_.get();
  }

  smtpipe::tls_settings settings_;
  std::shared_ptr<smtpipe::tls_provider> real_;
  bool failed_ = false;
};

}  // namespace smtpipe_cli

#endif  // !SMTPIPE_CLI_LAZY_TLS_HPP
