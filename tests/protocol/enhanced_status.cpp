// Tests of smtpipe/protocol/enhanced_status.hpp against RFC 3463 section 2.
#include <smtpipe/protocol/enhanced_status.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

#include <string_view>

using smtpipe::enhanced_status;
using smtpipe::parse_enhanced_status;

static_assert([] {
  enhanced_status s;
  return parse_enhanced_status("5.1.1 x", s) == 6 && s == enhanced_status{5, 1, 1};
}());

TEST_CASE("parse_enhanced_status reads class.subject.detail and one space [smtpipe]") {
  enhanced_status s;
  CHECK(parse_enhanced_status("5.1.1 User unknown", s) == 6);
  CHECK(s == enhanced_status{5, 1, 1});
  CHECK(parse_enhanced_status("2.0.0", s) == 5);
  CHECK(s == enhanced_status{2, 0, 0});
  CHECK(parse_enhanced_status("4.7.123 x", s) == 8);
  CHECK(s == enhanced_status{4, 7, 123});
  CHECK(parse_enhanced_status("5.123.999 x", s) == 10);
  CHECK(s == enhanced_status{5, 123, 999});
  CHECK(parse_enhanced_status("2.001.002 x", s) == 10);  // 1*3digit allows leading zeros
  CHECK(s == enhanced_status{2, 1, 2});
  CHECK(parse_enhanced_status("5.1.1  two spaces", s) == 6);  // only ONE space is consumed
  CHECK(parse_enhanced_status("4.4.1 ", s) == 6);
}

TEST_CASE("parse_enhanced_status refuses what RFC 3463 does not allow [smtpipe]") {
  const std::string_view bad[] = {
      "",           "5",        "5.1",      "5.1.",    "5..1 x", ".5.1.1",
      "3.1.1 x",  // class must be 2, 4 or 5
      "1.1.1 x",    "6.1.1 x",  "0.0.0 x",
      "5.1234.1 x",  // subject at most 3 digits
      "5.1.1234 x",  // detail at most 3 digits
      "5.1.1x",      // must be followed by SP or end
      "5.1.1-x",    "5.1.1\tx", "55.1.1 x", "5,1,1 x", "x.1.1",  "5.a.1 x", "5.1.a",
      "250 5.1.1",  // the reply code is not part of it
  };
  for (std::string_view b : bad) {
    CAPTURE(b);
    enhanced_status s{4, 2, 2};
    CHECK(parse_enhanced_status(b, s) == 0);
    CHECK(s == enhanced_status{4, 2, 2});  // untouched
  }
}

TEST_CASE("enhanced_status prints as class.subject.detail [smtpipe]") {
  CHECK(enhanced_status{}.to_string().empty());
  CHECK_FALSE(enhanced_status{}.present());
  CHECK(enhanced_status{5, 1, 1}.present());
  CHECK(enhanced_status{5, 1, 1}.to_string() == "5.1.1");
  CHECK(enhanced_status{4, 7, 123}.to_string() == "4.7.123");
  CHECK(enhanced_status{2, 0, 0} != enhanced_status{2, 0, 1});
}
