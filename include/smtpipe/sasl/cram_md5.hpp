// smtpipe/sasl/cram_md5.hpp - The CRAM-MD5 SASL mechanism (RFC 2195), with OpenSSL.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SASL_CRAM_MD5_HPP
#define SMTPIPE_SASL_CRAM_MD5_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"
#include "smtpipe/sasl/crypto.hpp"
#include "smtpipe/sasl/mechanism.hpp"
#include "smtpipe/sasl/registry.hpp"

#include <string>
#include <string_view>
#include <system_error>

namespace smtpipe {

/// CRAM-MD5 (RFC 2195): not client-first. The server's one challenge (a msg-id such as
/// `<1896.697170952@postoffice.reston.mci.net>`) is answered with
/// `user SP hex(HMAC-MD5(secret, challenge))`, lowercase hex. Kept for old servers: MD5 is
/// broken, and the server must store the password in a recoverable form. No server
/// verification.
///
/// An empty challenge, or any challenge after the response, is errc::sasl_bad_challenge.
/// Refused with errc::invalid_argument: an empty user, a NUL, CR or LF in it, and a non-empty
/// `authzid` (CRAM-MD5 has none). If OpenSSL cannot compute HMAC-MD5 (a FIPS-only
/// configuration), step() returns errc::auth_not_available. The password is wiped after use.
class sasl_cram_md5 final : public sasl_mechanism {
 public:
  explicit sasl_cram_md5(const sasl_credentials& credentials)
      : user_(credentials.user), secret_(credentials.secret), valid_(credentials.authzid.empty()) {}
  sasl_cram_md5(const sasl_cram_md5&) = delete;
  sasl_cram_md5& operator=(const sasl_cram_md5&) = delete;
  ~sasl_cram_md5() override { detail::cleanse(secret_); }

  std::string_view name() const noexcept override { return "CRAM-MD5"; }
  bool client_first() const noexcept override { return false; }
  bool server_verified() const noexcept override { return true; }
  bool expects_challenge() const noexcept override { return state_ == state::initial; }

  std::error_code step(std::string_view challenge, std::string& response) override {
    response.clear();
    if (state_ != state::initial || challenge.empty()) return fail(errc::sasl_bad_challenge);
    if (!valid_ || user_.empty() ||
        user_.find_first_of(std::string_view("\0\r\n", 3)) != user_.npos)
      return fail(errc::invalid_argument);
    detail::md5_digest mac{};
    const bool ok = detail::hmac_md5(secret_, challenge, mac);
    detail::cleanse(secret_);
    if (!ok) {
      detail::cleanse(mac);
      return fail(errc::auth_not_available);
    }
    constexpr char hex[] = "0123456789abcdef";
    response.reserve(user_.size() + 1 + 2 * mac.size());
    response.append(user_).append(1, ' ');
    for (const unsigned char c : mac) {
      response += hex[c >> 4];
      response += hex[c & 0x0f];
    }
    detail::cleanse(mac);
    state_ = state::done;
    return {};
  }

 private:
  enum class state { initial, done, failed };

  std::error_code fail(errc e) noexcept {
    detail::cleanse(secret_);
    state_ = state::failed;
    return e;
  }

  std::string user_;
  std::string secret_;
  bool valid_;
  state state_ = state::initial;
};

namespace detail {
inline const bool sasl_cram_md5_registered =
    sasl_registry::add({"CRAM-MD5", 3, &make_sasl<sasl_cram_md5>});
}  // namespace detail

}  // namespace smtpipe

#endif  // !SMTPIPE_SASL_CRAM_MD5_HPP
