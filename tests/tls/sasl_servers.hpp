// tests/tls/sasl_servers.hpp - The server side of LOGIN, CRAM-MD5 and SCRAM-SHA-256 for the
// scripted server: each checks the client's answers for real (RFC 2195, RFC 5802 §3 formulas,
// computed here from OpenSSL primitives, never with the client's mechanism classes).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TESTS_TLS_SASL_SERVERS_HPP
#define SMTPIPE_TESTS_TLS_SASL_SERVERS_HPP

#include "tls/tls_test.hpp"

#include <smtpipe/sasl/crypto.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace smtpipe::test {

using detail::hmac_md5;
using detail::hmac_sha256;
using detail::pbkdf2_hmac_sha256;
using detail::sha256;
using detail::sha256_digest;

inline std::string as_string(const sha256_digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

/// LOGIN: "Username:", "Password:", then 235 or 535.
struct login_server {
  std::string user = std::string(test_user), password = std::string(test_secret);
  std::string got_user, got_password;

  std::string on_auth(const std::string&) { return "334 " + b64("Username:") + "\r\n"; }
  std::string on_user(const std::string& line) {
    got_user = unb64(line);
    return "334 " + b64("Password:") + "\r\n";
  }
  std::string on_password(const std::string& line) {
    got_password = unb64(line);
    return got_user == user && got_password == password ? "235 2.7.0 ok\r\n"
                                                        : "535 5.7.8 bad credentials\r\n";
  }
};

/// CRAM-MD5 (RFC 2195): a challenge, then "user hex(HMAC-MD5(password, challenge))".
struct cram_md5_server {
  std::string user = std::string(test_user), password = std::string(test_secret);
  std::string challenge = "<1896.697170952@postoffice.example.net>";
  std::string got;

  std::string on_auth(const std::string&) { return "334 " + b64(challenge) + "\r\n"; }
  std::string on_response(const std::string& line) {
    got = unb64(line);
    detail::md5_digest mac{};
    REQUIRE(hmac_md5(password, challenge, mac));
    static constexpr char hex[] = "0123456789abcdef";
    std::string expected = user + ' ';
    for (unsigned char c : mac) {
      expected += hex[c >> 4];
      expected += hex[c & 15];
    }
    return got == expected ? "235 2.7.0 ok\r\n" : "535 5.7.8 bad credentials\r\n";
  }
};

/// SCRAM-SHA-256 (RFC 5802 §3, RFC 7677) as a server with the password in the clear:
/// server-first, then the proof checked against StoredKey, then v=ServerSignature (wrong on
/// purpose when `forge_signature`; in the 235 reply itself when `signature_in_235`).
struct scram_server {
  std::string user = std::string(test_user), password = std::string(test_secret);
  std::string salt = "salt of the test";
  unsigned long iterations = 4096;
  bool forge_signature = false;
  bool signature_in_235 = false;

  std::string client_first_bare, server_first, nonce;
  bool proof_ok = false;
  std::string server_signature;

  // "AUTH SCRAM-SHA-256 <client-first>" (the initial response).
  std::string on_auth(const std::string& line) {
    const std::string client_first = unb64(line.substr(line.rfind(' ') + 1));
    // gs2-header "n,," (no channel binding, no authzid), then the bare message.
    if (client_first.rfind("n,,", 0) != 0) return "501 5.5.2 bad gs2 header\r\n";
    client_first_bare = client_first.substr(3);
    if (client_first_bare.rfind("n=" + user + ",r=", 0) != 0) return "535 5.7.8 unknown user\r\n";
    nonce = client_first_bare.substr(user.size() + 5) + "server-nonce-part";
    server_first = "r=" + nonce + ",s=" + b64(salt) + ",i=" + std::to_string(iterations);
    return "334 " + b64(server_first) + "\r\n";
  }

  // "c=biws,r=<nonce>,p=<proof>".
  std::string on_final(const std::string& line) {
    const std::string client_final = unb64(line);
    const std::size_t p = client_final.find(",p=");
    if (p == std::string::npos) return "501 5.5.2 no proof\r\n";
    const std::string without_proof = client_final.substr(0, p);
    if (without_proof != "c=" + b64("n,,") + ",r=" + nonce) return "535 5.7.8 bad nonce\r\n";
    const std::string proof = unb64(client_final.substr(p + 3));
    const std::string auth_message = client_first_bare + ',' + server_first + ',' + without_proof;

    sha256_digest salted{}, client_key{}, stored_key{}, client_signature{}, server_key{},
        signature{};
    REQUIRE(pbkdf2_hmac_sha256(password, salt, iterations, salted));
    REQUIRE(hmac_sha256(as_string(salted), "Client Key", client_key));
    REQUIRE(sha256(as_string(client_key), stored_key));
    REQUIRE(hmac_sha256(as_string(stored_key), auth_message, client_signature));
    // ClientKey = ClientProof XOR ClientSignature; the proof holds when H(ClientKey) = StoredKey.
    if (proof.size() != client_signature.size()) return "535 5.7.8 bad proof\r\n";
    std::string recovered(proof.size(), '\0');
    for (std::size_t i = 0; i < proof.size(); ++i)
      recovered[i] = static_cast<char>(static_cast<unsigned char>(proof[i]) ^ client_signature[i]);
    sha256_digest recovered_stored{};
    REQUIRE(sha256(recovered, recovered_stored));
    proof_ok = recovered_stored == stored_key;
    if (!proof_ok) return "535 5.7.8 authentication failed\r\n";

    REQUIRE(hmac_sha256(as_string(salted), "Server Key", server_key));
    REQUIRE(hmac_sha256(as_string(server_key), auth_message, signature));
    if (forge_signature) signature[0] ^= 1;
    server_signature = "v=" + b64(as_string(signature));
    if (signature_in_235) return "235 " + b64(server_signature) + "\r\n";
    return "334 " + b64(server_signature) + "\r\n";
  }

  // The client's empty answer to server-final.
  std::string on_done(const std::string& line) {
    return line.empty() ? "235 2.7.0 ok\r\n" : "501 5.5.2 expected an empty response\r\n";
  }
};

}  // namespace smtpipe::test

#endif  // !SMTPIPE_TESTS_TLS_SASL_SERVERS_HPP
