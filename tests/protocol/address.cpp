// Tests of smtpipe/protocol/address.hpp against RFC 5321 sections 4.1.2, 4.1.3, 4.5.3.1 and
// RFC 6531, plus security.md section 6 C (28-31).
#include <smtpipe/protocol/address.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

#include <string>
#include <string_view>

using namespace std::literals;
using smtpipe::errc;
using smtpipe::validate_domain;
using smtpipe::validate_mailbox;

namespace {

// A domain of exactly `n` octets made of 63-octet labels.
std::string domain_of_length(std::size_t n) {
  std::string d;
  while (d.size() < n) {
    if (!d.empty()) d += '.';
    const std::size_t left = n - d.size();
    d += std::string(left > 63 ? 63 : left, 'd');
  }
  if (d.back() == '.') d.back() = 'e';
  return d;
}

}  // namespace

TEST_CASE("validate_mailbox accepts RFC 5321 mailboxes [smtpipe]") {
  const std::string_view good[] = {
      "user@example.com",
      "first.last@sub.example.co.uk",
      "a!#$%&'*+-/=?^_`{|}~@example.com",  // every atext special
      "\"john doe\"@example.com",          // quoted-string with SP
      "\"a\\\"b\\\\c\"@example.com",       // quoted-pairSMTP
      "\"a@b\"@example.com",               // '@' inside quotes
      "\".dots..\"@example.com",
      "user@[192.0.2.1]",
      "user@[0.0.0.0]",
      "user@[255.255.255.255]",
      "user@[IPv6:2001:db8::1]",
      "user@[ipv6:2001:DB8:0:0:0:0:0:1]",  // "IPv6:" is case-insensitive ABNF
      "user@[IPv6:::1]",
      "user@[IPv6:::]",
      "user@[IPv6:1:2:3:4:5:6::]",
      "user@[IPv6:::ffff:192.0.2.1]",
      "user@[IPv6:1:2:3:4:5:6:192.0.2.1]",
      "user@localhost",
      "user@xn--bcher-kva.example",
      "user@123.example",
      "u@a-b.c-d",
      "postmaster@example.com",
  };
  for (std::string_view a : good) {
    CAPTURE(a);
    CHECK_FALSE(validate_mailbox(a, false));
    CHECK_FALSE(validate_mailbox(a, true));
  }
}

TEST_CASE("validate_mailbox refuses malformed mailboxes [smtpipe]") {
  const std::string_view bad[] = {
      "",
      "user",
      "@example.com",
      "user@",
      ".user@example.com",
      "user.@example.com",
      "us..er@example.com",
      "user@-example.com",
      "user@example-.com",
      "user@exa_mple.com",
      "user@example..com",
      "user@.example.com",
      "user@example.com.",  // no trailing dot in RFC 5321 Domain
      "<user@example.com>",
      "user>@example.com",
      "user@example.com>",
      "us er@example.com",  // unquoted space
      "user@exa mple.com",
      "a(comment)@example.com",
      "a,b@example.com",
      "a@b@example.com",
      "\"unterminated@example.com",
      "\"\"@example.com",  // empty local part
      "\"a\"b@example.com",
      "\"a\\",
      "user@[1.2.3]",
      "user@[256.1.1.1]",
      "user@[1.2.3.4.5]",
      "user@[1.2.3.1234]",
      "user@[1.2.3.4",
      "user@[]",
      "user@[IPv6:1::2::3]",
      "user@[IPv6:1:2:3:4:5:6:7]",      // 7 groups without "::"
      "user@[IPv6:1:2:3:4:5:6:7:8:9]",  // 9 groups
      "user@[IPv6:1:2:3:4:5:6:7::8]",   // "::" must stand for two groups or more
      "user@[IPv6:12345::]",
      "user@[IPv6:g::1]",
      "user@[IPv6:1:2:3:4:5:6:7:1.2.3.4]",  // IPv4 tail counts as two groups
      "user@[IPv6:::1.2.3]",
      "user@[IPv6::1]",
      "user@[X-tag:something]",  // General-address-literal: no registered tag
      "user@[192.0.2.1]x",
  };
  for (std::string_view a : bad) {
    CAPTURE(a);
    CHECK(validate_mailbox(a, false) == errc::invalid_address);
  }
  // A label over 63 octets (RFC 1035 section 2.3.4).
  CHECK(validate_mailbox("user@" + std::string(64, 'l') + ".example.com", false) ==
        errc::invalid_address);
  CHECK_FALSE(validate_mailbox("user@" + std::string(63, 'l') + ".example.com", false));
}

