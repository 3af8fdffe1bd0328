// smtpipe/pipeline/state.hpp - The requirements on a state type of the static pipeline.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PIPELINE_STATE_HPP
#define SMTPIPE_PIPELINE_STATE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/pipeline/stage.hpp"
#include "smtpipe/pipeline/transition.hpp"

#include <asio/awaitable.hpp>

#include <concepts>
#include <string_view>
#include <type_traits>

namespace smtpipe {

class session;

/// A state type: a unique `static constexpr std::string_view name` and a coroutine
/// `asio::awaitable<transition> run(session&)`. An object of the type is the state's
/// per-connection closure: made on entry (from `session&` if it has such a constructor,
/// else default-constructed) and destroyed on leaving. Optional members:
/// - `static bool applies(const session&)`: false skips the state without entering it;
/// - `static constexpr smtpipe::stage stage`: the stage reported while the state runs
///   (default `stage::unknown`); `session::set_stage` changes it as the state goes on;
/// - `static constexpr int init_local_state`: seed of `session::local_state()`.
// clang-format off (clang-format 14 splits `} && requires` of a concept)
template <class S>
concept state = requires {
  { S::name } -> std::convertible_to<std::string_view>;
}
&&requires(S& st, session& s) {
  { st.run(s) } -> std::same_as<asio::awaitable<transition>>;
}
&&(std::is_default_constructible_v<S> || std::is_constructible_v<S, session&>);
// clang-format on

namespace detail {

template <class S>
S make_closure(session& s) {
  if constexpr (std::is_constructible_v<S, session&>) return S(s);
  else return S{};
}

template <class S>
inline constexpr bool has_applies = requires(const session& s) {
  { S::applies(s) } -> std::convertible_to<bool>;
};
template <class S>
bool state_applies(const session& s) {
  if constexpr (has_applies<S>) return S::applies(s);
  else return true;
}

template <class S>
constexpr int state_default_stage() {
  if constexpr (requires { S::stage; }) return static_cast<int>(S::stage);
  else return static_cast<int>(stage::unknown);
}
template <class S>
constexpr int state_init_local_state() {
  if constexpr (requires { S::init_local_state; }) return S::init_local_state;
  else return 0;
}

template <class S>
struct check_state {
  static_assert(state<S>,
                "smtpipe: not a state type: it needs `static constexpr std::string_view name` and "
                "`asio::awaitable<smtpipe::transition> run(smtpipe::session&)`, and must be "
                "default-constructible or constructible from `smtpipe::session&`");
  static constexpr bool value = state<S>;
};

}  // namespace detail

}  // namespace smtpipe

#endif  // !SMTPIPE_PIPELINE_STATE_HPP
