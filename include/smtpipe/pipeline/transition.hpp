// smtpipe/pipeline/transition.hpp - What a state asks the runner to do when it ends.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PIPELINE_TRANSITION_HPP
#define SMTPIPE_PIPELINE_TRANSITION_HPP

#include "smtpipe/config.hpp"

#include <cstdint>

namespace smtpipe {

class session;
namespace detail {
struct session_control;
}  // namespace detail

/// The value a state's coroutine returns. Details of a failure (the reply that decided it,
/// the disposition) are recorded in the session by `session::fail_transaction` and
/// `session::fail_session`, which return the matching transition: that is the only way to
/// make one, so a failure never leaves the session without its reason.
class transition {
 public:
  enum class kind : std::uint8_t {
    next,              ///< Follow the pipeline order (Momentum: `smtp_next_state(NULL)`).
    jump,              ///< Go to the state with `target()` (Momentum: `smtp_next_state(s)`).
    fail_transaction,  ///< End the current transaction; the runner goes on with `rset`.
    fail_session,      ///< End the session; remaining recipients are not delivered.
    close,             ///< Close the connection now, without QUIT.
  };

  static constexpr transition next() noexcept { return {kind::next, -1}; }
  static constexpr transition jump(int state_id) noexcept { return {kind::jump, state_id}; }
  static constexpr transition close() noexcept { return {kind::close, -1}; }

  constexpr kind what() const noexcept { return kind_; }
  constexpr int target() const noexcept { return target_; }
  friend constexpr bool operator==(transition, transition) = default;

 private:
  friend class session;
  friend struct detail::session_control;
  static constexpr transition fail_transaction() noexcept { return {kind::fail_transaction, -1}; }
  static constexpr transition fail_session() noexcept { return {kind::fail_session, -1}; }
  constexpr transition(kind k, int target) noexcept : kind_(k), target_(target) {}
  kind kind_;
  int target_;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_PIPELINE_TRANSITION_HPP
