// Tests of smtpipe/protocol/command.hpp: RFC 5321 section 4.1 command syntax, RFC 1870, RFC 3461,
// RFC 4954, RFC 6531, and the injection cases of security.md section 6 C (28-33).
#include <smtpipe/protocol/base64.hpp>
#include <smtpipe/protocol/command.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

#include <string>
#include <string_view>

using namespace std::literals;
using namespace smtpipe;

namespace {

// Every refused call must leave the output exactly as it was.
const std::string queued = "RSET\r\n";

template <class F>
std::error_code refused(F&& format) {
  std::string out = queued;
  const std::error_code ec = format(out);
  CHECK(out == queued);
  return ec;
}

template <class F>
std::string formatted(F&& format) {
  std::string out = queued;
  const std::error_code ec = format(out);
  CHECK_FALSE(ec);
  REQUIRE(out.rfind(queued, 0) == 0);
  return out.substr(queued.size());
}

// One line, ending in CRLF, no other CR or LF.
bool one_line(std::string_view s) {
  return s.size() >= 2 && s.substr(s.size() - 2) == "\r\n" &&
         s.find_first_of("\r\n") == s.size() - 2;
}

}  // namespace

TEST_CASE("fixed commands [smtpipe]") {
  CHECK(formatted([](auto& o) { return format_data(o); }) == "DATA\r\n");
  CHECK(formatted([](auto& o) { return format_rset(o); }) == "RSET\r\n");
  CHECK(formatted([](auto& o) { return format_noop(o); }) == "NOOP\r\n");
  CHECK(formatted([](auto& o) { return format_quit(o); }) == "QUIT\r\n");
  CHECK(formatted([](auto& o) { return format_starttls(o); }) == "STARTTLS\r\n");
}

TEST_CASE("BDAT carries the exact chunk size (RFC 3030) [smtpipe]") {
  CHECK(formatted([](auto& o) { return format_bdat(o, 0, true); }) == "BDAT 0 LAST\r\n");
  CHECK(formatted([](auto& o) { return format_bdat(o, 12345, false); }) == "BDAT 12345\r\n");
  CHECK(formatted([](auto& o) { return format_bdat(o, 18446744073709551615u, true); }) ==
        "BDAT 18446744073709551615 LAST\r\n");
}

TEST_CASE("EHLO, HELO and LHLO take a domain or an address literal [smtpipe]") {
  CHECK(formatted([](auto& o) { return format_ehlo(o, "client.example.org"); }) ==
        "EHLO client.example.org\r\n");
  CHECK(formatted([](auto& o) { return format_helo(o, "client.example.org"); }) ==
        "HELO client.example.org\r\n");
  CHECK(formatted([](auto& o) { return format_lhlo(o, "[192.0.2.7]"); }) == "LHLO [192.0.2.7]\r\n");
}

TEST_CASE("EHLO refuses injected or malformed names (security.md C.31) [smtpipe]") {
  CHECK(refused([](auto& o) { return format_ehlo(o, "x\r\nMAIL FROM:<a@b>"); }) ==
        errc::control_character_in_argument);
  CHECK(refused([](auto& o) { return format_helo(o, "x\nRSET"); }) ==
        errc::control_character_in_argument);
  CHECK(refused([](auto& o) { return format_ehlo(o, ""); }) == errc::invalid_domain);
  CHECK(refused([](auto& o) { return format_ehlo(o, "host name"); }) == errc::invalid_domain);
  // EHLO is sent before SMTPUTF8 is known: A-labels only.
  CHECK(refused([](auto& o) {
          return format_ehlo(o,
                             "b\xc3\xbc"
                             "cher.example");
        }) == errc::invalid_domain);
}

