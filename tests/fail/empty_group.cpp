// expect: an empty group registers nothing
#include "smtpipe/pipeline/pipeline.hpp"
using P = smtpipe::pipeline<smtpipe::insert_after<1, smtpipe::group<>>>;
constexpr auto order = P::order();
