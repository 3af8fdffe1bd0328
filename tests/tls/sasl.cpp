// Tests of the OpenSSL-based SASL mechanisms: smtpipe/sasl/cram_md5.hpp (RFC 2195),
// smtpipe/sasl/scram_sha256.hpp (RFC 7677, RFC 5802) and the wrappers of
// smtpipe/sasl/crypto.hpp.
//
// Vectors: the RFCs' published examples; the others (authzid, escaping, i=1, extensions) were
// computed with an independent model of RFC 5802 in Python's hashlib/hmac.
#include "support/sasl_checks.hpp"

#include <smtpipe/openssl.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <set>
#include <string>
#include <string_view>

using namespace std::literals;
using smtpipe::errc;
using smtpipe::sasl_credentials;
using smtpipe::sasl_scram_sha256;
using smtpipe::test::creds;

namespace {

template <std::size_t N>
std::string hex(const std::array<unsigned char, N>& a) {
  constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (const unsigned char c : a) {
    s += digits[c >> 4];
    s += digits[c & 0x0f];
  }
  return s;
}

// RFC 7677 section 3.
constexpr std::string_view rfc_nonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view rfc_client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view rfc_server_first =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view rfc_client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view rfc_server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

// A mechanism that has sent its client-first message with the RFC's nonce.
std::unique_ptr<sasl_scram_sha256> rfc_scram(std::string password = "pencil") {
  auto m = std::make_unique<sasl_scram_sha256>(creds("user", std::move(password)),
                                               std::string(rfc_nonce));
  std::string r;
  REQUIRE_FALSE(m->step("", r));
  REQUIRE(r == rfc_client_first);
  return m;
}

// The exchange has ended: not even the RFC's server-final message is taken any more.
void check_finished(smtpipe::sasl_mechanism& m) {
  smtpipe::test::check_finished(m, rfc_server_final);
}

void check_refused_input(smtpipe::sasl_mechanism& m, std::string_view challenge) {
  smtpipe::test::check_refused_input(m, challenge, rfc_server_final);
}

}  // namespace

// --- crypto.hpp ----------------------------------------------------------------------------------

