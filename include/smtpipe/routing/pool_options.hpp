// smtpipe/routing/pool_options.hpp - Limits and timeouts of a connection pool.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_POOL_OPTIONS_HPP
#define SMTPIPE_ROUTING_POOL_OPTIONS_HPP

#include "smtpipe/config.hpp"

#include <chrono>
#include <cstddef>

namespace smtpipe {

/// How a `connection_pool` keeps and shares its connections. A destination is one MX host
/// set (or relay host) with one source address, TLS policy and port.
struct pool_options {
  pool_options() = default;  // not an aggregate (g++ 12 and braced temporaries)

  /// An idle connection is closed with QUIT after this long without a delivery.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(5)};
  /// Messages started on one connection at most, then it is closed with QUIT; 0: no limit.
  std::size_t max_messages_per_connection = 100;
  /// Connections open at once to one destination (busy or idle).
  std::size_t max_per_destination = 4;
  /// Connections open at once in the whole pool (busy or idle). An idle connection of one
  /// destination is closed to give its place to a delivery waiting for another.
  std::size_t max_connections = 64;
  /// Before an idle connection is reused, look at its socket without sending anything: bytes
  /// waiting (a 421 the server sent while idle) or a closed connection make it unusable.
  bool liveness_check = true;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_POOL_OPTIONS_HPP
