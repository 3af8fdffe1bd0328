// smtpipe/sasl/scram_sha256.hpp - The SCRAM-SHA-256 SASL mechanism (RFC 7677, RFC 5802),
// with OpenSSL.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SASL_SCRAM_SHA256_HPP
#define SMTPIPE_SASL_SCRAM_SHA256_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"
#include "smtpipe/protocol/base64.hpp"
#include "smtpipe/sasl/crypto.hpp"
#include "smtpipe/sasl/mechanism.hpp"
#include "smtpipe/sasl/registry.hpp"
#include "smtpipe/sasl/saslprep.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace smtpipe {

/// SCRAM-SHA-256 (RFC 7677) without channel binding (gs2 header `n,,` or `n,a=<authzid>,`).
/// Client-first; the exchange is
///
///     C: n,,n=<user>,r=<client nonce>                           (client-first)
///     S: r=<client nonce><server nonce>,s=<salt>,i=<iterations>  (server-first)
///     C: c=biws,r=<nonce>,p=<proof>                             (client-final)
///     S: v=<server signature>                                   (server-final)
///
/// then an empty response (the server-final message may instead come as the additional data
/// of the 235 reply, RFC 4954 §4: pass it to step() all the same and ignore the response).
/// `server_verified()` becomes true only when the server signature matched (compared in
/// constant time): a server that answers 235 before that has not proved it knows the
/// password, and the AUTH state must not trust it.
///
/// Policies:
/// - User, authzid and password go through `saslprep` (ASCII and Latin-1 only, see
///   protocol/saslprep.hpp); anything it refuses, an empty user, or a client nonce that is
///   empty or not printable ASCII without ',' is errc::invalid_argument at the first step.
///   `=` and `,` in names are escaped as `=3D` and `=2C`.
/// - server-first: the attributes r, s, i in this order (RFC 5802 §7); `r` must be printable,
///   start with our nonce and add a server part; `s` canonical base64, not empty; `i` a
///   positive decimal without leading zeros, at most `max_iterations` (RFC 7677 asks servers
///   for at least 4096; fewer is accepted, as the client cannot do better than the server's
///   stored key). A leading `m=` (RFC 5802: the client must fail) is refused; later
///   extensions `x=value` are ignored unless they reuse a SCRAM attribute name. Anything
///   else is errc::sasl_bad_challenge.
/// - server-final: `v=` with a 32-octet base64 signature, compared in constant time: a
///   mismatch is errc::sasl_server_not_verified; `e=<reason>` is errc::sasl_bad_challenge
///   (`server_error()` keeps the reason). Anything after is errc::sasl_bad_challenge.
/// - Secrets: the password is wiped as soon as the salted password is computed, and the
///   derived keys right after use; only the expected server signature is kept until the
///   server-final message. Buffers are wiped with OPENSSL_cleanse.
/// - OpenSSL failures (no random octets, no PBKDF2) are errc::auth_not_available.
class sasl_scram_sha256 final : public sasl_mechanism {
 public:
  /// Iteration counts above this are refused: a hostile server must not make the client
  /// spend unbounded CPU time in PBKDF2 (10 million iterations already take seconds; counts
  /// in use range from RFC 7677's 4096 to a few hundred thousand).
  static constexpr unsigned long max_iterations = 10'000'000;
  /// Random octets in a generated client nonce (base64-encoded: 32 characters, no ',').
  static constexpr std::size_t nonce_octets = 24;

  /// The client nonce is made from RAND_bytes at the first step.
  explicit sasl_scram_sha256(const sasl_credentials& credentials)
      : authzid_(credentials.authzid), user_(credentials.user), password_(credentials.secret) {}
  /// With a given client nonce: for tests and reproducible exchanges only.
  sasl_scram_sha256(const sasl_credentials& credentials, std::string client_nonce)
      : authzid_(credentials.authzid),
        user_(credentials.user),
        password_(credentials.secret),
        nonce_(std::move(client_nonce)),
        nonce_given_(true) {}
  sasl_scram_sha256(const sasl_scram_sha256&) = delete;
  sasl_scram_sha256& operator=(const sasl_scram_sha256&) = delete;
  ~sasl_scram_sha256() override {
    detail::cleanse(password_);
    detail::cleanse(server_signature_);
  }

  std::string_view name() const noexcept override { return "SCRAM-SHA-256"; }
  bool client_first() const noexcept override { return true; }
  bool server_verified() const noexcept override { return verified_; }
  bool expects_challenge() const noexcept override {
    return state_ == state::initial || state_ == state::sent_first || state_ == state::sent_final;
  }

