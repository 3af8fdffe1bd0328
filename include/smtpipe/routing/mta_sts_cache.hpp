// smtpipe/routing/mta_sts_cache.hpp - MTA-STS policies kept for their max_age (RFC 8461 §5).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_MTA_STS_CACHE_HPP
#define SMTPIPE_ROUTING_MTA_STS_CACHE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/routing/mta_sts_policy.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace smtpipe {

/// Policies by domain, each until its `max_age` runs out. A policy is replaced when a newer
/// one is fetched (the TXT `id` changed); an expired one is never returned. Not thread-safe:
/// used from the delivery's executor.
class mta_sts_cache {
 public:
  using clock = std::chrono::steady_clock;

  /// The cached policy of `domain` still valid at `now`.
  std::optional<mta_sts_policy> get(const std::string& domain,
                                    clock::time_point now = clock::now()) {
    auto it = entries_.find(domain);
    if (it == entries_.end()) return std::nullopt;
    if (now >= it->second.expires) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.policy;
  }

  void put(const std::string& domain, const mta_sts_policy& policy,
           clock::time_point now = clock::now()) {
    entries_[domain] = {policy, now + std::chrono::seconds(policy.max_age)};
  }

  void erase(const std::string& domain) { entries_.erase(domain); }
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct entry {
    mta_sts_policy policy;
    clock::time_point expires;
  };
  std::map<std::string, entry> entries_;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_MTA_STS_CACHE_HPP
