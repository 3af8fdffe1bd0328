// smtpipe/pipeline/insert_after.hpp - A static registration: a state after another state.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PIPELINE_INSERT_AFTER_HPP
#define SMTPIPE_PIPELINE_INSERT_AFTER_HPP

#include "smtpipe/config.hpp"

#include <type_traits>

namespace smtpipe {

/// One registration of a `pipeline`: `State` (a state type or a `group`) goes immediately after
/// the state whose ID is `After`; `After == state_id::head` (-1) puts it before `banner`.
/// The static twin of `register_smtp_client_state(&state, After)`.
template <int After, class State>
struct insert_after {
  static constexpr int anchor = After;
  using state = State;
};

template <class T>
inline constexpr bool is_insert_after = false;
template <int After, class State>
inline constexpr bool is_insert_after<insert_after<After, State>> = true;

}  // namespace smtpipe

#endif  // !SMTPIPE_PIPELINE_INSERT_AFTER_HPP
