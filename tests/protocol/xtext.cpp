// Tests of smtpipe/protocol/xtext.hpp against RFC 3461 section 4.
#include <smtpipe/protocol/xtext.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

#include <string>
#include <string_view>

using namespace std::literals;
using smtpipe::xtext_decode;
using smtpipe::xtext_encode;

namespace {

std::string enc(std::string_view in) {
  std::string out;
  xtext_encode(in, out);
  return out;
}

}  // namespace

TEST_CASE("xtext encodes +, = and octets outside 33-126 as uppercase +HH [smtpipe]") {
  CHECK(enc("") == "");
  CHECK(enc("abc-123@example.org") == "abc-123@example.org");
  CHECK(enc("+") == "+2B");
  CHECK(enc("=") == "+3D");
  CHECK(enc(" ") == "+20");
  CHECK(enc("a+b=c d") == "a+2Bb+3Dc+20d");
  CHECK(enc("\r\n"sv) == "+0D+0A");
  CHECK(enc("\0"sv) == "+00");
  CHECK(enc("\x7f"sv) == "+7F");
  CHECK(enc("\xc3\xa9"sv) == "+C3+A9");
  CHECK(enc("!~") == "!~");  // both ends of the xchar range stay as they are
  CHECK(smtpipe::xtext_encoded_size("a+b=c d") == 13);
}

TEST_CASE("xtext_encode appends [smtpipe]") {
  std::string out = "ENVID=";
  xtext_encode("id 1", out);
  CHECK(out == "ENVID=id+201");
}

TEST_CASE("xtext decodes hexchars and xchars [smtpipe]") {
  std::string out = ">";
  CHECK_FALSE(xtext_decode("a+2Bb+3Dc+20d", out));
  CHECK(out == ">a+b=c d");
  out.clear();
  CHECK_FALSE(xtext_decode("+00+FF", out));
  CHECK(out == "\0\xff"sv);
}

TEST_CASE("xtext round-trips every octet [smtpipe]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  const std::string e = enc(all);
  for (char c : e) {
    const auto u = static_cast<unsigned char>(c);
    CHECK((u >= 33 && u <= 126 && c != '='));
  }
  std::string back;
  CHECK_FALSE(xtext_decode(e, back));
  CHECK(back == all);
}

TEST_CASE("xtext_decode refuses invalid input and leaves the output unchanged [smtpipe]") {
  const std::string_view bad[] = {
      "+2b",   // lowercase hex is not a hexchar in RFC 3461
      "+",     // truncated
      "+2",    // truncated
      "a+G0",  // not hex
      "=",     // "=" must be encoded
      "a b",   // SP must be encoded
      "a\r\nb", "\x80"sv, "\0"sv, "\x7f"sv,
  };
  for (std::string_view b : bad) {
    CAPTURE(b);
    std::string out = "keep";
    CHECK(xtext_decode(b, out) == smtpipe::errc::invalid_xtext);
    CHECK(out == "keep");
  }
}
