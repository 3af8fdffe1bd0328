// smtpipe/routing/host_attempt.hpp - One host (and address) tried or skipped, and why it was left.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_HOST_ATTEMPT_HPP
#define SMTPIPE_ROUTING_HOST_ATTEMPT_HPP

#include "smtpipe/config.hpp"

#include <string>
#include <system_error>

namespace smtpipe {

/// A host of a route that was skipped (no address, address literal) or an address that was
/// tried and left for the next one (no connection, 4xx/421 greeting, TLS required and failed),
/// or the one that decided (`decided`).
struct host_attempt {
  std::string host;     ///< The MX host name.
  std::string address;  ///< The IP address tried; empty when the host was skipped.
  std::error_code error;
  std::string reason;    ///< Human-readable: the error, the server's reply text...
  bool decided = false;  ///< This session decided the recipients (delivered or refused).
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_HOST_ATTEMPT_HPP
