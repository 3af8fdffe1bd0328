// The second translation unit; see tu1.cpp.
#include <smtpipe.hpp>

#include <cstdio>

int register_in_tu1();
const void* machine_address_tu1();
const std::error_category* category_tu1();

int main() {
  const int id = register_in_tu1();
  const smtpipe::smtp_state* seen = smtpipe::smtp_get_state(id);
  const bool ok = id == smtpipe::state_id::first_custom && seen && seen->name == "from_tu1" &&
                  machine_address_tu1() == &smtpipe::default_state_machine() &&
                  category_tu1() == &smtpipe::error_category() &&
                  smtpipe::make_error_code(smtpipe::errc::timeout).category() == *category_tu1();
  std::printf("%s\n", ok ? "one machine, one category" : "ODR violation");
  return ok ? 0 : 1;
}
