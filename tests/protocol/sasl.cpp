// Tests of the SASL mechanisms without cryptography: smtpipe/sasl/plain.hpp (RFC 4616),
// sasl_login.hpp (draft-murchison-sasl-login) and sasl_xoauth2.hpp (Google's XOAUTH2).
#include "support/sasl_checks.hpp"

#include <smtpipe/protocol/base64.hpp>
#include <smtpipe/sasl/login.hpp>
#include <smtpipe/sasl/plain.hpp>
#include <smtpipe/sasl/xoauth2.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

#include <memory>
#include <string>
#include <string_view>

using namespace std::literals;
using smtpipe::errc;
using smtpipe::sasl_credentials;
using smtpipe::sasl_mechanism;
using smtpipe::test::check_finished;
using smtpipe::test::check_refused_input;
using smtpipe::test::creds;

// --- PLAIN -------------------------------------------------------------------------------------

TEST_CASE("PLAIN produces the RFC 4616 section 4 examples [smtpipe]") {
  {
    smtpipe::sasl_plain m(creds("tim", "tanstaaftanstaaf"));
    CHECK(m.name() == "PLAIN");
    CHECK(m.client_first());
    CHECK(m.server_verified());
    CHECK(m.expects_challenge());
    std::string r = "junk";
    CHECK_FALSE(m.step("", r));
    CHECK(r == "\0tim\0tanstaaftanstaaf"sv);
    std::string b64;
    smtpipe::base64_encode(r, b64);
    CHECK(b64 == "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");  // the RFC's wire form
    check_finished(m);
  }
  {
    smtpipe::sasl_plain m(creds("Kurt", "xipj3plmq", "Ursel"));
    std::string r;
    CHECK_FALSE(m.step("", r));
    CHECK(r == "Ursel\0Kurt\0xipj3plmq"sv);
    check_finished(m);
  }
}

TEST_CASE("PLAIN keeps UTF-8 credentials as they are [smtpipe]") {
  smtpipe::sasl_plain m(creds("j\xc3\xbcrgen", "p\xc3\xa4ss w\xc3\xb6rd"));
  std::string r;
  CHECK_FALSE(m.step("", r));
  CHECK(r == "\0j\xc3\xbcrgen\0p\xc3\xa4ss w\xc3\xb6rd"sv);
}

TEST_CASE("PLAIN refuses NUL in any field and empty user or password [smtpipe]") {
  const sasl_credentials bad[] = {
      creds("tim"s, "tans\0taaf"s),
      creds("t\0im"s, "tanstaaf"s),
      creds("tim"s, "tanstaaf"s, "Ur\0sel"s),
      creds("", "tanstaaf"),
      creds("tim", ""),
  };
  for (const auto& c : bad) {
    smtpipe::sasl_plain m(c);
    check_refused_input(m, "");
  }
}

TEST_CASE("PLAIN refuses a non-empty first challenge [smtpipe]") {
  smtpipe::sasl_plain m(creds("tim", "tanstaaftanstaaf"));
  std::string r;
  CHECK(m.step("what?", r) == errc::sasl_bad_challenge);
  CHECK(r.empty());
  check_finished(m);
}

// --- LOGIN -------------------------------------------------------------------------------------

TEST_CASE(
    "LOGIN answers the first challenge with the user, the second with the password "
    "[smtpipe]") {
  smtpipe::sasl_login m(creds("tim", "tanstaaftanstaaf"));
  CHECK(m.name() == "LOGIN");
  CHECK_FALSE(m.client_first());
  CHECK(m.server_verified());
  CHECK(m.expects_challenge());
  std::string r;
  CHECK_FALSE(m.step("Username:", r));
  CHECK(r == "tim");
  CHECK(m.expects_challenge());
  CHECK_FALSE(m.step("Password:", r));
  CHECK(r == "tanstaaftanstaaf");
  check_finished(m);
}

TEST_CASE("LOGIN does not depend on the prompts' text [smtpipe]") {
  // Servers send "Username:", "User Name\0", localised texts, or nothing at all.
  for (const auto& prompts : {std::pair{""sv, ""sv}, std::pair{"User Name\0"sv, "Password\0"sv},
                              std::pair{"Password:"sv, "Username:"sv}}) {
    smtpipe::sasl_login m(creds("tim", "secret"));
    std::string r;
    CHECK_FALSE(m.step(prompts.first, r));
    CHECK(r == "tim");
    CHECK_FALSE(m.step(prompts.second, r));
    CHECK(r == "secret");
  }
}

