// smtpipe/states/rset.hpp - The rset state: reset a failed transaction, loop to the next one.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_RSET_HPP
#define SMTPIPE_STATES_RSET_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/detail/builtin_steps.hpp"
#include "smtpipe/session/session.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

/// The end of every transaction. RSET (RFC 5321 §4.1.1.5) when a transaction was opened and
/// not completed and another one follows; then back to `mail` while messages remain, else on
/// to `quit`. Pipelinable: the RSET leaves with the next MAIL group.
struct rset {
  static constexpr std::string_view name = "rset";
  static constexpr smtpipe::stage stage = smtpipe::stage::during_rset;

  asio::awaitable<transition> run(session& s);
};

}  // namespace smtpipe::states

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/states/impl/rset.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_RSET_HPP
