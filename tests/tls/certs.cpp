// Checks the certificates made by tests/tls/make_certs.sh: each file parses with OpenSSL and has
// the property the TLS tests rely on. The directory is $SMTPIPE_TEST_CERTS, else the build
// directory Meson generated them into (SMTPIPE_TEST_CERTS_DIR).
#include <doctest/doctest.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <memory>
#include <string>

#ifndef SMTPIPE_TEST_CERTS_DIR
#define SMTPIPE_TEST_CERTS_DIR ""
#endif

namespace {

struct x509_free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
struct pkey_free {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using x509_ptr = std::unique_ptr<X509, x509_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

std::string path(const std::string& name) {
  const char* env = std::getenv("SMTPIPE_TEST_CERTS");
  const std::string dir = env != nullptr && *env != '\0' ? env : SMTPIPE_TEST_CERTS_DIR;
  return dir + "/" + name;
}

x509_ptr load_cert(const std::string& name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path(name).c_str(), "r"), &BIO_free);
  REQUIRE_MESSAGE(bio != nullptr, "cannot open " << path(name));
  x509_ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE_MESSAGE(cert != nullptr, "cannot parse " << path(name));
  return cert;
}

pkey_ptr load_key(const std::string& name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path(name).c_str(), "r"), &BIO_free);
  REQUIRE_MESSAGE(bio != nullptr, "cannot open " << path(name));
  pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE_MESSAGE(key != nullptr, "cannot parse " << path(name));
  return key;
}

// Chain verification of `leaf` against the single trust anchor `anchor`, for `purpose`
// (X509_PURPOSE_SSL_SERVER / _CLIENT); X509_V_OK or OpenSSL's error.
int chain_error(X509* leaf, X509* anchor, int purpose = X509_PURPOSE_SSL_SERVER) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  REQUIRE(store != nullptr);
  REQUIRE(X509_STORE_add_cert(store.get(), anchor) == 1);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      &X509_STORE_CTX_free);
  REQUIRE(ctx != nullptr);
  REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) == 1);
  REQUIRE(X509_STORE_CTX_set_purpose(ctx.get(), purpose) == 1);
  const int ok = X509_verify_cert(ctx.get());
  const int err = X509_STORE_CTX_get_error(ctx.get());
  CHECK((ok == 1) == (err == X509_V_OK));
  return err;
}

bool signed_by(X509* cert, X509* issuer) {
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  REQUIRE(key != nullptr);
  return X509_verify(cert, key) == 1;
}

bool names_host(X509* cert, const char* host) {
  return X509_check_host(cert, host, 0, 0, nullptr) == 1;
}

bool names_ip(X509* cert, const char* ip) { return X509_check_ip_asc(cert, ip, 0) == 1; }

bool expired(X509* cert) { return X509_cmp_current_time(X509_get0_notAfter(cert)) < 0; }

void check_key_pair(const std::string& stem) {
  const x509_ptr cert = load_cert(stem + ".crt");
  const pkey_ptr key = load_key(stem + ".key");
  CHECK_MESSAGE(X509_check_private_key(cert.get(), key.get()) == 1, stem);
  CHECK(EVP_PKEY_is_a(key.get(), "EC"));
  CHECK(EVP_PKEY_get_bits(key.get()) == 256);
}

}  // namespace

TEST_CASE("test certificates: every key matches its certificate [smtpipe][certs]") {
  for (const char* stem : {"ca", "unknown-ca", "server", "selfsigned", "untrusted", "wronghost",
                           "expired", "client", "badsig"})
    check_key_pair(stem);
}

TEST_CASE("test certificates: the test CA never issues one serial number twice [smtpipe][certs]") {
  const char* issued[] = {"server.crt", "wronghost.crt", "expired.crt", "client.crt"};
  for (const char* a : issued)
    for (const char* b : issued) {
      if (a == b) continue;
      CAPTURE(a);
      CAPTURE(b);
      CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(load_cert(a).get()),
                             X509_get0_serialNumber(load_cert(b).get())) != 0);
    }
}

TEST_CASE("test certificates: the CAs are self-signed CAs [smtpipe][certs]") {
  for (const char* name : {"ca.crt", "unknown-ca.crt"}) {
    const x509_ptr ca = load_cert(name);
    CHECK(X509_check_ca(ca.get()) >= 1);
    CHECK(signed_by(ca.get(), ca.get()));
    CHECK_FALSE(expired(ca.get()));
  }
}

