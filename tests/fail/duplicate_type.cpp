// expect: the same state type is registered twice
#include "smtpipe/pipeline/pipeline.hpp"
struct a {
  static constexpr std::string_view name = "a";
};
using P = smtpipe::pipeline<smtpipe::insert_after<1, a>, smtpipe::insert_after<5, a>>;
constexpr auto order = P::order();
