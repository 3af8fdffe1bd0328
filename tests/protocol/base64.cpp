// Tests of smtpipe/protocol/base64.hpp against RFC 4648.
#include <smtpipe/protocol/base64.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

#include <string>
#include <string_view>

using namespace std::literals;
using smtpipe::base64_decode;
using smtpipe::base64_encode;

namespace {

std::string enc(std::string_view in) {
  std::string out;
  base64_encode(in, out);
  return out;
}

}  // namespace

TEST_CASE("base64 encodes the RFC 4648 section 10 test vectors [smtpipe]") {
  CHECK(enc("") == "");
  CHECK(enc("f") == "Zg==");
  CHECK(enc("fo") == "Zm8=");
  CHECK(enc("foo") == "Zm9v");
  CHECK(enc("foob") == "Zm9vYg==");
  CHECK(enc("fooba") == "Zm9vYmE=");
  CHECK(enc("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64 decodes the RFC 4648 section 10 test vectors [smtpipe]") {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"Zg==", "f"},
      {"Zm8=", "fo"},
      {"Zm9v", "foo"},
      {"Zm9vYg==", "foob"},
      {"Zm9vYmE=", "fooba"},
      {"Zm9vYmFy", "foobar"},
  };
  for (const auto& v : vectors) {
    std::string out;
    CAPTURE(v.first);
    CHECK_FALSE(base64_decode(v.first, out));
    CHECK(out == v.second);
  }
}

TEST_CASE("base64 uses the standard alphabet, including + and / [smtpipe]") {
  CHECK(enc("\xfb\xff"sv) == "+/8=");
  CHECK(enc("\x00\xff"sv) == "AP8=");
  CHECK(enc("\x00\x00\x00"sv) == "AAAA");
  // RFC 4616 PLAIN message "\0tim\0tanstaaftanstaaf" (RFC 4616 section 4 example).
  CHECK(enc("\0tim\0tanstaaftanstaaf"sv) == "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
  std::string out;
  CHECK_FALSE(base64_decode("+/8=", out));
  CHECK(out == "\xfb\xff"sv);
}

TEST_CASE("base64 appends to the output and never inserts line breaks [smtpipe]") {
  std::string out = "AUTH PLAIN ";
  base64_encode(std::string(300, 'x'), out);
  CHECK(out.rfind("AUTH PLAIN ", 0) == 0);
  CHECK(out.size() == 11 + 400);
  CHECK(out.find_first_of("\r\n") == std::string::npos);

  std::string dec = "prefix:";
  CHECK_FALSE(base64_decode("Zm9v", dec));
  CHECK(dec == "prefix:foo");
}

TEST_CASE("base64_encoded_size counts padding [smtpipe]") {
  CHECK(smtpipe::base64_encoded_size(0) == 0);
  CHECK(smtpipe::base64_encoded_size(1) == 4);
  CHECK(smtpipe::base64_encoded_size(2) == 4);
  CHECK(smtpipe::base64_encoded_size(3) == 4);
  CHECK(smtpipe::base64_encoded_size(4) == 8);
  CHECK(smtpipe::base64_encoded_size(300) == 400);
}

TEST_CASE("base64 round-trips every octet value and every tail length [smtpipe]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += (n < 8 ? 1 : 37)) {
    const std::string in = all.substr(0, n);
    const std::string e = enc(in);
    CHECK(e.size() == smtpipe::base64_encoded_size(n));
    std::string back;
    CHECK_FALSE(base64_decode(e, back));
    CHECK(back == in);
  }
}

TEST_CASE("base64_decode is strict and leaves the output unchanged on error [smtpipe]") {
  const std::string_view bad[] = {
      "Zg",            // no padding (RFC 4648 section 3.2: padding is required here)
      "Zg=",           // length not a multiple of 4
      "Z",             // truncated
      "Zh==",          // non-zero unused bits (section 3.5: not canonical)
      "Zm9=",          // non-zero unused bits with one "="
      "Zg==Zg==",      // padding in the middle
      "Z===",          // too much padding
      "====",          // padding only
      "Zm9v\r\n",      // line break
      "Zm9 v",         // whitespace
      " Zm9v",         // leading whitespace
      "Zm9v-_8=",      // URL-safe alphabet is not base64
      "Zm9v\0AAA"sv,   // NUL
      "Zm\xc3\xa9"sv,  // 8-bit
      "Zg=a",          // data after padding
  };
  for (std::string_view b : bad) {
    CAPTURE(b);
    std::string out = "keep";
    CHECK(base64_decode(b, out) == smtpipe::errc::invalid_base64);
    CHECK(out == "keep");
    CHECK_FALSE(smtpipe::is_base64(b));
  }
  CHECK(smtpipe::is_base64(""));
  CHECK(smtpipe::is_base64("Zm9vYg=="));
}
