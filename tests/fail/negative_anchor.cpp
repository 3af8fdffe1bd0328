// expect: names an unknown ID
#include "smtpipe/pipeline/pipeline.hpp"
struct a {
  static constexpr std::string_view name = "a";
};
using P = smtpipe::pipeline<smtpipe::insert_after<-2, a>>;
constexpr auto order = P::order();
