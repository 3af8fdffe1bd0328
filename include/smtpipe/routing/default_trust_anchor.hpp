// smtpipe/routing/default_trust_anchor.hpp - Where the system keeps the DNSSEC root trust anchor.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_DEFAULT_TRUST_ANCHOR_HPP
#define SMTPIPE_ROUTING_DEFAULT_TRUST_ANCHOR_HPP

#include "smtpipe/config.hpp"

#include <fstream>
#include <string>

namespace smtpipe {

/// The root zone's trust anchor file of this system: unbound-anchor's (kept current by RFC
/// 5011 rollover, /var/lib/unbound/root.key), else dns-root-data's (/usr/share/dns/root.key);
/// empty when neither can be read.
inline std::string default_trust_anchor_file() {
  for (const char* path : {"/var/lib/unbound/root.key", "/usr/share/dns/root.key"}) {
    std::ifstream f(path);
    if (f.good() && f.peek() != std::ifstream::traits_type::eof()) return path;
  }
  return {};
}

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_DEFAULT_TRUST_ANCHOR_HPP
