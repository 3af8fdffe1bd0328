// expect: names an unknown ID
#include "smtpipe/pipeline/pipeline.hpp"
struct a {
  static constexpr std::string_view name = "a";
};
// The first custom state gets ID 10: it cannot be inserted after itself.
using P = smtpipe::pipeline<smtpipe::insert_after<10, a>>;
constexpr auto order = P::order();
