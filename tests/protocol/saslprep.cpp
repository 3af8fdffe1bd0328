// Tests of smtpipe/sasl/saslprep.hpp: RFC 4013's examples and the documented subset.
#include <smtpipe/sasl/saslprep.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

#include <string>
#include <string_view>

using namespace std::literals;
using smtpipe::errc;

namespace {

std::string prep(std::string_view in) {
  std::string out;
  REQUIRE_FALSE(smtpipe::saslprep(in, out));
  return out;
}

std::error_code refused(std::string_view in) {
  std::string out = "keep";
  const std::error_code ec = smtpipe::saslprep(in, out);
  CHECK(out == "keep");
  return ec;
}

}  // namespace

TEST_CASE("saslprep follows the RFC 4013 section 3 examples [smtpipe]") {
  CHECK(prep("I\xc2\xad"
             "X") == "IX");        // 1: SOFT HYPHEN mapped to nothing
  CHECK(prep("user") == "user");   // 2: no transformation
  CHECK(prep("USER") == "USER");   // 3: case preserved
  CHECK(prep("\xc2\xaa") == "a");  // 4: NFKC of FEMININE ORDINAL INDICATOR
  // 5: ROMAN NUMERAL NINE would become "IX" under NFKC; outside the subset, so refused.
  CHECK(refused("\xe2\x85\xa8") == errc::invalid_argument);
  CHECK(refused("\x07") == errc::invalid_argument);  // 6: prohibited
  CHECK(refused("\xd8\xa7"
                "1") == errc::invalid_argument);  // 7: bidi check
}

TEST_CASE("saslprep leaves printable ASCII unchanged [smtpipe]") {
  std::string all;
  for (char c = 0x20; c < 0x7f; ++c) all += c;
  CHECK(prep(all) == all);
  CHECK(prep("pencil") == "pencil");
  CHECK(prep("") == "");
}

TEST_CASE("saslprep maps non-ASCII spaces to SP and drops the B.1 characters [smtpipe]") {
  CHECK(prep("a\xc2\xa0"
             "b") == "a b");  // U+00A0 NO-BREAK SPACE
  CHECK(prep("a\xe3\x80\x80"
             "b") == "a b");  // U+3000 IDEOGRAPHIC SPACE
  CHECK(prep("a\xe2\x80\x80\xe2\x80\x8a"
             "b") == "a  b");  // U+2000, U+200A
  CHECK(prep("a\xe2\x80\xaf\xe2\x81\x9f\xe1\x9a\x80"
             "b") == "a   b");  // U+202F, U+205F, U+1680
  CHECK(prep("a\xe2\x80\x8b"
             "b") == "ab");  // U+200B: in B.1 and C.1.2, dropped
  CHECK(prep("a\xe2\x80\x8c\xe2\x80\x8d\xe2\x81\xa0"
             "b") == "ab");  // ZWNJ, ZWJ, WORD JOINER
  CHECK(prep("\xef\xbb\xbf"
             "ab\xef\xb8\x80\xef\xb8\x8f") == "ab");  // BOM, VS1, VS16
  CHECK(prep("a\xcd\x8f\xe1\xa0\x86\xe1\xa0\x8b\xe1\xa0\x8d"
             "b") == "ab");  // U+034F, U+1806...
}

TEST_CASE("saslprep keeps Latin-1 letters and maps the Latin-1 superscripts [smtpipe]") {
  CHECK(prep("p\xc3\xa4ss") == "p\xc3\xa4ss");  // U+00E4: NFKC-stable
  CHECK(prep("\xc3\x80\xc3\xbf\xc2\xa1\xc2\xbf") == "\xc3\x80\xc3\xbf\xc2\xa1\xc2\xbf");
  CHECK(prep("x\xc2\xb2\xc2\xb3\xc2\xb9\xc2\xba") == "x231o");  // superscripts
}

TEST_CASE("saslprep refuses what needs normalisation tables or is prohibited [smtpipe]") {
  const std::string_view bad[] = {
      "\xc2\xb5",          // MICRO SIGN: NFKC gives U+03BC
      "\xc2\xbd",          // VULGAR FRACTION ONE HALF
      "\xc2\xa8",          // DIAERESIS: NFKC gives SP U+0308
      "e\xcc\x81",         // e + COMBINING ACUTE: NFKC composes
      "\xef\xbc\xa1",      // FULLWIDTH A
      "\xe2\x84\xab",      // ANGSTROM SIGN
      "pass\tword",        // C.2.1
      "pass\x7fword",      // C.2.1 DEL
      "\xc2\x85",          // C.2.2 NEXT LINE
      "a\0b"sv,            // NUL
      "\xf0\x9f\x98\x80",  // outside the subset
  };
  for (std::string_view b : bad) {
    CAPTURE(b);
    CHECK(refused(b) == errc::invalid_argument);
  }
}

TEST_CASE("saslprep refuses ill-formed UTF-8 [smtpipe]") {
  const std::string_view bad[] = {
      "\xc3",              // truncated
      "\xc3(",             // bad continuation
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong
      "\xed\xa0\x80",      // surrogate
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\x80",              // lone continuation
      "\xff",
  };
  for (std::string_view b : bad) {
    CAPTURE(b);
    CHECK(refused(b) == errc::invalid_argument);
  }
}

TEST_CASE("saslprep appends, and leaves the output as it was when it refuses [smtpipe]") {
  std::string out = "n=";
  CHECK_FALSE(smtpipe::saslprep("user", out));
  CHECK(out == "n=user");
  std::string keep = "pre";
  CHECK(smtpipe::saslprep("secret\x07", keep) == errc::invalid_argument);
  CHECK(keep == "pre");
}
