// smtpipe/pipeline/pipeline.hpp - The static pipeline: registrations flattened at compile time.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PIPELINE_PIPELINE_HPP
#define SMTPIPE_PIPELINE_PIPELINE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/pipeline/group.hpp"
#include "smtpipe/pipeline/insert_after.hpp"
#include "smtpipe/pipeline/state_id.hpp"

#include <boost/hana/flatten.hpp>
#include <boost/hana/size.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <boost/hana/unpack.hpp>

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

namespace smtpipe {

namespace detail {

namespace hana = boost::hana;

// The leaves of a registration's state: the state itself, or a group's states, recursively,
// flattened with Hana at compile time.
template <class S>
struct leaves_of {
  static constexpr auto value = hana::make_tuple(hana::type_c<S>);
};
template <class... S>
struct leaves_of<group<S...>> {
  static_assert(sizeof...(S) > 0, "smtpipe::group<>: an empty group registers nothing");
  static constexpr auto value = hana::flatten(hana::make_tuple(leaves_of<S>::value...));
};

template <class... Registrations>
constexpr auto flatten_registrations() {
  return hana::unpack(
      hana::flatten(hana::make_tuple(leaves_of<typename Registrations::state>::value...)),
      [](auto... t) { return type_list<typename decltype(t)::type...>{}; });
}

template <class S>
constexpr std::size_t leaf_count() {
  return hana::size(leaves_of<S>::value);
}

template <class S>
concept named_state = requires {
  { S::name } -> std::convertible_to<std::string_view>;
};

template <class S>
constexpr std::string_view name_of() {
  if constexpr (named_state<S>) return S::name;
  else return {};
}

// Diagnostics: each check is a class template so that the compiler's note names the
// registration (its ID and state type) next to the message.
template <int After, class State, bool Known>
struct check_anchor {
  static_assert(Known,
                "smtpipe::pipeline: insert_after<ID, State> names an unknown ID: ID must be -1, "
                "a built-in state ID (0-9) or the ID of a state registered before State");
  static constexpr bool value = Known;
};
template <class State, bool Unique>
struct check_unique {
  static_assert(Unique,
                "smtpipe::pipeline: the same state type is registered twice (built-in states "
                "are always present and cannot be registered again)");
  static constexpr bool value = Unique;
};
template <class State, bool Named>
struct check_named {
  static_assert(Named,
                "smtpipe::pipeline: a state type needs a non-empty `static constexpr "
                "std::string_view name`");
  static constexpr bool value = Named;
};
template <class State, bool NameUnique>
struct check_name_unique {
  static_assert(NameUnique,
                "smtpipe::pipeline: two states share a name (names are unique and differ from "
                "the built-in state names)");
  static constexpr bool value = NameUnique;
};

// Name equality for constant evaluation, cheaper there than `std::string_view::operator==`.
constexpr bool same_name(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// Every type of a list as a distinct base `slot<index, type>`: the index of a type is then
// deduced from the derived-to-base conversion, without comparing it to every other type.
template <std::size_t I, class T>
struct slot {};
template <class Indices, class... T>
struct slots;
template <std::size_t... I, class... T>
struct slots<std::index_sequence<I...>, T...> : slot<I, T>... {};

inline constexpr std::size_t no_slot = static_cast<std::size_t>(-1);

// The index of `S`; `no_slot` if `S` is not in the list or is in it more than once (the
// deduction of `I` then fails).
template <class S, std::size_t I>
constexpr std::size_t slot_of(const slot<I, S>*) noexcept {
  return I;
}
template <class S>
constexpr std::size_t slot_of(const void*) noexcept {
  return no_slot;
}

template <class List>
struct pipeline_info;

template <class... T>
struct pipeline_info<type_list<T...>> {
  static constexpr std::size_t count = sizeof...(T);
  using index = slots<std::index_sequence_for<T...>, T...>;

  // The index of `S` if the list holds it exactly once, else `no_slot`.
  template <class S>
  static constexpr std::size_t unique_index() noexcept {
    return slot_of<S>(static_cast<const index*>(nullptr));
  }

  static constexpr std::array<std::string_view, count + 1> names{name_of<T>()..., {}};

  // Whether the name of the state at `k` differs from every built-in name and every other
  // state's name: all pairs compared once per pipeline, not once per state.
  static constexpr std::array<bool, count + 1> name_unique = [] {
    std::array<bool, count + 1> unique{};
    for (std::size_t k = 0; k < count; ++k) {
      unique[k] = true;
      for (auto builtin : builtin_state_names)
        if (same_name(builtin, names[k])) unique[k] = false;
    }
    for (std::size_t k = 0; k < count; ++k)
      for (std::size_t j = k + 1; j < count; ++j)
        if (same_name(names[j], names[k])) unique[k] = unique[j] = false;
    return unique;
  }();
};

// IDs an anchor may name when the flattened registration `k` is made.
constexpr bool anchor_known(int anchor, std::size_t k) {
  return anchor == state_id::head ||
         (anchor >= 0 && static_cast<std::size_t>(anchor) < state_id::builtin_count + k);
}

// Linked-list insertion (Momentum's semantics) on an array: the order after registering
// custom state `first_custom + k` after `anchors[k]`, for every k.
template <std::size_t N>
constexpr std::array<int, state_id::builtin_count + N> insertion_order(
    const std::array<int, N + 1>& anchors) {
  std::array<int, state_id::builtin_count + N> order{};
  std::size_t length = 0;
  for (int id = 0; id < state_id::builtin_count; ++id) order[length++] = id;
  for (std::size_t k = 0; k < N; ++k) {
    std::size_t position = 0;
    if (anchors[k] != state_id::head) {
      while (order[position] != anchors[k]) ++position;
      ++position;
    }
    for (std::size_t i = length; i > position; --i) order[i] = order[i - 1];
    order[position] = state_id::first_custom + static_cast<int>(k);
    ++length;
  }
  return order;
}

}  // namespace detail

namespace detail {

// Everything a pipeline computes, kept out of `pipeline` so that it is complete when used.
template <class... Registrations>
struct pipeline_data {
  static_assert((is_insert_after<Registrations> && ...),
                "smtpipe::pipeline<...>: every argument must be smtpipe::insert_after<ID, State>");