  /// The `e=` value of a server-final error message, if one came (e.g. "invalid-proof").
  std::string_view server_error() const noexcept { return server_error_; }

  std::error_code step(std::string_view challenge, std::string& response) override {
    response.clear();
    std::error_code ec;
    switch (state_) {
      case state::initial:
        ec = challenge.empty() ? client_first_message(response) : errc::sasl_bad_challenge;
        break;
      case state::sent_first: ec = client_final_message(challenge, response); break;
      case state::sent_final: ec = verify_server_final(challenge); break;
      case state::verified:
      case state::failed: ec = errc::sasl_bad_challenge; break;
    }
    if (ec) {
      detail::cleanse(response);
      detail::cleanse(password_);
      state_ = state::failed;
    }
    return ec;
  }

 private:
  enum class state { initial, sent_first, sent_final, verified, failed };

  // printable = %x21-2B / %x2D-7E (RFC 5802 §7): the characters of a nonce.
  static constexpr bool is_printable(std::string_view s) noexcept {
    for (const char c : s)
      if (c < 0x21 || c > 0x7e || c == ',') return false;
    return true;
  }

  // saslname (RFC 5802 §5.1): "=" and "," escaped.
  static void append_saslname(std::string& out, std::string_view name) {
    for (const char c : name) {
      if (c == '=') out += "=3D";
      else if (c == ',') out += "=2C";
      else out += c;
    }
  }

  // Splits "a=value,b=value,..." one attribute at a time. An item that is not "x=..." (an
  // empty one included, e.g. after a trailing ',') comes out with the name '\0'.
  struct attributes {
    std::string_view rest;
    bool end = false;
    bool next(char& name, std::string_view& value) noexcept {
      if (end) return false;
      const std::size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      if (comma == std::string_view::npos) end = true;
      else rest.remove_prefix(comma + 1);
      const bool well_formed = item.size() >= 2 && item[1] == '=';
      name = well_formed ? item[0] : '\0';
      value = well_formed ? item.substr(2) : std::string_view{};
      return true;
    }
  };

