// expect: State is not a state of this pipeline
#include "smtpipe/pipeline/pipeline.hpp"
struct a {
  static constexpr std::string_view name = "a";
};
struct b {
  static constexpr std::string_view name = "b";
};
using P = smtpipe::pipeline<smtpipe::insert_after<1, a>>;
constexpr int id = P::id_of<b>();
