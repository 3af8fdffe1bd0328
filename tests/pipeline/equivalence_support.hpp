// Support for the generated equivalence test: a pool of state types and refused registrations.
#ifndef SMTPIPE_TESTS_PIPELINE_EQUIVALENCE_SUPPORT_HPP
#define SMTPIPE_TESTS_PIPELINE_EQUIVALENCE_SUPPORT_HPP

#include "smtpipe/client/make_state.hpp"
#include "smtpipe/client/state_machine.hpp"
#include "smtpipe/pipeline/pipeline.hpp"

#include <doctest/doctest.h>

#include <array>
#include <string>
#include <vector>

namespace {

template <int I>
struct pool_state {
  static constexpr std::array<char, 4> text{'s', I < 10 ? char('0' + I) : char('0' + I / 10),
                                            I < 10 ? '\0' : char('0' + I % 10), '\0'};
  static constexpr std::string_view name{text.data()};
  asio::awaitable<smtpipe::transition> run(smtpipe::session&) {
    co_return smtpipe::transition::next();
  }
};

// clang-format off
#define SMTPIPE_POOL(I) using s##I = pool_state<I>
SMTPIPE_POOL(0); SMTPIPE_POOL(1); SMTPIPE_POOL(2); SMTPIPE_POOL(3); SMTPIPE_POOL(4); SMTPIPE_POOL(5);
SMTPIPE_POOL(6); SMTPIPE_POOL(7); SMTPIPE_POOL(8); SMTPIPE_POOL(9); SMTPIPE_POOL(10); SMTPIPE_POOL(11);
SMTPIPE_POOL(12); SMTPIPE_POOL(13); SMTPIPE_POOL(14); SMTPIPE_POOL(15); SMTPIPE_POOL(16);
SMTPIPE_POOL(17); SMTPIPE_POOL(18); SMTPIPE_POOL(19); SMTPIPE_POOL(20); SMTPIPE_POOL(21);
SMTPIPE_POOL(22); SMTPIPE_POOL(23); SMTPIPE_POOL(24); SMTPIPE_POOL(25); SMTPIPE_POOL(26);
SMTPIPE_POOL(27); SMTPIPE_POOL(28); SMTPIPE_POOL(29); SMTPIPE_POOL(30); SMTPIPE_POOL(31);
SMTPIPE_POOL(32); SMTPIPE_POOL(33); SMTPIPE_POOL(34); SMTPIPE_POOL(35); SMTPIPE_POOL(36);
SMTPIPE_POOL(37); SMTPIPE_POOL(38); SMTPIPE_POOL(39); SMTPIPE_POOL(40); SMTPIPE_POOL(41);
SMTPIPE_POOL(42); SMTPIPE_POOL(43); SMTPIPE_POOL(44); SMTPIPE_POOL(45); SMTPIPE_POOL(46);
SMTPIPE_POOL(47);
#undef SMTPIPE_POOL
// clang-format on

// A complete runtime state with another name.
template <class S>
smtpipe::smtp_state renamed(std::string name) {
  smtpipe::smtp_state st = smtpipe::make_state<S>();
  st.name = std::move(name);
  return st;
}
// Complete but for one mandatory callback: Momentum refuses these.
inline smtpipe::smtp_state without_callback(std::string name) {
  auto st = renamed<s0>(std::move(name));
  st.callback = nullptr;
  return st;
}
inline smtpipe::smtp_state without_tostage(std::string name) {
  auto st = renamed<s0>(std::move(name));
  st.tostage = nullptr;
  return st;
}
inline smtpipe::smtp_state without_tostring(std::string name) {
  auto st = renamed<s0>(std::move(name));
  st.tostring = nullptr;
  return st;
}

template <std::size_t N>
std::vector<int> to_vector(const std::array<int, N>& a) {
  return {a.begin(), a.end()};
}

// IDs met walking the machine from its head along `next`.
inline std::vector<int> walk(const smtpipe::state_machine& m) {
  std::vector<int> ids;
  for (const smtpipe::smtp_state* s = m.head(); s; s = s->next) ids.push_back(s->id);
  return ids;
}

}  // namespace

#endif  // !SMTPIPE_TESTS_PIPELINE_EQUIVALENCE_SUPPORT_HPP
