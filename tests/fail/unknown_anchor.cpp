// expect: names an unknown ID
#include "smtpipe/pipeline/pipeline.hpp"
struct a {
  static constexpr std::string_view name = "a";
};
struct b {
  static constexpr std::string_view name = "b";
};
// b anchors on ID 11, which no state has yet (a is 10).
using P = smtpipe::pipeline<smtpipe::insert_after<1, a>, smtpipe::insert_after<11, b>>;
constexpr auto order = P::order();