TEST_CASE(
    "validate_mailbox refuses every control octet, quoted or not (security.md C.28) "
    "[smtpipe]") {
  const std::string_view bad[] = {
      "user\r\n@example.com",   "user@example.com\r\nRCPT TO:<evil@example.net>",
      "us\rer@example.com",     "us\ner@example.com",
      "u\0ser@example.com"sv,   "user@example.com\0"sv,
      "u\tser@example.com",     "u\x7fser@example.com",
      "u\x1bser@example.com",
      "\"a\r\nb\"@example.com",  // MimeKit GHSA-g7hc-96xr-gvvx: CRLF in a quoted local part
      "\"a\\\r\"@example.com",   // not even as a quoted-pair
      "\"a\tb\"@example.com",   "user@[192.0.2.1\r\n]",
  };
  for (std::string_view a : bad) {
    CAPTURE(a);
    CHECK(validate_mailbox(a, false) == errc::control_character_in_argument);
    CHECK(validate_mailbox(a, true) == errc::control_character_in_argument);
  }
}

TEST_CASE(
    "validate_mailbox length limits of RFC 5321 section 4.5.3.1 (security.md C.29) "
    "[smtpipe]") {
  const std::string l64(64, 'l'), l65(65, 'l');
  CHECK_FALSE(validate_mailbox(l64 + "@example.com", false));
  CHECK(validate_mailbox(l65 + "@example.com", false) == errc::local_part_too_long);
  CHECK(validate_mailbox("\"" + std::string(62, 'q') + "\"@example.com", false) ==
        std::error_code{});  // 64 octets with the quotes
  CHECK(validate_mailbox("\"" + std::string(63, 'q') + "\"@example.com", false) ==
        errc::local_part_too_long);

  // Path = "<" + mailbox + ">" <= 256, so a mailbox may be 254 octets.
  const std::string d189 = domain_of_length(189);
  REQUIRE(d189.size() == 189);
  CHECK_FALSE(validate_mailbox(l64 + "@" + d189, false));  // 64 + 1 + 189 = 254
  CHECK(validate_mailbox(l64 + "@" + domain_of_length(190), false) == errc::path_too_long);

  const std::string d255 = domain_of_length(255), d256 = domain_of_length(256);
  REQUIRE(d256.size() == 256);
  CHECK_FALSE(validate_domain(d255, false));
  CHECK(validate_mailbox("u@" + d256, false) == errc::domain_too_long);
  CHECK(validate_mailbox("u@" + d255, false) == errc::path_too_long);
}

TEST_CASE("validate_mailbox and UTF-8 (RFC 6531; CVE-2025-7962, security.md C.30) [smtpipe]") {
  // U+760D and U+760A as UTF-8 are E7 98 8D and E7 98 8A: no CR or LF octet anywhere.
  const std::string_view u760d = "\xe7\x98\x8d@example.com";
  const std::string_view u760a =
      "a\xe7\x98\x8a"
      "b@example.com";
  const std::string_view u2028 =
      "a\xe2\x80\xa8"
      "b@example.com";  // LINE SEPARATOR
  for (std::string_view a : {u760d, u760a, u2028}) {
    CAPTURE(a);
    CHECK(validate_mailbox(a, false) == errc::address_needs_smtputf8);
    CHECK_FALSE(validate_mailbox(a, true));
    CHECK(smtpipe::needs_smtputf8(a));
  }
  // A broken UTF-16 to bytes narrowing turns U+760D/U+760A into 0x0D/0x0A: the check runs on
  // those octets and refuses them, with or without SMTPUTF8.
  const std::u16string wide = u"\u760Dx\u760A@example.com";
  std::string narrowed;
  for (char16_t c : wide) narrowed += static_cast<char>(c & 0xff);
  REQUIRE(narrowed == "\rx\n@example.com");
  CHECK(validate_mailbox(narrowed, false) == errc::control_character_in_argument);
  CHECK(validate_mailbox(narrowed, true) == errc::control_character_in_argument);

  // Internationalised mailboxes: UTF-8 local part and U-label domain.
  const std::string_view idn =
      "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a";
  CHECK_FALSE(validate_mailbox(idn, true));
  CHECK(validate_mailbox(idn, false) == errc::address_needs_smtputf8);
  CHECK_FALSE(
      validate_mailbox("\"j\xc3\xb6rg q\"@b\xc3\xbc"
                       "cher.example",
                       true));
  CHECK_FALSE(smtpipe::needs_smtputf8("user@example.com"));
}

