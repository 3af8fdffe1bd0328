// Tests of smtpipe/protocol/capabilities.hpp against RFC 5321 section 4.1.1.1 EHLO replies.
#include <smtpipe/protocol/capabilities.hpp>
#include <smtpipe/protocol/reply_parser.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

#include <string>
#include <string_view>
#include <vector>

using namespace std::literals;
using smtpipe::capabilities;

namespace {

capabilities caps_of(std::string_view wire) {
  smtpipe::reply_parser p;
  const auto r = p.parse(wire);
  REQUIRE(r.st == smtpipe::reply_parser::status::done);
  REQUIRE(r.consumed == wire.size());
  return capabilities::parse(p.get());
}

const std::string_view typical =
    "250-mx.example.org Hello client.example.net [192.0.2.7]\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 35882577\r\n"
    "250-8BITMIME\r\n"
    "250-AUTH LOGIN PLAIN\r\n"
    "250-AUTH=LOGIN CRAM-MD5\r\n"
    "250-enhancedstatuscodes\r\n"
    "250-StartTLS\r\n"
    "250-DSN\r\n"
    "250-SMTPUTF8\r\n"
    "250-CHUNKING\r\n"
    "250-BINARYMIME\r\n"
    "250-X-CUSTOM  foo bar \r\n"
    "250 HELP\r\n";

}  // namespace

TEST_CASE("capabilities reads the domain and the greeting from the first line [smtpipe]") {
  const auto c = caps_of(typical);
  CHECK(c.domain() == "mx.example.org");
  CHECK(c.greeting() == "Hello client.example.net [192.0.2.7]");
  CHECK_FALSE(c.empty());
  // The first line is never a keyword, even if it looks like one.
  const auto d = caps_of("250-PIPELINING\r\n250 SIZE 10\r\n");
  CHECK(d.domain() == "PIPELINING");
  CHECK_FALSE(d.pipelining());
  CHECK(d.size_limit() == 10u);
}

TEST_CASE("capabilities knows the well-known extensions, case-insensitively [smtpipe]") {
  const auto c = caps_of(typical);
  CHECK(c.pipelining());
  CHECK(c.eightbitmime());
  CHECK(c.enhanced_status_codes());
  CHECK(c.starttls());
  CHECK(c.dsn());
  CHECK(c.smtputf8());
  CHECK(c.chunking());
  CHECK(c.binarymime());
  CHECK(c.size_limit() == 35882577u);
  CHECK(c.has("pipelining"));
  CHECK(c.has("STARTTLS"));
  CHECK(c.has("help"));
  CHECK(c.has("X-Custom"));
  CHECK_FALSE(c.has("X-CUSTOM2"));
  CHECK_FALSE(c.has(""));
  CHECK(c.params("x-custom") == "foo bar"sv);
  CHECK(c.params("HELP") == ""sv);
  CHECK(c.params("SIZE") == "35882577"sv);
  CHECK_FALSE(c.params("VRFY").has_value());
}

TEST_CASE("capabilities stores keywords uppercased, once each, in order [smtpipe]") {
  const auto c = caps_of(typical);
  std::vector<std::string> keys;
  for (const auto& e : c.entries()) keys.push_back(e.keyword);
  CHECK(keys == std::vector<std::string>{"PIPELINING", "SIZE", "8BITMIME", "AUTH",
                                         "ENHANCEDSTATUSCODES", "STARTTLS", "DSN", "SMTPUTF8",
                                         "CHUNKING", "BINARYMIME", "X-CUSTOM", "HELP"});
  CHECK(c.entries()[3].params == "LOGIN PLAIN");  // the first AUTH line's parameters
}

TEST_CASE("capabilities merges AUTH and legacy AUTH= mechanisms [smtpipe]") {
  const auto c = caps_of(typical);
  CHECK(c.auth_mechanisms() == std::vector<std::string>{"LOGIN", "PLAIN", "CRAM-MD5"});
  CHECK(c.auth("plain"));
  CHECK(c.auth("Cram-MD5"));
  CHECK_FALSE(c.auth("XOAUTH2"));
  CHECK_FALSE(c.auth(""));

  const auto legacy = caps_of("250-mx\r\n250 AUTH=login plain\r\n");
  CHECK(legacy.has("AUTH"));
  CHECK(legacy.auth_mechanisms() == std::vector<std::string>{"LOGIN", "PLAIN"});
  CHECK(legacy.params("AUTH") == "login plain"sv);
}

