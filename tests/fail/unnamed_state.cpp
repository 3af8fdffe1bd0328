// expect: a state type needs a non-empty
#include "smtpipe/pipeline/pipeline.hpp"
struct nameless {};
using P = smtpipe::pipeline<smtpipe::insert_after<1, nameless>>;
constexpr auto order = P::order();