TEST_CASE("crypto wrappers reproduce published test vectors [smtpipe]") {
  smtpipe::detail::sha256_digest d{};
  REQUIRE(smtpipe::detail::sha256("abc", d));  // FIPS 180-4 example
  CHECK(hex(d) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  REQUIRE(smtpipe::detail::hmac_sha256("Jefe", "what do ya want for nothing?", d));  // RFC 4231 2
  CHECK(hex(d) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  smtpipe::detail::md5_digest m{};
  REQUIRE(smtpipe::detail::hmac_md5("Jefe", "what do ya want for nothing?", m));  // RFC 2104
  CHECK(hex(m) == "750c783e6ab0b503eaa86e310a5db738");
  // RFC 7914 section 11, first 32 octets of each derived key.
  REQUIRE(smtpipe::detail::pbkdf2_hmac_sha256("passwd", "salt", 1, d));
  CHECK(hex(d) == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
  REQUIRE(smtpipe::detail::pbkdf2_hmac_sha256("Password", "NaCl", 80000, d));
  CHECK(hex(d) == "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56");
  CHECK_FALSE(smtpipe::detail::pbkdf2_hmac_sha256("p", "s", 0, d));
}

TEST_CASE("crypto helpers: random octets, constant-time comparison, cleansing [smtpipe]") {
  unsigned char a[32] = {}, b[32] = {};
  REQUIRE(smtpipe::detail::random_bytes(a, sizeof a));
  REQUIRE(smtpipe::detail::random_bytes(b, sizeof b));
  CHECK(std::string_view(reinterpret_cast<char*>(a), 32) !=
        std::string_view(reinterpret_cast<char*>(b), 32));
  CHECK(smtpipe::detail::constant_time_equal("abc", "abc"));
  CHECK_FALSE(smtpipe::detail::constant_time_equal("abc", "abd"));
  CHECK_FALSE(smtpipe::detail::constant_time_equal("abc", "abcd"));
  CHECK(smtpipe::detail::constant_time_equal("", ""));
  std::string secret = "a secret longer than the small-string buffer";
  smtpipe::detail::cleanse(secret);
  CHECK(secret.empty());
}

// --- CRAM-MD5 ------------------------------------------------------------------------------------

TEST_CASE("CRAM-MD5 reproduces the RFC 2195 example [smtpipe]") {
  smtpipe::sasl_cram_md5 m(creds("tim", "tanstaaftanstaaf"));
  CHECK(m.name() == "CRAM-MD5");
  CHECK_FALSE(m.client_first());
  CHECK(m.server_verified());
  CHECK(m.expects_challenge());
  std::string r;
  CHECK_FALSE(m.step("<1896.697170952@postoffice.reston.mci.net>", r));
  CHECK(r == "tim b913a602c7eda7a495b4e6e7334d3890");
  check_finished(m);
}

TEST_CASE("CRAM-MD5 refuses an empty challenge and bad credentials [smtpipe]") {
  {
    smtpipe::sasl_cram_md5 m(creds("tim", "tanstaaftanstaaf"));
    std::string r;
    CHECK(m.step("", r) == errc::sasl_bad_challenge);
    check_finished(m);
  }
  for (const auto& c : {creds("", "secret"), creds("tim", "secret", "admin"),
                        creds("tim\r\nQUIT", "secret"), creds("t\0im"s, "secret")}) {
    smtpipe::sasl_cram_md5 m(c);
    check_refused_input(m, "<1.2@example.org>");
  }
}

// --- SCRAM-SHA-256: the RFC exchange -------------------------------------------------------------

TEST_CASE("SCRAM-SHA-256 reproduces the RFC 7677 section 3 exchange [smtpipe]") {
  sasl_scram_sha256 m(creds("user", "pencil"), std::string(rfc_nonce));
  CHECK(m.name() == "SCRAM-SHA-256");
  CHECK(m.client_first());
  CHECK_FALSE(m.server_verified());
  CHECK(m.expects_challenge());
  std::string r;
  CHECK_FALSE(m.step("", r));
  CHECK(r == rfc_client_first);
  CHECK(m.expects_challenge());
  CHECK_FALSE(m.server_verified());
  CHECK_FALSE(m.step(rfc_server_first, r));
  CHECK(r == rfc_client_final);
  CHECK(m.expects_challenge());
  CHECK_FALSE(m.server_verified());  // not before the server-final message
  r = "stale";
  CHECK_FALSE(m.step(rfc_server_final, r));
  CHECK(r.empty());  // the empty response to a server-final 334
  CHECK(m.server_verified());
  check_finished(m);
  CHECK(m.server_verified());
}

TEST_CASE("SCRAM-SHA-256 applies SASLprep to the password [smtpipe]") {
  // SOFT HYPHEN maps to nothing: the RFC's proof for "pencil".
  auto m = rfc_scram(
      "pen\xc2\xad"
      "cil");
  std::string r;
  CHECK_FALSE(m->step(rfc_server_first, r));
  CHECK(r == rfc_client_final);
  CHECK_FALSE(m->step(rfc_server_final, r));
  CHECK(m->server_verified());
}

TEST_CASE("SCRAM-SHA-256 with escaping, a Latin-1 password and i=1 [smtpipe]") {
  // User "us=er,x", password "päss<NO-BREAK SPACE>word" (prepared to "päss word").
  sasl_scram_sha256 m(creds("us=er,x", "p\xc3\xa4ss\xc2\xa0word"), "fyko+d2lbbFgONRv9qkxdawL");
  std::string r;
  CHECK_FALSE(m.step("", r));
  CHECK(r == "n,,n=us=3Der=2Cx,r=fyko+d2lbbFgONRv9qkxdawL");
  CHECK_FALSE(m.step("r=fyko+d2lbbFgONRv9qkxdawLHJL9yUOC2a5l,s=QSXCR+Q6sek8bf92,i=1", r));
  CHECK(r ==
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawLHJL9yUOC2a5l,"
        "p=M52n5ZdRXFsvsX90JURnLwhBzW51VJu3PBQFmdTInpE=");
  CHECK_FALSE(m.step("v=1gZwSkTCkPKMFMUyr5IaXVKP3nqU+jeQT3dy6KvQTrI=", r));
  CHECK(m.server_verified());
}

TEST_CASE("SCRAM-SHA-256 sends an authzid in the gs2 header and in c= [smtpipe]") {
  sasl_scram_sha256 m(creds("user", "pencil", "admin=x"), std::string(rfc_nonce));
  std::string r;
  CHECK_FALSE(m.step("", r));
  CHECK(r == "n,a=admin=3Dx,n=user,r=rOprNGfwEbeRWgbNEkqO");
  CHECK_FALSE(m.step(rfc_server_first, r));
  CHECK(r ==
        "c=bixhPWFkbWluPTNEeCw=,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=WEwj9cfb5T/QDCobJfiU3aV6CzWyMVJwvhnSFBRxT2g=");
  CHECK_FALSE(m.step("v=LAk/TUl5paXpXYppzizOnNlo/YvtKw6OpCYXzEZdo8I=", r));
  CHECK(m.server_verified());
}

TEST_CASE(
    "SCRAM-SHA-256 ignores unknown server-first extensions (they enter AuthMessage) "
    "[smtpipe]") {
  auto m = rfc_scram();
  std::string r;
  CHECK_FALSE(m->step(std::string(rfc_server_first) + ",x=future", r));
  CHECK(r ==
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=Nc251ksP+aR38Y1jAsAKVZ4VVDR+legEjHa6J6u8mzk=");
  CHECK_FALSE(m->step("v=veXKIGVMicD8b7eadDHJR9lliUg+waARLh/x6cgckpg=,y=later", r));
  CHECK(m->server_verified());
}

TEST_CASE("SCRAM-SHA-256 makes a fresh random nonce by default [smtpipe]") {
  std::set<std::string> seen;
  for (int i = 0; i < 8; ++i) {
    sasl_scram_sha256 m(creds("user", "pencil"));
    std::string r;
    REQUIRE_FALSE(m.step("", r));
    REQUIRE(r.rfind("n,,n=user,r=", 0) == 0);
    const std::string nonce = r.substr(12);
    CHECK(nonce.size() == smtpipe::base64_encoded_size(sasl_scram_sha256::nonce_octets));
    CHECK(nonce.size() >= 24);  // at least 18 random octets
    CHECK(nonce.find_first_of(",= ") == std::string::npos);
    for (const char c : nonce) CHECK((c > 0x20 && c < 0x7f));
    seen.insert(nonce);
  }
  CHECK(seen.size() == 8);
}

// --- SCRAM-SHA-256: hostile servers and bad input ----------------------------------------------

TEST_CASE("SCRAM-SHA-256 refuses malformed or hostile server-first messages [smtpipe]") {
  const std::string_view salt_i = ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  const std::string n = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const std::string bad[] = {
      "r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" + std::string(salt_i),  // prefix
      "r=OprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" + std::string(salt_i),
      "r=rOprNGfwEbeRWgbNEkqO" + std::string(salt_i),      // no server part
      "r=rOprNGfwEbe" + std::string(salt_i),               // shorter than ours
      "r=rOprNGfwEbeRWgbNEkqO\x7f" + std::string(salt_i),  // not printable
      "r=rOprNGfwEbeRWgbNEkqO srv" + std::string(salt_i),
      n + ",s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096",    // bad base64
      n + ",s=W22ZaJ0SNY7soEsUEjb6gQ,i=4096",     // unpadded
      n + ",s=W22ZaJ0SNY7so EsUEjb6gQ==,i=4096",  // whitespace
      n + ",s=,i=4096",                           // empty salt
      n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",      // iterations 0
      n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1",
      n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=04096",  // leading zero
      n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=+4096",
      n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096x",
      n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=",
      n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=10000001",                 // above max_iterations
      n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4294967296",               // 2^32
      n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999999",  // overflows any integer
      n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==",                            // missing i
      n + ",i=4096",                                                // missing s
      std::string(salt_i.substr(1)) + "," + n,                      // out of order
      "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",                          // missing r
      "m=ext," + n + std::string(salt_i),                           // reserved-mext: must fail
      n + std::string(salt_i) + ",",                                // trailing comma
      n + std::string(salt_i) + ",i=1",  // a SCRAM attribute as an extension
      n + std::string(salt_i) + ",m=ext",
      n + std::string(salt_i) + ",x=",  // empty extension value
      n + std::string(salt_i) + ",xx=1",
      n + std::string(salt_i) + ",x=a\0b"s,
      "e=other-error",
      "",
      ",",
      std::string(rfc_server_first).replace(0, 1, "R"),
  };
  for (const std::string& b : bad) {
    CAPTURE(b);
    auto m = rfc_scram();
    std::string r = "junk";
    CHECK(m->step(b, r) == errc::sasl_bad_challenge);
    CHECK(r.empty());
    CHECK_FALSE(m->server_verified());
    check_finished(*m);
  }
}

TEST_CASE("SCRAM-SHA-256 accepts the largest allowed iteration count's syntax and i=1 [smtpipe]") {
  // 10,000,000 itself would take seconds of PBKDF2: check only the bound and a cheap count.
  CHECK(sasl_scram_sha256::max_iterations == 10'000'000);
  auto m = rfc_scram();
  std::string r;
  CHECK_FALSE(m->step("r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1", r));
  CHECK(r.rfind("c=biws,r=rOprNGfwEbeRWgbNEkqOsrv,p=", 0) == 0);
}

TEST_CASE("SCRAM-SHA-256 refuses a wrong server signature [smtpipe]") {
  const std::string_view wrong[] = {
      "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",  // one bit off
      "v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  // all zero
  };
  for (std::string_view w : wrong) {
    auto m = rfc_scram();
    std::string r;
    REQUIRE_FALSE(m->step(rfc_server_first, r));
    CHECK(m->step(w, r) == errc::sasl_server_not_verified);
    CHECK_FALSE(m->server_verified());
    check_finished(*m);
    CHECK_FALSE(m->server_verified());
  }
  // The right signature for another password.
  auto m = rfc_scram("pencil2");
  std::string r;
  REQUIRE_FALSE(m->step(rfc_server_first, r));
  CHECK(r != rfc_client_final);
  CHECK(m->step(rfc_server_final, r) == errc::sasl_server_not_verified);
  CHECK_FALSE(m->server_verified());
}

TEST_CASE("SCRAM-SHA-256 refuses malformed server-final messages and server errors [smtpipe]") {
  const std::string_view bad[] = {
      "",
      "v=",
      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4",   // unpadded
      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95A==",  // 31 octets
      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4A",  // 33 octets
      "V=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,",
      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,v=6rriTRBi23WpRR/wtup+mMhUZUn/"
      "dB5nLTJRsjl95G4=",
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  };
  for (std::string_view b : bad) {
    CAPTURE(b);
    auto m = rfc_scram();
    std::string r;
    REQUIRE_FALSE(m->step(rfc_server_first, r));
    CHECK(m->step(b, r) == errc::sasl_bad_challenge);
    CHECK_FALSE(m->server_verified());
    check_finished(*m);
  }
  auto m = rfc_scram();
  std::string r;
  REQUIRE_FALSE(m->step(rfc_server_first, r));
  CHECK(m->step("e=invalid-proof", r) == errc::sasl_bad_challenge);
  CHECK(m->server_error() == "invalid-proof");
  CHECK_FALSE(m->server_verified());
  check_finished(*m);
}

TEST_CASE("SCRAM-SHA-256 refuses a non-empty first challenge [smtpipe]") {
  sasl_scram_sha256 m(creds("user", "pencil"), std::string(rfc_nonce));
  std::string r;
  CHECK(m.step(rfc_server_first, r) == errc::sasl_bad_challenge);
  check_finished(m);
}

TEST_CASE("SCRAM-SHA-256 refuses credentials and nonces it cannot send [smtpipe]") {
  const sasl_credentials bad_creds[] = {
      creds("", "pencil"),
      creds("\xc2\xad", "pencil"),           // empty after SASLprep
      creds("us\ter", "pencil"),             // prohibited
      creds("user", "pen\tcil"),             // prohibited
      creds("user", "\xe2\x85\xa8"),         // needs NFKC: outside the subset
      creds("user", "pen\xff"),              // not UTF-8
      creds("user", "pencil", "adm\x01in"),  // prohibited authzid
  };
  for (const auto& c : bad_creds) {
    sasl_scram_sha256 m(c, std::string(rfc_nonce));
    check_refused_input(m, "");
  }
  for (const std::string& nonce : {""s, "a,b"s, "a b"s, "caf\xc3\xa9"s, "tab\t"s}) {
    CAPTURE(nonce);
    sasl_scram_sha256 m(creds("user", "pencil"), nonce);
    std::string r;
    CHECK(m.step("", r) == errc::invalid_argument);
    check_finished(m);
  }
}

TEST_CASE("SCRAM-SHA-256 and CRAM-MD5 are used through the interface [smtpipe]") {
  const sasl_credentials c = creds("user", "pencil");
  std::unique_ptr<smtpipe::sasl_mechanism> scram =
      std::make_unique<sasl_scram_sha256>(c, std::string(rfc_nonce));
  std::unique_ptr<smtpipe::sasl_mechanism> cram = std::make_unique<smtpipe::sasl_cram_md5>(c);
  std::string r;
  CHECK_FALSE(scram->step("", r));
  CHECK_FALSE(scram->step(rfc_server_first, r));
  CHECK_FALSE(scram->step(rfc_server_final, r));
  CHECK(scram->server_verified());
  CHECK_FALSE(cram->step("<1.2@example.org>", r));
  CHECK(r.rfind("user ", 0) == 0);
  CHECK(r.size() == 5 + 32);
}
