// smtpipe/states/quit.hpp - The quit state: QUIT and close.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_QUIT_HPP
#define SMTPIPE_STATES_QUIT_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/detail/builtin_steps.hpp"
#include "smtpipe/session/session.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

/// RFC 5321 §4.1.1.10: QUIT, pipelined behind a final "." when allowed. Its reply (or a close
/// instead of one) is only logged; the replies still due before it, such as the final ".",
/// are read first and still decide their recipients. Skipped on a broken connection.
struct quit {
  static constexpr std::string_view name = "quit";
  static constexpr smtpipe::stage stage = smtpipe::stage::unknown;

  static bool applies(const session& s) { return detail::builtin_steps::can_quit(s); }

  asio::awaitable<transition> run(session& s);
};

}  // namespace smtpipe::states

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/states/impl/quit.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_QUIT_HPP
