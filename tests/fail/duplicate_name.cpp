// expect: two states share a name
#include "smtpipe/pipeline/pipeline.hpp"
struct a {
  static constexpr std::string_view name = "audit";
};
struct b {
  static constexpr std::string_view name = "audit";
};
using P = smtpipe::pipeline<smtpipe::insert_after<1, a>, smtpipe::insert_after<1, b>>;
constexpr auto order = P::order();