TEST_CASE("MAIL FROM formats the path and the typed parameters in order [smtpipe]") {
  CHECK(formatted([](auto& o) { return format_mail_from(o, "a@example.org"); }) ==
        "MAIL FROM:<a@example.org>\r\n");
  CHECK(formatted([](auto& o) { return format_mail_from(o, ""); }) == "MAIL FROM:<>\r\n");

  mail_parameters p;
  p.size = 12345;
  p.body = body_type::eight_bit_mime;
  p.smtputf8 = true;
  p.ret = dsn_ret::headers;
  p.envid = "QQ314159 a+b=c";
  p.extra = {{"MT-PRIORITY", "3"}, {"X-FLAG", ""}, {"AUTH", "<>"}};
  CHECK(formatted([&](auto& o) { return format_mail_from(o, "a@example.org", p); }) ==
        "MAIL FROM:<a@example.org> SIZE=12345 BODY=8BITMIME SMTPUTF8 RET=HDRS "
        "ENVID=QQ314159+20a+2Bb+3Dc MT-PRIORITY=3 X-FLAG AUTH=<>\r\n");

  mail_parameters q;
  q.body = body_type::seven_bit;
  q.ret = dsn_ret::full;
  CHECK(formatted([&](auto& o) { return format_mail_from(o, "", q); }) ==
        "MAIL FROM:<> BODY=7BIT RET=FULL\r\n");
  q.body = body_type::binary_mime;
  q.ret = dsn_ret::unspecified;
  q.size = 0;
  CHECK(formatted([&](auto& o) { return format_mail_from(o, "", q); }) ==
        "MAIL FROM:<> SIZE=0 BODY=BINARYMIME\r\n");
}

TEST_CASE("MAIL FROM with a UTF-8 path needs the SMTPUTF8 parameter (RFC 6531) [smtpipe]") {
  const std::string_view addr = "\xe7\x94\xa8\xe6\x88\xb7@example.org";
  CHECK(refused([&](auto& o) { return format_mail_from(o, addr); }) ==
        errc::address_needs_smtputf8);
  mail_parameters p;
  p.smtputf8 = true;
  CHECK(formatted([&](auto& o) { return format_mail_from(o, addr, p); }) ==
        "MAIL FROM:<" + std::string(addr) + "> SMTPUTF8\r\n");
}

TEST_CASE("RCPT TO formats NOTIFY, ORCPT and extras (RFC 3461) [smtpipe]") {
  CHECK(formatted([](auto& o) { return format_rcpt_to(o, "b@example.net"); }) ==
        "RCPT TO:<b@example.net>\r\n");
  rcpt_parameters p;
  p.notify = notify_success | notify_failure;
  p.orcpt = "rfc822;b+tag=x y@example.net";
  p.extra = {{"X-ID", "42"}};
  CHECK(formatted([&](auto& o) { return format_rcpt_to(o, "b@example.net", p); }) ==
        "RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Btag+3Dx+20y@example.net "
        "X-ID=42\r\n");
  rcpt_parameters n;
  n.notify = notify_never;
  CHECK(formatted([&](auto& o) { return format_rcpt_to(o, "b@example.net", n); }) ==
        "RCPT TO:<b@example.net> NOTIFY=NEVER\r\n");
  n.notify = notify_delay | notify_failure | notify_success;
  CHECK(formatted([&](auto& o) { return format_rcpt_to(o, "b@example.net", n); }) ==
        "RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE,DELAY\r\n");
}

TEST_CASE("RCPT TO accepts Postmaster without a domain (RFC 5321 section 4.1.1.3) [smtpipe]") {
  CHECK(formatted([](auto& o) { return format_rcpt_to(o, "Postmaster"); }) ==
        "RCPT TO:<Postmaster>\r\n");
  CHECK(formatted([](auto& o) { return format_rcpt_to(o, "postmaster"); }) ==
        "RCPT TO:<postmaster>\r\n");
  CHECK(refused([](auto& o) { return format_rcpt_to(o, "webmaster"); }) == errc::invalid_address);
  CHECK(refused([](auto& o) { return format_rcpt_to(o, ""); }) == errc::invalid_address);
}

TEST_CASE("RCPT TO with a UTF-8 path needs the transaction's SMTPUTF8 [smtpipe]") {
  const std::string_view addr = "b@\xe4\xbe\x8b\xe5\xad\x90.example";
  CHECK(refused([&](auto& o) { return format_rcpt_to(o, addr); }) == errc::address_needs_smtputf8);
  CHECK(formatted([&](auto& o) { return format_rcpt_to(o, addr, {}, true); }) ==
        "RCPT TO:<" + std::string(addr) + ">\r\n");
}

