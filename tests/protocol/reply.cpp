// Tests of smtpipe/protocol/reply.hpp: accessors, line iteration and sanitising for logs.
#include <smtpipe/protocol/reply.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

#include <string>
#include <string_view>
#include <vector>

using namespace std::literals;
using smtpipe::reply;

namespace {

reply make(int code, std::string text, std::uint32_t lines, smtpipe::enhanced_status es = {}) {
  reply r;
  r.code = code;
  r.text = std::move(text);
  r.line_count = lines;
  r.enhanced = es;
  return r;
}

std::vector<std::string> collect(const reply& r) {
  std::vector<std::string> v;
  r.for_each_line([&](std::string_view l) { v.emplace_back(l); });
  return v;
}

}  // namespace

TEST_CASE("reply classifies its code [smtpipe]") {
  CHECK(make(250, "ok", 1).positive());
  CHECK(make(354, "go", 1).positive());
  CHECK(make(421, "bye", 1).transient());
  CHECK(make(550, "no", 1).permanent());
  CHECK(make(550, "no", 1).disp() == smtpipe::disposition::permanent);
  CHECK(make(0, "", 0).permanent());  // an empty reply is never a success
  CHECK(make(250, "", 1).is(250));
  CHECK_FALSE(make(251, "", 1).is(250));
}

TEST_CASE("reply lines split the text on newlines [smtpipe]") {
  const reply r = make(250, "mx.example.org\nPIPELINING\n\nSIZE 100", 4);
  CHECK(collect(r) == std::vector<std::string>{"mx.example.org", "PIPELINING", "", "SIZE 100"});
  std::vector<std::string> via_range;
  for (std::string_view l : r.lines()) via_range.emplace_back(l);
  CHECK(via_range == collect(r));
  CHECK(r.first_line() == "mx.example.org");

  CHECK(collect(make(250, "", 1)) == std::vector<std::string>{""});  // "250\r\n": one empty line
  CHECK(collect(make(250, "\n", 2)) == std::vector<std::string>{"", ""});
  CHECK(collect(make(0, "", 0)).empty());
  CHECK(make(0, "", 0).lines().empty());
  CHECK(make(0, "", 0).lines().begin() == make(0, "", 0).lines().end());
}

TEST_CASE("reply::clear keeps the text buffer [smtpipe]") {
  reply r = make(550, std::string(1000, 'x'), 1, {5, 1, 1});
  const auto cap = r.text.capacity();
  r.clear();
  CHECK(r.code == 0);
  CHECK(r.text.empty());
  CHECK(r.line_count == 0);
  CHECK_FALSE(r.enhanced.present());
  CHECK(r.text.capacity() == cap);
}

TEST_CASE("reply::to_string gives one line with code and enhanced code [smtpipe]") {
  CHECK(make(550, "No such user\nhere", 2, {5, 1, 1}).to_string() == "550 5.1.1 No such user here");
  CHECK(make(250, "", 1).to_string() == "250");
  CHECK(make(221, "bye", 1).to_string() == "221 bye");
  CHECK(make(550, "a\x1b[2Jb", 1).to_string() == "550 a?[2Jb");
}

TEST_CASE("reply::sanitized_text neutralises controls and truncates [smtpipe]") {
  // ESC sequences, NUL, DEL, HT and C1 controls (U+009B is a one-character CSI) never reach logs.
  CHECK(make(550, "a\x1b[31mred\x7f", 1).sanitized_text() == "a?[31mred?");
  CHECK(make(550, "a\0b\tc"s, 1).sanitized_text() == "a?b?c");
  CHECK(make(550,
             "x\xc2\x9b"
             "31m",
             1)
            .sanitized_text() == "x?31m");
  // Well-formed UTF-8 stays; ill-formed octets become '?', one each.
  CHECK(make(250, "h\xc3\xa9llo \xe2\x82\xac", 1).sanitized_text() == "h\xc3\xa9llo \xe2\x82\xac");
  CHECK(make(250, "a\xff\xc3", 1).sanitized_text() == "a??");
  CHECK(make(250, "\xed\xa0\x80", 1).sanitized_text() == "???");  // UTF-16 surrogate
  // Lines are joined with spaces.
  CHECK(make(250, "one\ntwo", 2).sanitized_text() == "one two");

  const reply big = make(550, std::string(10 * 1024, 'A'), 1);
  const std::string s = big.sanitized_text(100);
  CHECK(s == std::string(100, 'A') + "...");
  CHECK(big.sanitized_text(20000) == big.text);
  CHECK(make(250, "abc", 1).sanitized_text(3) == "abc");
  CHECK(make(250, "abcd", 1).sanitized_text(3) == "abc...");
  // Never cut inside a UTF-8 sequence: "\xc3\xa9" is 2 octets and does not fit after "ab".
  CHECK(make(250, "ab\xc3\xa9z", 1).sanitized_text(3) == "ab...");
}
