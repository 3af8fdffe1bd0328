// expect: not a state type
#include "smtpipe/client/make_state.hpp"
struct no_run {
  static constexpr std::string_view name = "no_run";
};
auto st = smtpipe::make_state<no_run>();