TEST_CASE("validate_mailbox refuses ill-formed UTF-8 even with SMTPUTF8 [smtpipe]") {
  const std::string_view bad[] = {
      "\xc3@example.com",              // truncated sequence
      "a\xc3(@example.com",            // bad continuation
      "\xc0\xaf@example.com",          // overlong "/"
      "\xe0\x80\xaf@example.com",      // overlong, 3 octets
      "\xed\xa0\x80@example.com",      // UTF-16 surrogate
      "\xf4\x90\x80\x80@example.com",  // above U+10FFFF
      "\xff@example.com",
      "\x80@example.com",   // lone continuation octet
      "u@exa\xe9mple.com",  // Latin-1, not UTF-8
  };
  for (std::string_view a : bad) {
    CAPTURE(a);
    CHECK(validate_mailbox(a, true) == errc::invalid_address);
    CHECK(validate_mailbox(a, false) == errc::address_needs_smtputf8);
  }
  // quoted-pairSMTP is %d92 %d32-126 only, even with SMTPUTF8.
  CHECK(validate_mailbox("\"\\\xc3\xa9\"@example.com", true) == errc::invalid_address);
}

TEST_CASE("validate_domain checks EHLO arguments (security.md C.31) [smtpipe]") {
  CHECK_FALSE(validate_domain("client.example.org", false));
  CHECK_FALSE(validate_domain("localhost", false));
  CHECK_FALSE(validate_domain("[192.0.2.7]", false));
  CHECK_FALSE(validate_domain("[IPv6:2001:db8::7]", false));
  CHECK(validate_domain("x\r\nMAIL FROM:<a@b>", false) == errc::control_character_in_argument);
  CHECK(validate_domain("x\n", false) == errc::control_character_in_argument);
  CHECK(validate_domain("x\0y"sv, false) == errc::control_character_in_argument);
  CHECK(validate_domain("", false) == errc::invalid_domain);
  CHECK(validate_domain("host name", false) == errc::invalid_domain);
  CHECK(validate_domain("host_name", false) == errc::invalid_domain);
  CHECK(validate_domain("-host", false) == errc::invalid_domain);
  CHECK(validate_domain("host.", false) == errc::invalid_domain);
  CHECK(validate_domain("a@b", false) == errc::invalid_domain);
  CHECK(validate_domain("[300.1.1.1]", false) == errc::invalid_domain);
  CHECK(validate_domain(std::string(64, 'a') + ".example", false) == errc::invalid_domain);
  CHECK_FALSE(validate_domain(std::string(63, 'a') + ".example", false));
  CHECK(validate_domain(domain_of_length(256), false) == errc::domain_too_long);
  CHECK(validate_domain("b\xc3\xbc"
                        "cher.example",
                        false) == errc::invalid_domain);
  CHECK_FALSE(
      validate_domain("b\xc3\xbc"
                      "cher.example",
                      true));
  CHECK(validate_domain("b\xc3"
                        "cher.example",
                        true) == errc::invalid_domain);
}

TEST_CASE("is_postmaster matches the bare special recipient only [smtpipe]") {
  CHECK(smtpipe::is_postmaster("Postmaster"));
  CHECK(smtpipe::is_postmaster("postmaster"));
  CHECK(smtpipe::is_postmaster("POSTMASTER"));
  CHECK_FALSE(smtpipe::is_postmaster("postmaster@example.com"));
  CHECK_FALSE(smtpipe::is_postmaster("Postmaster "));
  CHECK_FALSE(smtpipe::is_postmaster("postmastr"));
}
