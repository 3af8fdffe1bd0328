// expect: every argument must be smtpipe::insert_after
#include "smtpipe/pipeline/pipeline.hpp"
struct a {
  static constexpr std::string_view name = "a";
};
using P = smtpipe::pipeline<a>;
constexpr auto order = P::order();
