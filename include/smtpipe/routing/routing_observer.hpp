// smtpipe/routing/routing_observer.hpp - A hook that sees routing decisions as they are made.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_ROUTING_OBSERVER_HPP
#define SMTPIPE_ROUTING_ROUTING_OBSERVER_HPP

#include "smtpipe/config.hpp"

#include <string_view>

namespace smtpipe {

/// Watches routing: every decision (the MX list, a host skipped, a connection refused, the
/// next MX tried) as one line of text for the domain it concerns. Runs on the delivery's
/// executor and must not block. The SMTP conversations themselves go to the session observer
/// of `session_options`.
class routing_observer {
 public:
  virtual ~routing_observer() = default;
  virtual void note(std::string_view /*domain*/, std::string_view /*text*/) {}
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_ROUTING_OBSERVER_HPP
