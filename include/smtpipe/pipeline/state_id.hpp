// smtpipe/pipeline/state_id.hpp - The built-in states: one list, their IDs and names.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PIPELINE_STATE_ID_HPP
#define SMTPIPE_PIPELINE_STATE_ID_HPP

#include "smtpipe/config.hpp"

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace smtpipe {

namespace states {
struct banner;
struct ehlo;
struct helo;
struct starttls;
struct auth;
struct mail;
struct rcpt;
struct data;
struct rset;
struct quit;
}  // namespace states

namespace detail {

template <class... T>
struct type_list {
  static constexpr std::size_t size = sizeof...(T);
};

template <class S, class... T>
constexpr int index_in(type_list<T...>) noexcept {
  int index = 0, found = -1;
  ((std::is_same_v<S, T> ? (found = index, ++index) : ++index), ...);
  return found;
}

}  // namespace detail

/// The built-in states in their default order: THE list. Element `i` has ID `i`; the IDs
/// below, `builtin_state_id` and the runner's tables are derived from it, and
/// <smtpipe/states/builtin_states.hpp> checks each state's `name` against
/// `builtin_state_names`.
using builtin_state_list =
    detail::type_list<states::banner, states::ehlo, states::helo, states::starttls, states::auth,
                      states::mail, states::rcpt, states::data, states::rset, states::quit>;

/// The fixed ID of a built-in state type, or -1 for any other type.
template <class State>
inline constexpr int builtin_state_id = detail::index_in<State>(builtin_state_list{});

/// State IDs. Built-in states have these IDs in this default order; custom states get
/// `first_custom`, `first_custom + 1`, ... in the order they are registered.
namespace state_id {
inline constexpr int head = -1;  ///< `insert_after` value that puts a state before `banner`.
inline constexpr int banner = builtin_state_id<states::banner>;
inline constexpr int ehlo = builtin_state_id<states::ehlo>;
inline constexpr int helo = builtin_state_id<states::helo>;
inline constexpr int starttls = builtin_state_id<states::starttls>;
inline constexpr int auth = builtin_state_id<states::auth>;
inline constexpr int mail = builtin_state_id<states::mail>;
inline constexpr int rcpt = builtin_state_id<states::rcpt>;
inline constexpr int data = builtin_state_id<states::data>;
inline constexpr int rset = builtin_state_id<states::rset>;
inline constexpr int quit = builtin_state_id<states::quit>;
inline constexpr int builtin_count = static_cast<int>(builtin_state_list::size);
inline constexpr int first_custom = builtin_count;
}  // namespace state_id

/// Names of the built-in states, indexed by ID (each state type's `name`, checked where the
/// types are complete).
inline constexpr std::array<std::string_view, state_id::builtin_count> builtin_state_names{
    "banner", "ehlo", "helo", "starttls", "auth", "mail", "rcpt", "data", "rset", "quit"};

}  // namespace smtpipe

#endif  // !SMTPIPE_PIPELINE_STATE_ID_HPP
