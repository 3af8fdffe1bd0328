// smtpipe/session/tlsa_record.hpp - One TLSA record (RFC 6698): usage, selector, matching, data.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_TLSA_RECORD_HPP
#define SMTPIPE_SESSION_TLSA_RECORD_HPP

#include "smtpipe/config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smtpipe {

/// A TLSA record (RFC 6698 §2.1) as published for a TLS service, e.g. `_25._tcp.mx.example`.
struct tlsa_record {
  std::uint8_t usage = 0;     ///< 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
  std::uint8_t selector = 0;  ///< 0 the full certificate, 1 its SubjectPublicKeyInfo.
  std::uint8_t matching = 0;  ///< 0 exact, 1 SHA2-256, 2 SHA2-512.
  std::string data;           ///< The certificate association data (binary).

  /// RFC 7672 §3.1.3: for SMTP only DANE-TA(2) and DANE-EE(3) are usable, with the selectors
  /// and matching types RFC 6698 defines (and digests of their proper length).
  bool usable_for_smtp() const noexcept {
    if (usage != 2 && usage != 3) return false;
    if (selector > 1) return false;
    switch (matching) {
      case 0: return !data.empty();
      case 1: return data.size() == 32;
      case 2: return data.size() == 64;
      default: return false;
    }
  }
};

/// Parses TLSA RDATA in wire format; nothing when it is shorter than its three fixed octets.
inline std::optional<tlsa_record> parse_tlsa_record(std::string_view rdata) {
  if (rdata.size() < 4) return std::nullopt;
  tlsa_record r;
  r.usage = static_cast<std::uint8_t>(rdata[0]);
  r.selector = static_cast<std::uint8_t>(rdata[1]);
  r.matching = static_cast<std::uint8_t>(rdata[2]);
  r.data.assign(rdata.substr(3));
  return r;
}

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_TLSA_RECORD_HPP
