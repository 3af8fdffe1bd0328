// smtpipe/sasl/xoauth2.hpp - Google's XOAUTH2 SASL mechanism (OAuth 2.0 bearer token).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SASL_XOAUTH2_HPP
#define SMTPIPE_SASL_XOAUTH2_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"
#include "smtpipe/sasl/mechanism.hpp"
#include "smtpipe/sasl/registry.hpp"

#include <string>
#include <string_view>
#include <system_error>

namespace smtpipe {

/// XOAUTH2 as Google documents it: client-first, one message
/// `user=<user>^Aauth=Bearer <token>^A^A` (^A is the octet 0x01), `secret` being the access
/// token. When the server refuses the token it sends a 334 challenge carrying a JSON error
/// (status, schemes, scope) instead of 535; the client must answer it with an empty response,
/// and the server then sends the final 535. So, once the message is sent, one non-empty
/// challenge is answered with an empty response (`error_details()` keeps it); an empty one, or
/// any challenge after that, is errc::sasl_bad_challenge.
///
/// Refused with errc::invalid_argument: ^A or NUL in the user or token, an empty user or token,
/// and a non-empty `authzid` (XOAUTH2 has none). The token is wiped once the message is built.
class sasl_xoauth2 final : public sasl_mechanism {
 public:
  explicit sasl_xoauth2(const sasl_credentials& credentials)
      : user_(credentials.user), token_(credentials.secret), valid_(credentials.authzid.empty()) {}
  sasl_xoauth2(const sasl_xoauth2&) = delete;
  sasl_xoauth2& operator=(const sasl_xoauth2&) = delete;
  ~sasl_xoauth2() override { detail::wipe(token_); }

  std::string_view name() const noexcept override { return "XOAUTH2"; }
  bool client_first() const noexcept override { return true; }
  bool server_verified() const noexcept override { return true; }
  bool expects_challenge() const noexcept override {
    return state_ == state::initial || state_ == state::sent;
  }

  /// The server's error challenge (raw octets, JSON by Google's documentation), if one came.
  std::string_view error_details() const noexcept { return error_details_; }

  std::error_code step(std::string_view challenge, std::string& response) override {
    response.clear();
    switch (state_) {
      case state::initial: {
        if (!challenge.empty()) return fail(errc::sasl_bad_challenge);
        const auto bad = [](std::string_view s) {
          return s.empty() || s.find_first_of(std::string_view("\x01\0", 2)) != s.npos;
        };
        if (!valid_ || bad(user_) || bad(token_)) return fail(errc::invalid_argument);
        constexpr std::string_view user_key = "user=", auth_key =
                                                           "\x01"
                                                           "auth=Bearer ";
        response.reserve(user_key.size() + user_.size() + auth_key.size() + token_.size() + 2);
        response.append(user_key).append(user_).append(auth_key).append(token_).append("\x01\x01");
        detail::wipe(token_);
        state_ = state::sent;
        return {};
      }
      case state::sent:
        if (challenge.empty()) return fail(errc::sasl_bad_challenge);
        error_details_.assign(challenge);
        state_ = state::done;  // the empty response; the server's 535 follows
        return {};
      case state::done:
      case state::failed: break;
    }
    return fail(errc::sasl_bad_challenge);
  }

 private:
  enum class state { initial, sent, done, failed };

  std::error_code fail(errc e) noexcept {
    detail::wipe(token_);
    state_ = state::failed;
    return e;
  }

  std::string user_;
  std::string token_;
  std::string error_details_;
  bool valid_;
  state state_ = state::initial;
};

}  // namespace smtpipe

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/sasl/impl/xoauth2.hpp"
#endif

#endif  // !SMTPIPE_SASL_XOAUTH2_HPP
