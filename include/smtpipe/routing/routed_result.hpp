// smtpipe/routing/routed_result.hpp - The result of a routed delivery: every recipient, every
// domain. SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_ROUTED_RESULT_HPP
#define SMTPIPE_ROUTING_ROUTED_RESULT_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/routing/domain_result.hpp"
#include "smtpipe/session/result.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace smtpipe {

/// `messages` mirrors the input: one result per message, one per recipient in its order,
/// each with the `host` and `host_address` that decided it. `domains` says how each recipient
/// domain was routed, in the order the domains first appear.
struct routed_result {
  std::vector<message_result> messages;
  std::vector<domain_result> domains;

  bool all_delivered() const noexcept {
    return std::all_of(messages.begin(), messages.end(),
                       [](const auto& m) { return m.all_delivered(); });
  }
  std::size_t count(delivery_status s) const noexcept {
    std::size_t n = 0;
    for (const auto& m : messages) n += m.count(s);
    return n;
  }
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_ROUTED_RESULT_HPP