TEST_CASE("LOGIN refuses a third challenge [smtpipe]") {
  smtpipe::sasl_login m(creds("tim", "secret"));
  std::string r;
  CHECK_FALSE(m.step("Username:", r));
  CHECK_FALSE(m.step("Password:", r));
  r = "stale";
  CHECK(m.step("Password:", r) == errc::sasl_bad_challenge);
  CHECK(r.empty());
  check_finished(m);
}

TEST_CASE("LOGIN refuses an authzid, an empty user and NUL before sending anything [smtpipe]") {
  const sasl_credentials bad[] = {
      creds("tim", "secret", "admin"),
      creds("", "secret"),
      creds("t\0im"s, "secret"),
      creds("tim", "sec\0ret"s),
  };
  for (const auto& c : bad) {
    smtpipe::sasl_login m(c);
    check_refused_input(m, "Username:");
  }
}

// --- XOAUTH2 -----------------------------------------------------------------------------------

TEST_CASE("XOAUTH2 sends Google's documented initial client response [smtpipe]") {
  smtpipe::sasl_xoauth2 m(
      creds("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"));
  CHECK(m.name() == "XOAUTH2");
  CHECK(m.client_first());
  CHECK(m.server_verified());
  CHECK(m.expects_challenge());
  std::string r;
  CHECK_FALSE(m.step("", r));
  CHECK(r ==
        "user=someuser@example.com\x01"
        "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01");
  std::string b64;
  smtpipe::base64_encode(r, b64);
  // Google's published base64 of this exact message.
  CHECK(b64 ==
        "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhk"
        "SFJoZG1semRHRXVZMjl0Q2cBAQ==");
  CHECK(m.expects_challenge());  // an error challenge may still come
  CHECK(m.error_details().empty());
}

TEST_CASE(
    "XOAUTH2 answers the server's JSON error challenge with one empty response "
    "[smtpipe]") {
  smtpipe::sasl_xoauth2 m(creds("someuser@example.com", "expired-token"));
  std::string r;
  CHECK_FALSE(m.step("", r));
  const std::string_view json =
      R"({"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"})";
  r = "stale";
  CHECK_FALSE(m.step(json, r));
  CHECK(r.empty());  // the client must send an empty response; the server then sends 535
  CHECK(m.error_details() == json);
  check_finished(m);  // a second error challenge is refused
}

TEST_CASE("XOAUTH2 refuses an empty challenge after its response [smtpipe]") {
  smtpipe::sasl_xoauth2 m(creds("u@example.com", "token"));
  std::string r;
  CHECK_FALSE(m.step("", r));
  CHECK(m.step("", r) == errc::sasl_bad_challenge);
  check_finished(m);
}

TEST_CASE("XOAUTH2 refuses ^A, NUL, empty fields and an authzid [smtpipe]") {
  const sasl_credentials bad[] = {
      creds("u@example.com\x01"
            "auth=Bearer evil",
            "token"),
      creds("u@example.com", "tok\x01\x01"),
      creds("u@example.com", "tok\0en"s),
      creds("u@exa\0mple.com"s, "token"),
      creds("", "token"),
      creds("u@example.com", ""),
      creds("u@example.com", "token", "admin@example.com"),
  };
  for (const auto& c : bad) {
    smtpipe::sasl_xoauth2 m(c);
    check_refused_input(m, "");
  }
}

TEST_CASE("XOAUTH2 refuses a non-empty challenge before its initial response [smtpipe]") {
  smtpipe::sasl_xoauth2 m(creds("u@example.com", "token"));
  std::string r;
  CHECK(m.step("{}", r) == errc::sasl_bad_challenge);
  check_finished(m);
}

TEST_CASE("SASL mechanisms are used through the interface [smtpipe]") {
  const sasl_credentials c = creds("tim", "tanstaaftanstaaf");
  std::unique_ptr<sasl_mechanism> all[] = {std::make_unique<smtpipe::sasl_plain>(c),
                                           std::make_unique<smtpipe::sasl_login>(c),
                                           std::make_unique<smtpipe::sasl_xoauth2>(c)};
  CHECK(all[0]->name() == "PLAIN");
  CHECK(all[1]->name() == "LOGIN");
  CHECK(all[2]->name() == "XOAUTH2");
  for (auto& m : all) {
    std::string r;
    CHECK_FALSE(m->step(m->client_first() ? "" : "Username:", r));
    CHECK_FALSE(r.empty());
  }
}
