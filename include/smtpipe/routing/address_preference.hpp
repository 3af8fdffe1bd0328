// smtpipe/routing/address_preference.hpp - Which address families to connect to, in what order.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_ADDRESS_PREFERENCE_HPP
#define SMTPIPE_ROUTING_ADDRESS_PREFERENCE_HPP

#include "smtpipe/config.hpp"

namespace smtpipe {

/// The address families of an MX host to try, and their order.
enum class address_preference {
  ipv6_first,  ///< AAAA addresses, then A (the default).
  ipv4_first,  ///< A addresses, then AAAA.
  ipv4_only,   ///< A only: AAAA is not even asked for.
  ipv6_only,   ///< AAAA only.
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_ADDRESS_PREFERENCE_HPP
