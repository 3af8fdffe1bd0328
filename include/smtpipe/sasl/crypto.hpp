// smtpipe/sasl/crypto.hpp - Thin OpenSSL 3 wrappers for the SASL mechanisms: HMAC, SHA-256,
// PBKDF2, random octets, constant-time comparison and cleansing.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SASL_CRYPTO_HPP
#define SMTPIPE_SASL_CRYPTO_HPP

#include "smtpipe/config.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>

#include <array>
#include <climits>
#include <cstddef>
#include <string>
#include <string_view>

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "smtpipe's OpenSSL-based headers (smtpipe/openssl.hpp) need OpenSSL 3.0 or later."
#endif

namespace smtpipe::detail {

inline constexpr std::size_t sha256_size = 32;
inline constexpr std::size_t md5_size = 16;

using sha256_digest = std::array<unsigned char, sha256_size>;
using md5_digest = std::array<unsigned char, md5_size>;

/// OPENSSL_cleanse on a range: stores the compiler cannot elide.
inline void cleanse(void* p, std::size_t n) noexcept {
  if (n != 0) OPENSSL_cleanse(p, n);
}

template <std::size_t N>
inline void cleanse(std::array<unsigned char, N>& a) noexcept {
  OPENSSL_cleanse(a.data(), N);
}

/// Cleanses the whole buffer of `s` (its capacity), then empties it.
inline void cleanse(std::string& s) noexcept {
  s.resize(s.capacity());  // within the capacity: never allocates
  cleanse(s.data(), s.size());
  s.clear();
}

/// HMAC of `data` under `key` with the digest named `digest` ("SHA256", "MD5") into `out`,
/// which must hold exactly the digest's size. False on any OpenSSL failure (e.g. MD5 not
/// available in a FIPS-only configuration); `out` is then unspecified.
template <std::size_t N>
inline bool hmac(const char* digest, std::string_view key, std::string_view data,
                 std::array<unsigned char, N>& out) noexcept {
  std::size_t written = 0;
  const unsigned char* r =
      EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
                out.size(), &written);
  return r != nullptr && written == N;
}

/// HMAC-SHA-256 (RFC 2104, FIPS 180-4).
inline bool hmac_sha256(std::string_view key, std::string_view data, sha256_digest& out) noexcept {
  return hmac("SHA256", key, data, out);
}

/// HMAC-MD5 (RFC 2104, RFC 1321), for CRAM-MD5 only.
inline bool hmac_md5(std::string_view key, std::string_view data, md5_digest& out) noexcept {
  return hmac("MD5", key, data, out);
}

/// SHA-256 of `data`.
inline bool sha256(std::string_view data, sha256_digest& out) noexcept {
  unsigned int written = 0;
  return EVP_Digest(data.data(), data.size(), out.data(), &written, EVP_sha256(), nullptr) == 1 &&
         written == sha256_size;
}

/// PBKDF2 (RFC 8018 §5.2) with HMAC-SHA-256 and a 32-octet output: SCRAM's Hi() (RFC 5802 §2.2).
/// `iterations` must be at least 1 and fit an int.
inline bool pbkdf2_hmac_sha256(std::string_view password, std::string_view salt,
                               unsigned long iterations, sha256_digest& out) noexcept {
  if (iterations == 0 || iterations > static_cast<unsigned long>(INT_MAX) ||
      password.size() > static_cast<std::size_t>(INT_MAX) ||
      salt.size() > static_cast<std::size_t>(INT_MAX))
    return false;
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                           reinterpret_cast<const unsigned char*>(salt.data()),
                           static_cast<int>(salt.size()), static_cast<int>(iterations),
                           EVP_sha256(), static_cast<int>(out.size()), out.data()) == 1;
}

/// `n` octets from OpenSSL's CSPRNG.
inline bool random_bytes(unsigned char* out, std::size_t n) noexcept {
  return n <= static_cast<std::size_t>(INT_MAX) && RAND_bytes(out, static_cast<int>(n)) == 1;
}

/// Compares `a` and `b` in time independent of their contents (their sizes are not secret).
inline bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace smtpipe::detail

#endif  // !SMTPIPE_SASL_CRYPTO_HPP
