// smtpipe/session/timeouts.hpp - How long a session waits at each step.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_TIMEOUTS_HPP
#define SMTPIPE_SESSION_TIMEOUTS_HPP

#include "smtpipe/config.hpp"

#include <algorithm>
#include <chrono>
#include <initializer_list>

namespace smtpipe {

/// Per-step timeouts. Defaults follow RFC 5321 §4.5.3.2 where it names a value; the others
/// are smtpipe's choices, explained beside each. Every wait for a reply restarts its clock
/// when the reply becomes the next one due; `session` bounds the whole conversation so a
/// server that trickles one byte at a time cannot hold a connection forever.
struct timeouts {
  using duration = std::chrono::milliseconds;

  duration connect{std::chrono::seconds(30)};    ///< TCP connect (Postfix's 30 s).
  duration greeting{std::chrono::minutes(5)};    ///< 220 banner (RFC 5321: 5 min).
  duration ehlo{std::chrono::minutes(5)};        ///< EHLO/HELO/LHLO reply (as MAIL: 5 min).
  duration starttls{std::chrono::minutes(2)};    ///< STARTTLS reply and TLS handshake.
  duration auth{std::chrono::minutes(2)};        ///< Each AUTH round trip.
  duration mail{std::chrono::minutes(5)};        ///< MAIL reply (RFC 5321: 5 min).
  duration rcpt{std::chrono::minutes(5)};        ///< RCPT reply (RFC 5321: 5 min).
  duration data_init{std::chrono::minutes(2)};   ///< DATA's 354 (RFC 5321: 2 min).
  duration data_block{std::chrono::minutes(3)};  ///< Progress of each body write (3 min).
  duration data_done{std::chrono::minutes(10)};  ///< Reply to the final "." (RFC 5321: 10 min).
  duration rset{std::chrono::seconds(30)};       ///< RSET reply (Momentum's 30 s).
  duration quit{std::chrono::seconds(30)};       ///< QUIT reply; only logged, so kept short.
  duration command{std::chrono::minutes(5)};     ///< Replies to commands of custom states.
  duration session{duration::zero()};            ///< Whole session; zero means no limit.

  /// Every timeout multiplied by `factor` (session included); lets tests shrink them.
  timeouts scaled(double factor) const {
    timeouts t = *this;
    each(t, [factor](duration& d) {
      d = duration(static_cast<duration::rep>(static_cast<double>(d.count()) * factor));
    });
    return t;
  }

  /// The shortest non-zero timeout: the session's watchdog never sleeps longer than this.
  duration shortest() const {
    duration m = duration::max();
    each(*this, [&m](const duration& d) {
      if (d.count() > 0) m = std::min(m, d);
    });
    return m;
  }

 private:
  template <class Self, class F>
  static void each(Self& t, F f) {
    for (auto* d :
         {&t.connect, &t.greeting, &t.ehlo, &t.starttls, &t.auth, &t.mail, &t.rcpt, &t.data_init,
          &t.data_block, &t.data_done, &t.rset, &t.quit, &t.command, &t.session})
      f(*d);
  }
};

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_TIMEOUTS_HPP
