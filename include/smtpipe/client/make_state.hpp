// smtpipe/client/make_state.hpp - A runtime smtp_state made from a static state type.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLIENT_MAKE_STATE_HPP
#define SMTPIPE_CLIENT_MAKE_STATE_HPP

#include "smtpipe/client/smtp_state.hpp"
#include "smtpipe/config.hpp"
#include "smtpipe/pipeline/stage.hpp"
#include "smtpipe/pipeline/state.hpp"
#include "smtpipe/session/session.hpp"

#include <string>
#include <type_traits>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

namespace detail {

// An empty state type has nothing per connection: one shared instance serves every
// session. At runtime it is the registration closure, which `closure_as_state` makes the
// state closure on entry (nothing to allocate, nothing to free).
template <class S>
inline constexpr bool shared_closure = std::is_empty_v<S>&& std::is_default_constructible_v<S> &&
                                       !std::is_constructible_v<S, session&>;
template <class S>
inline S shared_instance{};

inline void* closure_as_state(session&, void* closure) { return closure; }

template <class S>
struct runtime_adapter {
  static void* setup(session& s, void*) { return new S(make_closure<S>(s)); }
  static asio::awaitable<transition> callback(session& s, void*) {
    return static_cast<S*>(s.state_closure())->run(s);
  }
  static void free(session&, void* state_closure, void*) { delete static_cast<S*>(state_closure); }
  static int tostage(const session&, void*) { return state_default_stage<S>(); }
  static bool applies(const session& s, void*) { return state_applies<S>(s); }
};

}  // namespace detail

/// The runtime form of state type `S`, ready for `register_smtp_client_state`: a state
/// written once for the static pipeline also registers at runtime, with the same behaviour.
template <class S>
smtp_state make_state() {
  static_assert(detail::check_state<S>::value);
  using adapter = detail::runtime_adapter<S>;
  smtp_state st;
  st.name = std::string(S::name);
  st.init_local_state = detail::state_init_local_state<S>();
  if constexpr (detail::shared_closure<S>) {
    st.setup = &detail::closure_as_state;
    st.closure = &detail::shared_instance<S>;
  } else {
    st.setup = &adapter::setup;
    st.free = &adapter::free;
  }
  st.callback = &adapter::callback;
  st.tostage = &adapter::tostage;
  st.tostring = &default_tostring;
  if constexpr (detail::has_applies<S>) st.applies = &adapter::applies;
  return st;
}

}  // namespace smtpipe

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_CLIENT_MAKE_STATE_HPP
