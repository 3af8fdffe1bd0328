// smtpipe/sasl/login.hpp - The LOGIN SASL mechanism (draft-murchison-sasl-login).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SASL_LOGIN_HPP
#define SMTPIPE_SASL_LOGIN_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"
#include "smtpipe/sasl/mechanism.hpp"
#include "smtpipe/sasl/registry.hpp"

#include <string>
#include <string_view>
#include <system_error>

namespace smtpipe {

/// LOGIN (draft-murchison-sasl-login-00): not client-first. The first server challenge is
/// answered with the user name, the second with the password, whatever their text ("Username:"
/// and "Password:" by custom, but servers differ). A third challenge is
/// errc::sasl_bad_challenge. Only over TLS: the password travels in the clear.
///
/// LOGIN cannot carry an authorisation identity: a non-empty `authzid` is refused, as are an
/// empty user and a NUL in the user or password (errc::invalid_argument), before anything is
/// sent. The password is wiped as soon as it has been produced.
class sasl_login final : public sasl_mechanism {
 public:
  explicit sasl_login(const sasl_credentials& credentials)
      : user_(credentials.user), secret_(credentials.secret), valid_(credentials.authzid.empty()) {}
  sasl_login(const sasl_login&) = delete;
  sasl_login& operator=(const sasl_login&) = delete;
  ~sasl_login() override { detail::wipe(secret_); }

  std::string_view name() const noexcept override { return "LOGIN"; }
  bool client_first() const noexcept override { return false; }
  bool server_verified() const noexcept override { return true; }
  bool expects_challenge() const noexcept override {
    return state_ == state::want_user || state_ == state::want_password;
  }

  std::error_code step(std::string_view challenge, std::string& response) override {
    (void)challenge;  // the prompt's text means nothing
    response.clear();
    switch (state_) {
      case state::want_user:
        if (!valid_ || user_.empty() || user_.find('\0') != user_.npos ||
            secret_.find('\0') != secret_.npos)
          return fail(errc::invalid_argument);
        response = user_;
        state_ = state::want_password;
        return {};
      case state::want_password:
        response.reserve(secret_.size());
        response.append(secret_);
        detail::wipe(secret_);
        state_ = state::done;
        return {};
      case state::done:
      case state::failed: break;
    }
    return fail(errc::sasl_bad_challenge);
  }

 private:
  enum class state { want_user, want_password, done, failed };

  std::error_code fail(errc e) noexcept {
    detail::wipe(secret_);
    state_ = state::failed;
    return e;
  }

  std::string user_;
  std::string secret_;
  bool valid_;
  state state_ = state::want_user;
};

}  // namespace smtpipe

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/sasl/impl/login.hpp"
#endif

#endif  // !SMTPIPE_SASL_LOGIN_HPP