TEST_CASE(
    "MAIL and RCPT refuse hostile addresses and write nothing (security.md C.28) "
    "[smtpipe]") {
  const std::string_view bad[] = {
      "a@example.org\r\nRCPT TO:<evil@example.net>",
      "a@example.org\r",
      "a@example.org\n",
      "a\0@example.org"sv,
      "a\t@example.org",
      "a\x7f@example.org",
      "a@example.org>",
      "a>@example.org",
      "<a@example.org>",
      "\"a\r\nb\"@example.org",
      "a b@example.org",
  };
  for (std::string_view a : bad) {
    CAPTURE(a);
    CHECK(refused([&](auto& o) { return format_mail_from(o, a); }));
    CHECK(refused([&](auto& o) { return format_rcpt_to(o, a); }));
    CHECK(refused([&](auto& o) { return format_rcpt_to(o, a, {}, true); }));
  }
  CHECK(refused([](auto& o) { return format_rcpt_to(o, "a@example.org\r\nDATA"); }) ==
        errc::control_character_in_argument);
  CHECK(refused([](auto& o) { return format_mail_from(o, "a>@example.org"); }) ==
        errc::invalid_address);
}

TEST_CASE(
    "Jakarta Mail CVE-2025-7962: the check runs on the octets sent (security.md C.30) "
    "[smtpipe]") {
  // U+760D U+760A encoded as UTF-8: only legal with SMTPUTF8, and then harmless.
  const std::string_view utf8 = "\xe7\x98\x8d\xe7\x98\x8a@example.org";
  CHECK(refused([&](auto& o) { return format_rcpt_to(o, utf8); }) == errc::address_needs_smtputf8);
  const std::string line = formatted([&](auto& o) { return format_rcpt_to(o, utf8, {}, true); });
  CHECK(one_line(line));
  // The same characters narrowed to one octet each are CR and LF: refused either way.
  std::string narrowed;
  for (char16_t c : u"\u760D\u760A@example.org") {
    if (c != 0) narrowed += static_cast<char>(c & 0xff);
  }
  CHECK(refused([&](auto& o) { return format_rcpt_to(o, narrowed, {}, true); }) ==
        errc::control_character_in_argument);
}

TEST_CASE("length limits: path 256, command line 512 (security.md C.29) [smtpipe]") {
  const std::string local65(65, 'l');
  CHECK(refused([&](auto& o) { return format_mail_from(o, local65 + "@example.org"); }) ==
        errc::local_part_too_long);
  const std::string long_path = std::string(64, 'l') + "@" + std::string(63, 'd') + "." +
                                std::string(63, 'd') + "." + std::string(62, 'd');
  REQUIRE(long_path.size() == 255);  // 257 with the brackets
  CHECK(refused([&](auto& o) { return format_rcpt_to(o, long_path); }) == errc::path_too_long);

  // format_line: at most 510 octets before CRLF.
  const std::string l510 = "VRFY " + std::string(505, 'x');
  CHECK(formatted([&](auto& o) { return format_line(o, l510); }).size() == 512);
  CHECK(refused([&](auto& o) { return format_line(o, l510 + "x"); }) ==
        errc::command_line_too_long);

  // MAIL with parameters: 512 + max_parameters_extra.
  const std::string path = std::string(64, 'l') + "@" + std::string(63, 'd') + "." +
                           std::string(63, 'd') + "." + std::string(61, 'd');  // 254 octets
  mail_parameters p;
  p.extra = {{"X-A", std::string(2000, 'v')}};
  CHECK(refused([&](auto& o) { return format_mail_from(o, path, p); }) ==
        errc::command_line_too_long);
  // 11 + 254 + 1 ("MAIL FROM:<" path ">") + 5 (" X-A=") + n + 2 == 1012 for n == 739.
  p.extra = {{"X-A", std::string(739, 'v')}};
  CHECK(formatted([&](auto& o) { return format_mail_from(o, path, p); }).size() == 1012);
  p.extra = {{"X-A", std::string(740, 'v')}};
  CHECK(refused([&](auto& o) { return format_mail_from(o, path, p); }) ==
        errc::command_line_too_long);
}