TEST_CASE("capabilities drops AUTH tokens that are not SASL mechanism names [smtpipe]") {
  const auto c = caps_of(
      "250-mx\r\n250 AUTH PLAIN bad*mech ABCDEFGHIJKLMNOPQRSTU GSSAPI \xc3\xa9 SCRAM-SHA-256 "
      "x_y\r\n");
  CHECK(c.auth_mechanisms() == std::vector<std::string>{"PLAIN", "GSSAPI", "SCRAM-SHA-256", "X_Y"});
}

TEST_CASE("capabilities handles the 60-mechanism AUTH list of EAST X_1 [smtpipe]") {
  std::string wire = "250-mx\r\n250 AUTH";
  for (int i = 0; i < 60; ++i) wire += " MECH" + std::to_string(i % 30);  // with repeats
  wire += "\r\n";
  const auto c = caps_of(wire);
  CHECK(c.auth_mechanisms().size() == 30);
  CHECK_FALSE(c.starttls());
}

TEST_CASE("capabilities SIZE: absent, no limit, numeric, garbage (RFC 1870) [smtpipe]") {
  CHECK_FALSE(caps_of("250-mx\r\n250 PIPELINING\r\n").size_limit().has_value());
  CHECK(caps_of("250-mx\r\n250 SIZE\r\n").size_limit() == 0u);
  CHECK(caps_of("250-mx\r\n250 SIZE 0\r\n").size_limit() == 0u);
  CHECK(caps_of("250-mx\r\n250 SIZE 10240000\r\n").size_limit() == 10240000u);
  CHECK(caps_of("250-mx\r\n250 SIZE abc\r\n").size_limit() == 0u);
  CHECK(caps_of("250-mx\r\n250 SIZE -5\r\n").size_limit() == 0u);
  CHECK(caps_of("250-mx\r\n250 SIZE 18446744073709551615\r\n").size_limit() ==
        18446744073709551615u);
  CHECK(caps_of("250-mx\r\n250 SIZE 18446744073709551616\r\n").size_limit() == 0u);  // overflow
  // Repeated keyword: the first one wins.
  CHECK(caps_of("250-mx\r\n250-SIZE 100\r\n250 SIZE 200\r\n").size_limit() == 100u);
}

TEST_CASE("capabilities ignores lines that are not ehlo-keywords [smtpipe]") {
  const auto c = caps_of("250-mx\r\n250--BAD\r\n250-\r\n250-FO_O\r\n250-=x\r\n250 GOOD\r\n");
  REQUIRE(c.entries().size() == 1);
  CHECK(c.entries()[0].keyword == "GOOD");
}

TEST_CASE("capabilities of a non-2yz reply, a bare 250, and clear() [smtpipe]") {
  smtpipe::reply r;
  r.code = 502;
  r.text = "Command not implemented";
  r.line_count = 1;
  CHECK(capabilities::parse(r).empty());

  const auto single = caps_of("250 mx.example.org\r\n");
  CHECK(single.domain() == "mx.example.org");
  CHECK(single.entries().empty());
  CHECK_FALSE(single.pipelining());
  CHECK_FALSE(single.empty());

  auto c = caps_of(typical);
  c.clear();
  CHECK(c.empty());
  CHECK_FALSE(c.pipelining());
  CHECK_FALSE(c.size_limit().has_value());
  CHECK(c.auth_mechanisms().empty());
}

TEST_CASE(
    "capabilities learnt before STARTTLS do not leak into a fresh parse (security.md "
    "A.8) [smtpipe]") {
  const auto before = caps_of(
      "250-mx\r\n250-CHUNKING\r\n250-SIZE 10\r\n250-AUTH PLAIN\r\n"
      "250-SMTPUTF8\r\n250 STARTTLS\r\n");
  CHECK(before.chunking());
  const auto after = caps_of("250-mx\r\n250-PIPELINING\r\n250 AUTH XOAUTH2\r\n");
  CHECK(after.pipelining());
  CHECK_FALSE(after.chunking());
  CHECK_FALSE(after.size_limit().has_value());
  CHECK_FALSE(after.auth("PLAIN"));
  CHECK(after.auth("XOAUTH2"));
  CHECK_FALSE(after.smtputf8());
}