  // The rest of a server message after its defined attributes: extensions ("x=value", x
  // alphabetic, value not empty, no NUL). SCRAM's own attribute names, and m, are refused.
  static bool extensions_ok(attributes attrs) noexcept {
    char n = 0;
    std::string_view v;
    while (attrs.next(n, v)) {
      if (!((n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z'))) return false;
      if (std::string_view("acimnprsv").find(n) != std::string_view::npos) return false;
      if (v.empty() || v.find('\0') != v.npos) return false;
    }
    return true;
  }

  std::error_code client_first_message(std::string& response) {
    std::string user;
    std::string authzid;
    if (saslprep(user_, user) || saslprep(authzid_, authzid) || user.empty())
      return errc::invalid_argument;
    std::string prepared;
    prepared.reserve(password_.size());
    if (saslprep(password_, prepared)) return errc::invalid_argument;
    detail::cleanse(password_);
    password_ = std::move(prepared);  // the cleansed buffer is released, `prepared`'s taken over
    if (!nonce_given_) {
      std::array<unsigned char, nonce_octets> random{};
      if (!detail::random_bytes(random.data(), random.size())) return errc::auth_not_available;
      base64_encode(std::string_view(reinterpret_cast<const char*>(random.data()), random.size()),
                    nonce_);
    }
    if (nonce_.empty() || !is_printable(nonce_)) return errc::invalid_argument;

    gs2_header_ = "n,";
    if (!authzid.empty()) {
      gs2_header_ += "a=";
      append_saslname(gs2_header_, authzid);
    }
    gs2_header_ += ',';
    client_first_bare_ = "n=";
    append_saslname(client_first_bare_, user);
    client_first_bare_ += ",r=";
    client_first_bare_ += nonce_;
    response = gs2_header_ + client_first_bare_;
    state_ = state::sent_first;
    return {};
  }

  // Parses i=: posit-number = %x31-39 *DIGIT, bounded.
  static bool parse_iterations(std::string_view v, unsigned long& out) noexcept {
    if (v.empty() || v[0] < '1' || v[0] > '9') return false;
    unsigned long n = 0;
    for (const char c : v) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + static_cast<unsigned long>(c - '0');
      if (n > max_iterations) return false;
    }
    out = n;
    return true;
  }

  std::error_code client_final_message(std::string_view server_first, std::string& response) {
    attributes attrs{server_first};
    char n = 0;
    std::string_view nonce, salt_b64, iter;
    if (!attrs.next(n, nonce) || n != 'r') return errc::sasl_bad_challenge;  // m= too
    if (!attrs.next(n, salt_b64) || n != 's') return errc::sasl_bad_challenge;
    if (!attrs.next(n, iter) || n != 'i') return errc::sasl_bad_challenge;
    if (!extensions_ok(attrs)) return errc::sasl_bad_challenge;
    if (nonce.size() <= nonce_.size() || nonce.substr(0, nonce_.size()) != nonce_ ||
        !is_printable(nonce))
      return errc::sasl_bad_challenge;
    std::string salt;
    if (base64_decode(salt_b64, salt) || salt.empty()) return errc::sasl_bad_challenge;
    unsigned long iterations = 0;
    if (!parse_iterations(iter, iterations)) return errc::sasl_bad_challenge;

    // RFC 5802 §3: SaltedPassword := Hi(Normalize(password), salt, i)
    //   ClientKey := HMAC(SaltedPassword, "Client Key"), StoredKey := H(ClientKey)
    //   AuthMessage := client-first-bare + "," + server-first + "," + client-final-without-proof
    //   ClientProof := ClientKey XOR HMAC(StoredKey, AuthMessage)
    //   ServerSignature := HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage)
    std::string without_proof = "c=";
    base64_encode(gs2_header_, without_proof);
    without_proof += ",r=";
    without_proof += nonce;
    std::string auth_message;
    auth_message.reserve(client_first_bare_.size() + server_first.size() + without_proof.size() +
                         2);
    auth_message.append(client_first_bare_).append(1, ',').append(server_first).append(1, ',');
    auth_message.append(without_proof);

    detail::sha256_digest salted{}, client_key{}, stored_key{}, signature{}, server_key{};
    const auto key = [](const detail::sha256_digest& d) {
      return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
    };
    bool ok = detail::pbkdf2_hmac_sha256(password_, salt, iterations, salted);
    detail::cleanse(password_);
    ok = ok && detail::hmac_sha256(key(salted), "Client Key", client_key) &&
         detail::hmac_sha256(key(salted), "Server Key", server_key) &&
         detail::sha256(key(client_key), stored_key) &&
         detail::hmac_sha256(key(stored_key), auth_message, signature) &&
         detail::hmac_sha256(key(server_key), auth_message, server_signature_);
    for (std::size_t k = 0; k < client_key.size(); ++k) client_key[k] ^= signature[k];  // proof
    if (ok) {
      response.reserve(without_proof.size() + 3 + base64_encoded_size(client_key.size()));
      response.append(without_proof).append(",p=");
      base64_encode(key(client_key), response);
    }
    detail::cleanse(salted);
    detail::cleanse(client_key);
    detail::cleanse(stored_key);
    detail::cleanse(signature);
    detail::cleanse(server_key);
    if (!ok) return errc::auth_not_available;
    state_ = state::sent_final;
    return {};
  }

  std::error_code verify_server_final(std::string_view server_final) {
    attributes attrs{server_final};
    char n = 0;
    std::string_view value;
    if (!attrs.next(n, value)) return errc::sasl_bad_challenge;
    if (n == 'e') {
      server_error_.assign(value);
      return errc::sasl_bad_challenge;
    }
    if (n != 'v' || !extensions_ok(attrs)) return errc::sasl_bad_challenge;
    std::string verifier;
    if (base64_decode(value, verifier) || verifier.size() != detail::sha256_size)
      return errc::sasl_bad_challenge;
    const bool match = detail::constant_time_equal(
        verifier, std::string_view(reinterpret_cast<const char*>(server_signature_.data()),
                                   server_signature_.size()));
    detail::cleanse(server_signature_);
    if (!match) return errc::sasl_server_not_verified;
    verified_ = true;  // stays true: a later protocol error does not undo the proof
    state_ = state::verified;
    return {};
  }

  std::string authzid_;
  std::string user_;
  std::string password_;
  std::string nonce_;
  bool nonce_given_ = false;
  std::string gs2_header_;
  std::string client_first_bare_;
  detail::sha256_digest server_signature_{};
  std::string server_error_;
  bool verified_ = false;
  state state_ = state::initial;
};

namespace detail {
inline const bool sasl_scram_sha256_registered =
    sasl_registry::add({"SCRAM-SHA-256", 4, &make_sasl<sasl_scram_sha256>});
}  // namespace detail

}  // namespace smtpipe

#endif  // !SMTPIPE_SASL_SCRAM_SHA256_HPP
