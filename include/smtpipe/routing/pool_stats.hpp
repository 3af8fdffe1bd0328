// smtpipe/routing/pool_stats.hpp - What a connection pool did: connections opened, reused, closed.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_POOL_STATS_HPP
#define SMTPIPE_ROUTING_POOL_STATS_HPP

#include "smtpipe/config.hpp"

#include <cstddef>

namespace smtpipe {

/// Counters of a `connection_pool` since it was made.
struct pool_stats {
  std::size_t connections_opened = 0;  ///< Sessions started (each on a new connection).
  std::size_t reuses = 0;              ///< Deliveries run on a connection that was idle.
  std::size_t dead_on_reuse = 0;  ///< Idle connections the liveness check found closed or talking.
  std::size_t idle_timeouts = 0;  ///< Idle connections closed by `idle_timeout`.
  std::size_t retired = 0;        ///< Closed for `max_messages_per_connection` or to free a place.
  std::size_t peak_open = 0;      ///< The most connections (and places being opened) at once.
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_POOL_STATS_HPP
