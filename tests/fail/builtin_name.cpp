// expect: two states share a name
#include "smtpipe/pipeline/pipeline.hpp"
struct my_quit {
  static constexpr std::string_view name = "quit";
};
using P = smtpipe::pipeline<smtpipe::insert_after<1, my_quit>>;
constexpr auto order = P::order();
