// smtpipe/states/banner.hpp - The banner state: wait for the server's 220 greeting.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_BANNER_HPP
#define SMTPIPE_STATES_BANNER_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/detail/builtin_steps.hpp"
#include "smtpipe/session/session.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

/// RFC 5321 §3.1, §4.3.2: the server speaks first. 220 goes on; 421 ends the session with a
/// transient failure, 554 (any 5yz) with a permanent one, other 4yz transiently; any other
/// code is not a greeting and is a protocol error.
struct banner {
  static constexpr std::string_view name = "banner";
  static constexpr smtpipe::stage stage = smtpipe::stage::reading_banner;

  asio::awaitable<transition> run(session& s);
};

}  // namespace smtpipe::states

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/states/impl/banner.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_BANNER_HPP