  using custom_states = decltype(flatten_registrations<Registrations...>());
  using info = pipeline_info<custom_states>;
  static constexpr std::size_t count = custom_states::size;

  // The anchor of every flattened registration: the registration's ID for the first state
  // of a registration, the previous state's ID for the others (the group rule).
  static constexpr std::array<int, count + 1> anchors = [] {
    constexpr std::array<int, sizeof...(Registrations) + 1> ids{Registrations::anchor..., 0};
    constexpr std::array<std::size_t, sizeof...(Registrations) + 1> sizes{
        leaf_count<typename Registrations::state>()..., 0};
    std::array<int, count + 1> result{};
    std::size_t k = 0;
    for (std::size_t r = 0; r < sizeof...(Registrations); ++r)
      for (std::size_t i = 0; i < sizes[r]; ++i, ++k)
        result[k] = i == 0 ? ids[r] : state_id::first_custom + static_cast<int>(k) - 1;
    return result;
  }();

  // The checks of the state `S` at index `K`.
  template <std::size_t K, class S>
  static constexpr bool check() {
    constexpr bool unique = info::template unique_index<S>() == K;
    return check_named<S, !name_of<S>().empty()>::value &&
           check_unique<S, (unique && builtin_state_id<S> < 0)>::value &&
           check_name_unique<S, (!unique || info::name_unique[K])>::value &&
           check_anchor<anchors[K], S, anchor_known(anchors[K], K)>::value;
  }
  template <class... S, std::size_t... K>
  static constexpr bool check_all(type_list<S...>, std::index_sequence<K...>) {
    return (true && ... && check<K, S>());
  }
  static constexpr bool valid = check_all(custom_states{}, std::make_index_sequence<count>{});
};

}  // namespace detail

/// A pipeline of states built at compile time: the ten built-in states plus every state of
/// `Registrations` (each an `insert_after<ID, State>`), with the same IDs and order that the
/// same calls to `register_smtp_client_state` would give. Custom states are numbered from
/// `state_id::first_custom` in flattened registration order. An unknown ID, a state type
/// registered twice or two states with one name stop the compilation with a message naming
/// the problem.
///
/// @par Example
/// @code
/// using P = smtpipe::pipeline<smtpipe::insert_after<smtpipe::state_id::ehlo, xclient>,
///                             smtpipe::insert_after<smtpipe::state_id::head, proxy_header>>;
/// static_assert(P::id_of<xclient>() == 10 && P::id_of<proxy_header>() == 11);
/// static_assert(P::order()[0] == 11 && P::order()[3] == 10);  // proxy, banner, ehlo, xclient
/// @endcode
template <class... Registrations>
class pipeline {
  using data_ = detail::pipeline_data<Registrations...>;
  static_assert(data_::valid);

 public:
  /// The custom states in ID order, flattened: `detail::type_list<S...>`.
  using custom_states = typename data_::custom_states;
  static constexpr std::size_t custom_count = data_::count;
  static constexpr std::size_t size = state_id::builtin_count + custom_count;

  /// The ID of `State` in this pipeline (built-in state types included).
  template <class State>
  static constexpr int id_of() noexcept {
    if constexpr (builtin_state_id<State> >= 0) {
      return builtin_state_id<State>;
    } else {
      constexpr std::size_t k = data_::info::template unique_index<State>();
      static_assert(k != detail::no_slot,
                    "smtpipe::pipeline::id_of<State>: State is not a state of this pipeline");
      return state_id::first_custom + static_cast<int>(k);
    }
  }

  /// The IDs of all states in execution order.
  static constexpr std::array<int, size> order() noexcept {
    return detail::insertion_order<custom_count>(data_::anchors);
  }

  /// The `insert_after` ID used for the custom state with ID `first_custom + k`.
  static constexpr int anchor_of(std::size_t k) noexcept { return data_::anchors[k]; }

  /// The name of the state with `id`, or an empty view for an unknown ID.
  static constexpr std::string_view name_of(int id) noexcept {
    if (id >= 0 && id < state_id::builtin_count) return builtin_state_names[id];
    if (id >= state_id::first_custom && id < static_cast<int>(size))
      return data_::info::names[id - state_id::first_custom];
    return {};
  }
};

/// The built-in states alone, in their default order.
using default_pipeline = pipeline<>;

template <class T>
inline constexpr bool is_pipeline = false;
template <class... R>
inline constexpr bool is_pipeline<pipeline<R...>> = true;

}  // namespace smtpipe

#endif  // !SMTPIPE_PIPELINE_PIPELINE_HPP
