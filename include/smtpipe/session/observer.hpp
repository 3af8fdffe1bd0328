// smtpipe/session/observer.hpp - Hooks that watch a session: states, commands, replies.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_OBSERVER_HPP
#define SMTPIPE_SESSION_OBSERVER_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/pipeline/transition.hpp"
#include "smtpipe/protocol/reply.hpp"

#include <cstdint>
#include <string_view>

namespace smtpipe {

class session;

/// Watches a session. Every hook has an empty default; override what you need. Hooks run on
/// the session's executor and must not block. A session without observer pays nothing.
class session_observer {
 public:
  virtual ~session_observer() = default;

  virtual void state_entered(const session&, int /*id*/, std::string_view /*name*/) {}
  virtual void state_left(const session&, int /*id*/, transition) {}
  /// A state whose `applies` said no was passed over without being entered.
  virtual void state_skipped(const session&, int /*id*/, std::string_view /*name*/) {}
  /// One command line as written, without CRLF; secrets (AUTH payloads) already redacted.
  virtual void command_sent(const session&, std::string_view /*line*/) {}
  /// `octets` of canonical message data written (the DATA payload).
  virtual void body_sent(const session&, std::uint64_t /*octets*/) {}
  virtual void reply_received(const session&, const reply&) {}
  /// Bytes discarded or refused for safety (e.g. plaintext buffered behind a STARTTLS 220).
  virtual void note(const session&, std::string_view /*text*/) {}
};

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_OBSERVER_HPP