TEST_CASE("ESMTP parameters refuse injection and bad syntax (security.md C.32) [smtpipe]") {
  const auto mail_extra = [](std::string k, std::string v) {
    mail_parameters p;
    p.extra = {{std::move(k), std::move(v)}};
    return refused([&](auto& o) { return format_mail_from(o, "a@example.org", p); });
  };
  // nodemailer GHSA-c7w3-x93f-qmm8 and aiosmtplib's injected BODY.
  CHECK(mail_extra("X-SIZE", "1\r\nRCPT TO:<x@example.org>") ==
        errc::control_character_in_argument);
  CHECK(mail_extra("X-BODY", "8BITMIME\r\nDATA") == errc::control_character_in_argument);
  CHECK(mail_extra("X\r\nDATA", "") == errc::control_character_in_argument);
  CHECK(mail_extra("X", "a\0b"s) == errc::control_character_in_argument);
  // esmtp-keyword and esmtp-value grammar.
  CHECK(mail_extra("bad_kw", "") == errc::invalid_esmtp_keyword);
  CHECK(mail_extra("-X", "") == errc::invalid_esmtp_keyword);
  CHECK(mail_extra("", "v") == errc::invalid_esmtp_keyword);
  CHECK(mail_extra("X Y", "") == errc::invalid_esmtp_keyword);
  CHECK(mail_extra("X", "a=b") == errc::invalid_esmtp_value);
  CHECK(mail_extra("X", "a b") == errc::invalid_esmtp_value);
  CHECK(mail_extra("X", "caf\xc3\xa9") == errc::invalid_esmtp_value);
  // Typed parameters cannot be bypassed or repeated through extras.
  CHECK(mail_extra("SIZE", "1") == errc::invalid_esmtp_keyword);
  CHECK(mail_extra("body", "8BITMIME") == errc::invalid_esmtp_keyword);
  CHECK(mail_extra("SMTPUTF8", "") == errc::invalid_esmtp_keyword);
  mail_parameters dup;
  dup.extra = {{"X-A", "1"}, {"x-a", "2"}};
  CHECK(refused([&](auto& o) { return format_mail_from(o, "a@example.org", dup); }) ==
        errc::invalid_esmtp_keyword);
  rcpt_parameters r;
  r.extra = {{"NOTIFY", "NEVER"}};
  CHECK(refused([&](auto& o) { return format_rcpt_to(o, "b@example.org", r); }) ==
        errc::invalid_esmtp_keyword);
}

TEST_CASE("ENVID is xtext-encoded, printable and at most 100 octets (RFC 3461 4.4) [smtpipe]") {
  const auto envid = [](std::string v) {
    mail_parameters p;
    p.envid = std::move(v);
    return p;
  };
  CHECK(refused([&](auto& o) { return format_mail_from(o, "", envid("id\r\nDATA")); }) ==
        errc::control_character_in_argument);
  CHECK(refused([&](auto& o) { return format_mail_from(o, "", envid("caf\xc3\xa9")); }) ==
        errc::invalid_esmtp_value);
  CHECK(formatted([&](auto& o) {
          return format_mail_from(o, "", envid(std::string(100, 'e')));
        }).size() == 12 + 7 + 100 + 2);
  CHECK(refused([&](auto& o) { return format_mail_from(o, "", envid(std::string(101, 'e'))); }) ==
        errc::invalid_esmtp_value);
  // 34 "+" become 102 octets of xtext.
  CHECK(refused([&](auto& o) { return format_mail_from(o, "", envid(std::string(34, '+'))); }) ==
        errc::invalid_esmtp_value);
}

TEST_CASE("NOTIFY and ORCPT validation (RFC 3461 4.1, 4.2) [smtpipe]") {
  const auto rcpt = [](unsigned notify, std::string orcpt) {
    rcpt_parameters p;
    p.notify = notify;
    p.orcpt = std::move(orcpt);
    return refused([&](auto& o) { return format_rcpt_to(o, "b@example.org", p); });
  };
  CHECK(rcpt(notify_never | notify_success, "") == errc::invalid_esmtp_value);
  CHECK(rcpt(16, "") == errc::invalid_esmtp_value);
  CHECK(rcpt(0, "rfc822") == errc::invalid_esmtp_value);  // no ";"
  CHECK(rcpt(0, ";b@example.org") == errc::invalid_esmtp_value);
  CHECK(rcpt(0, "rfc822;") == errc::invalid_esmtp_value);
  CHECK(rcpt(0, "rfc 822;b@example.org") == errc::invalid_esmtp_value);
  CHECK(rcpt(0, "rfc822;b@example.org\r\nDATA") == errc::control_character_in_argument);
  CHECK(rcpt(0, "rfc822;b\xc3\xa9@example.org") == errc::invalid_esmtp_value);
}

