// Tests of smtpipe/protocol/disposition.hpp against RFC 5321 section 4.2.1.
#include <smtpipe/protocol/disposition.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

using smtpipe::class_of;
using smtpipe::disposition;
using smtpipe::disposition_of;
using smtpipe::reply_class;

static_assert(disposition_of(250) == disposition::positive);
static_assert(class_of(354) == reply_class::positive_intermediate);

TEST_CASE("disposition_of follows the first digit of the reply code [smtpipe]") {
  CHECK(disposition_of(200) == disposition::positive);
  CHECK(disposition_of(220) == disposition::positive);
  CHECK(disposition_of(250) == disposition::positive);
  CHECK(disposition_of(334) == disposition::positive);
  CHECK(disposition_of(354) == disposition::positive);
  CHECK(disposition_of(399) == disposition::positive);
  CHECK(disposition_of(400) == disposition::transient);
  CHECK(disposition_of(421) == disposition::transient);
  CHECK(disposition_of(452) == disposition::transient);
  CHECK(disposition_of(499) == disposition::transient);
  CHECK(disposition_of(500) == disposition::permanent);
  CHECK(disposition_of(550) == disposition::permanent);
  CHECK(disposition_of(554) == disposition::permanent);
}

TEST_CASE("codes outside 200-599 count as permanent failures [smtpipe]") {
  for (int code : {0, -1, 1, 100, 199, 600, 666, 699, 850, 1000}) {
    CAPTURE(code);
    CHECK(disposition_of(code) == disposition::permanent);
    CHECK(class_of(code) == reply_class::permanent_negative);
  }
}

TEST_CASE("class_of maps 2yz-5yz to the reply classes [smtpipe]") {
  CHECK(class_of(250) == reply_class::positive_completion);
  CHECK(class_of(334) == reply_class::positive_intermediate);
  CHECK(class_of(451) == reply_class::transient_negative);
  CHECK(class_of(550) == reply_class::permanent_negative);
  CHECK(static_cast<int>(class_of(451)) == 4);
  CHECK(smtpipe::to_string(disposition::transient) == "transient");
}
