// expect: COMPILES
// The control case: the same includes and shapes as the failing cases, all valid.
#include "smtpipe/client/make_state.hpp"
#include "smtpipe/pipeline/pipeline.hpp"
#include "smtpipe/states/ehlo.hpp"
struct a {
  static constexpr std::string_view name = "a";
};
struct b {
  static constexpr std::string_view name = "b";
  asio::awaitable<smtpipe::transition> run(smtpipe::session&) {
    co_return smtpipe::transition::next();
  }
};
struct c {
  static constexpr std::string_view name = "c";
};
using P =
    smtpipe::pipeline<smtpipe::insert_after<1, smtpipe::group<a, b>>, smtpipe::insert_after<11, c>>;
constexpr auto order = P::order();
static_assert(P::id_of<c>() == 12 && P::id_of<smtpipe::states::ehlo>() == 1);
auto st = smtpipe::make_state<b>();
