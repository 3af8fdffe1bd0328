// expect: the same state type is registered twice
#include "smtpipe/pipeline/pipeline.hpp"
struct a {
  static constexpr std::string_view name = "a";
};
struct b {
  static constexpr std::string_view name = "b";
};
using P = smtpipe::pipeline<smtpipe::insert_after<1, smtpipe::group<a, smtpipe::group<b, a>>>>;
constexpr auto order = P::order();
