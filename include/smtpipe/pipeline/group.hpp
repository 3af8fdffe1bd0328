// smtpipe/pipeline/group.hpp - Several states registered as one contiguous block.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PIPELINE_GROUP_HPP
#define SMTPIPE_PIPELINE_GROUP_HPP

#include "smtpipe/config.hpp"

namespace smtpipe {

/// `insert_after<ID, group<S1, S2, S3>>` is exactly `S1` after `ID`, `S2` after `S1`, `S3` after
/// `S2`. Groups nest: a nested group counts as the block of its states, so the state after it
/// goes after the nested group's last state. IDs are assigned in that flattened order.
template <class... States>
struct group {};

template <class T>
inline constexpr bool is_group = false;
template <class... States>
inline constexpr bool is_group<group<States...>> = true;

}  // namespace smtpipe

#endif  // !SMTPIPE_PIPELINE_GROUP_HPP
