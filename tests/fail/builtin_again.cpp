// expect: the same state type is registered twice
#include "smtpipe/pipeline/pipeline.hpp"
#include "smtpipe/states/ehlo.hpp"
// Built-in states are always present.
using P = smtpipe::pipeline<smtpipe::insert_after<smtpipe::state_id::mail, smtpipe::states::ehlo>>;
constexpr auto order = P::order();
