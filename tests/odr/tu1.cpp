// One of two translation units that include all of smtpipe: linking them proves the headers
// define nothing twice, and that process-wide objects are one object.
#include <smtpipe.hpp>

namespace {
struct from_tu1 {
  static constexpr std::string_view name = "from_tu1";
  asio::awaitable<smtpipe::transition> run(smtpipe::session&) {
    co_return smtpipe::transition::next();
  }
};
}  // namespace

int register_in_tu1() {
  auto st = smtpipe::make_state<from_tu1>();
  return smtpipe::register_smtp_client_state(&st, smtpipe::state_id::ehlo);
}

const void* machine_address_tu1() { return &smtpipe::default_state_machine(); }
const std::error_category* category_tu1() { return &smtpipe::error_category(); }