TEST_CASE(
    "test certificates: the good server certificate verifies for localhost and 127.0.0.1 "
    "[smtpipe][certs]") {
  const x509_ptr ca = load_cert("ca.crt");
  const x509_ptr server = load_cert("server.crt");
  CHECK(chain_error(server.get(), ca.get()) == X509_V_OK);
  CHECK(names_host(server.get(), "localhost"));
  CHECK(names_ip(server.get(), "127.0.0.1"));
  CHECK_FALSE(names_host(server.get(), "mx.example.org"));
  CHECK(X509_check_ca(server.get()) == 0);
}

TEST_CASE("test certificates: self-signed localhost is not trusted [smtpipe][certs]") {
  const x509_ptr ca = load_cert("ca.crt");
  const x509_ptr cert = load_cert("selfsigned.crt");
  CHECK(signed_by(cert.get(), cert.get()));
  CHECK(names_host(cert.get(), "localhost"));
  CHECK(chain_error(cert.get(), ca.get()) == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
}

TEST_CASE("test certificates: a certificate from an unknown CA [smtpipe][certs]") {
  const x509_ptr ca = load_cert("ca.crt");
  const x509_ptr unknown = load_cert("unknown-ca.crt");
  const x509_ptr cert = load_cert("untrusted.crt");
  CHECK(names_host(cert.get(), "localhost"));
  CHECK(chain_error(cert.get(), ca.get()) == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  CHECK(chain_error(cert.get(), unknown.get()) == X509_V_OK);  // well-formed otherwise
}

TEST_CASE(
    "test certificates: the wrong-host certificate names mx.example.org only "
    "[smtpipe][certs]") {
  const x509_ptr ca = load_cert("ca.crt");
  const x509_ptr cert = load_cert("wronghost.crt");
  CHECK(chain_error(cert.get(), ca.get()) == X509_V_OK);
  CHECK(names_host(cert.get(), "mx.example.org"));
  CHECK_FALSE(names_host(cert.get(), "localhost"));
  CHECK_FALSE(names_ip(cert.get(), "127.0.0.1"));
}

TEST_CASE("test certificates: the expired certificate [smtpipe][certs]") {
  const x509_ptr ca = load_cert("ca.crt");
  const x509_ptr cert = load_cert("expired.crt");
  CHECK(expired(cert.get()));
  CHECK(X509_cmp_current_time(X509_get0_notBefore(cert.get())) < 0);
  CHECK(signed_by(cert.get(), ca.get()));
  CHECK(names_host(cert.get(), "localhost"));
  CHECK(chain_error(cert.get(), ca.get()) == X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_CASE(
    "test certificates: the client certificate is for client authentication "
    "[smtpipe][certs]") {
  const x509_ptr ca = load_cert("ca.crt");
  const x509_ptr cert = load_cert("client.crt");
  CHECK(chain_error(cert.get(), ca.get(), X509_PURPOSE_SSL_CLIENT) == X509_V_OK);
  CHECK(chain_error(cert.get(), ca.get(), X509_PURPOSE_SSL_SERVER) == X509_V_ERR_INVALID_PURPOSE);
  CHECK((X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT) != 0);
}

TEST_CASE(
    "test certificates: the bad-signature certificate parses but does not verify "
    "[smtpipe][certs]") {
  const x509_ptr ca = load_cert("ca.crt");
  const x509_ptr server = load_cert("server.crt");
  const x509_ptr cert = load_cert("badsig.crt");
  CHECK(names_host(cert.get(), "localhost"));
  CHECK(names_ip(cert.get(), "127.0.0.1"));
  CHECK_FALSE(expired(cert.get()));
  CHECK(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca.get())) == 0);
  CHECK_FALSE(signed_by(cert.get(), ca.get()));
  CHECK(chain_error(cert.get(), ca.get()) == X509_V_ERR_CERT_SIGNATURE_FAILURE);
  // Same to-be-signed part as the good certificate: only the signature differs.
  CHECK(X509_cmp(cert.get(), server.get()) != 0);
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(cert.get()),
                         X509_get0_serialNumber(server.get())) == 0);
  CHECK(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_subject_name(server.get())) == 0);
}
