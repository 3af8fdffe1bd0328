// smtpipe/sasl/plain.hpp - The PLAIN SASL mechanism (RFC 4616).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SASL_PLAIN_HPP
#define SMTPIPE_SASL_PLAIN_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"
#include "smtpipe/sasl/mechanism.hpp"
#include "smtpipe/sasl/registry.hpp"

#include <string>
#include <string_view>
#include <system_error>

namespace smtpipe {

/// PLAIN (RFC 4616): one client message, `authzid NUL authcid NUL passwd`. Client-first; a
/// server that sends an empty challenge first (AUTH without an initial response) gets the same
/// message. Only over TLS: the password travels in the clear.
///
/// Refused with errc::invalid_argument: a NUL in any field, an empty user or password
/// (RFC 4616 §2: `1*SAFE`). Any server challenge after the message, or a non-empty one before
/// it, is errc::sasl_bad_challenge. The password is wiped as soon as the message is built.
class sasl_plain final : public sasl_mechanism {
 public:
  explicit sasl_plain(const sasl_credentials& credentials)
      : authzid_(credentials.authzid), user_(credentials.user), secret_(credentials.secret) {}
  sasl_plain(const sasl_plain&) = delete;
  sasl_plain& operator=(const sasl_plain&) = delete;
  ~sasl_plain() override { detail::wipe(secret_); }

  std::string_view name() const noexcept override { return "PLAIN"; }
  bool client_first() const noexcept override { return true; }
  bool server_verified() const noexcept override { return true; }
  bool expects_challenge() const noexcept override { return state_ == state::initial; }

  std::error_code step(std::string_view challenge, std::string& response) override {
    response.clear();
    if (state_ != state::initial || !challenge.empty()) return fail(errc::sasl_bad_challenge);
    const auto has_nul = [](std::string_view s) { return s.find('\0') != s.npos; };
    if (has_nul(authzid_) || has_nul(user_) || has_nul(secret_) || user_.empty() || secret_.empty())
      return fail(errc::invalid_argument);
    response.reserve(authzid_.size() + user_.size() + secret_.size() + 2);
    response.append(authzid_).append(1, '\0').append(user_).append(1, '\0').append(secret_);
    detail::wipe(secret_);
    state_ = state::done;
    return {};
  }

 private:
  enum class state { initial, done, failed };

  std::error_code fail(errc e) noexcept {
    detail::wipe(secret_);
    state_ = state::failed;
    return e;
  }

  std::string authzid_;
  std::string user_;
  std::string secret_;
  state state_ = state::initial;
};

}  // namespace smtpipe

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/sasl/impl/plain.hpp"
#endif

#endif  // !SMTPIPE_SASL_PLAIN_HPP