TEST_CASE("AUTH with and without an initial response (RFC 4954 section 4) [smtpipe]") {
  CHECK(formatted([](auto& o) { return format_auth(o, "LOGIN"); }) == "AUTH LOGIN\r\n");
  CHECK(formatted([](auto& o) {
          return format_auth(o, "PLAIN", "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
        }) == "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n");
  CHECK(formatted([](auto& o) { return format_auth(o, "EXTERNAL", "", true); }) ==
        "AUTH EXTERNAL =\r\n");
  CHECK(formatted([](auto& o) { return format_auth(o, "EXTERNAL", "=", true); }) ==
        "AUTH EXTERNAL =\r\n");
  CHECK(formatted([](auto& o) { return format_auth(o, "SCRAM-SHA-256"); }) ==
        "AUTH SCRAM-SHA-256\r\n");
  CHECK(formatted([](auto& o) { return format_auth(o, "X_MECH-1"); }) == "AUTH X_MECH-1\r\n");

  CHECK(refused([](auto& o) { return format_auth(o, "plain"); }) == errc::invalid_argument);
  CHECK(refused([](auto& o) { return format_auth(o, ""); }) == errc::invalid_argument);
  CHECK(refused([](auto& o) { return format_auth(o, "ABCDEFGHIJKLMNOPQRSTU"); }) ==
        errc::invalid_argument);  // 21 characters
  CHECK(refused([](auto& o) { return format_auth(o, "PLAIN X"); }) == errc::invalid_argument);
  CHECK(refused([](auto& o) { return format_auth(o, "PLAIN\r\nMAIL"); }) ==
        errc::control_character_in_argument);
  CHECK(refused([](auto& o) { return format_auth(o, "PLAIN", "not base64!"); }) ==
        errc::invalid_base64);
  CHECK(refused([](auto& o) { return format_auth(o, "PLAIN", "Zm9v\r\nQUIT"); }) ==
        errc::control_character_in_argument);
  // Too long for one line: the caller must send AUTH without it and answer the 334.
  std::string big;
  base64_encode(std::string(400, 'x'), big);
  CHECK(refused([&](auto& o) { return format_auth(o, "PLAIN", big); }) ==
        errc::command_line_too_long);
}

TEST_CASE("AUTH credentials with CR or LF travel as base64 (security.md C.33) [smtpipe]") {
  const std::string plain = "\0user\0pass\r\nMAIL FROM:<evil@example.org>"s;
  std::string ir;
  base64_encode(plain, ir);
  const std::string line = formatted([&](auto& o) { return format_auth(o, "PLAIN", ir); });
  CHECK(one_line(line));
  CHECK(line.find("pass") == std::string::npos);
  CHECK(line.find("MAIL") == std::string::npos);
}

TEST_CASE("SASL continuation responses [smtpipe]") {
  CHECK(formatted([](auto& o) { return format_auth_response(o, "dXNlcg=="); }) == "dXNlcg==\r\n");
  CHECK(formatted([](auto& o) { return format_auth_response(o, "*"); }) == "*\r\n");
  CHECK(formatted([](auto& o) { return format_auth_response(o, ""); }) == "\r\n");
  CHECK(refused([](auto& o) { return format_auth_response(o, "dXNlcg"); }) == errc::invalid_base64);
  CHECK(refused([](auto& o) { return format_auth_response(o, "dXNlcg==\r\n*"); }) ==
        errc::control_character_in_argument);
  std::string token;
  base64_encode(std::string(3000, 't'), token);  // 4000 octets: over 512, fine here
  CHECK(formatted([&](auto& o) { return format_auth_response(o, token); }).size() == 4002);
  std::string huge;
  base64_encode(std::string(9300, 't'), huge);  // 12400 octets
  CHECK(refused([&](auto& o) { return format_auth_response(o, huge); }) ==
        errc::command_line_too_long);
}

TEST_CASE("format_line for custom commands [smtpipe]") {
  CHECK(formatted([](auto& o) { return format_line(o, "VRFY postmaster"); }) ==
        "VRFY postmaster\r\n");
  CHECK(refused([](auto& o) { return format_line(o, ""); }) == errc::invalid_argument);
  CHECK(refused([](auto& o) { return format_line(o, "VRFY a\r\nDATA"); }) ==
        errc::control_character_in_argument);
  CHECK(refused([](auto& o) { return format_line(o, "XCLIENT \x7f"); }) ==
        errc::control_character_in_argument);
  CHECK(max_command_line == 512);
}
