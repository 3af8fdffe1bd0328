// smtpipe/states/data.hpp - The data state: DATA, the body, and the final ".".
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_DATA_HPP
#define SMTPIPE_STATES_DATA_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/detail/builtin_steps.hpp"
#include "smtpipe/session/session.hpp"

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::states {

/// RFC 5321 §4.1.1.4: DATA is a sync point. With PIPELINING it flushes MAIL, every RCPT and
/// DATA as one group and reads every reply before deciding (RFC 2920 §3.1): a refused MAIL or
/// no accepted recipient ends the transaction (a lone "." first when DATA still got 354); a
/// refused DATA decides the accepted recipients. After 354 the body is streamed through the
/// encoder; the final "." is queued and, with PIPELINING, leaves with the next group (the next
/// MAIL or QUIT), its reply deciding every accepted recipient. When the server advertises
/// CHUNKING (and session_options::chunking is on) the body goes with BDAT instead.
struct data {
  static constexpr std::string_view name = "data";

  static bool applies(const session& s) { return s.current_transaction().open; }

  /// 6 "during DATA" until 354, 8 "while sending BODY", 9 "reading confirmation".
  static constexpr smtpipe::stage stage = smtpipe::stage::during_data;

  asio::awaitable<transition> run(session& s);

 private:
  /// RFC 3030: no DATA and no 354. MAIL and the RCPTs are flushed (with PIPELINING in one
  /// group, together with the previous message's last chunk); the body then goes in BDAT
  /// chunks, and `BDAT n LAST` waits in the queue like the final ".", its reply deciding the
  /// accepted recipients. A refused chunk decides them and ends the transaction (RSET follows).
  static asio::awaitable<transition> run_bdat(session& s);

  static asio::awaitable<transition> run_data(session& s);
};

}  // namespace smtpipe::states

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#include "smtpipe/states/impl/data.hpp"
#endif

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_STATES_DATA_HPP
