// smtpipe/states/builtin_states.hpp - The ten built-in state types, in ID order.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_BUILTIN_STATES_HPP
#define SMTPIPE_STATES_BUILTIN_STATES_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/pipeline/state_id.hpp"
#include "smtpipe/states/auth.hpp"
#include "smtpipe/states/banner.hpp"
#include "smtpipe/states/data.hpp"
#include "smtpipe/states/ehlo.hpp"
#include "smtpipe/states/helo.hpp"
#include "smtpipe/states/mail.hpp"
#include "smtpipe/states/quit.hpp"
#include "smtpipe/states/rcpt.hpp"
#include "smtpipe/states/rset.hpp"
#include "smtpipe/states/starttls.hpp"

namespace smtpipe::states {

/// The built-in states; element `i` has ID `i` (`builtin_state_list`, now complete).
using builtin = builtin_state_list;

namespace detail {
template <class... S>
constexpr bool names_match(smtpipe::detail::type_list<S...>) {
  int id = 0;
  return ((S::name == builtin_state_names[static_cast<std::size_t>(id++)]) && ...);
}
}  // namespace detail
static_assert(detail::names_match(builtin{}),
              "smtpipe: a built-in state's `name` differs from builtin_state_names[its ID]");

}  // namespace smtpipe::states

#endif  // !SMTPIPE_STATES_BUILTIN_STATES_HPP
