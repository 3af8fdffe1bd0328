// smtpipe/routing/mx_record.hpp - One MX record (RFC 1035 §3.3.9) and its RDATA parser.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_MX_RECORD_HPP
#define SMTPIPE_ROUTING_MX_RECORD_HPP

#include "smtpipe/config.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smtpipe {

/// An MX record: preference and exchange host. A null MX (RFC 7505) has exchange ".".
struct mx_record {
  std::uint16_t preference = 0;
  std::string exchange;  ///< Lower-case, without the final dot; "." for the root (null MX).

  bool null() const noexcept { return exchange == "."; }
};

/// Parses MX RDATA in wire format (16-bit preference, then an uncompressed domain name, as
/// libunbound gives it). Empty on malformed data.
inline std::optional<mx_record> parse_mx_record(std::string_view rdata) {
  if (rdata.size() < 3) return std::nullopt;
  mx_record r;
  r.preference = static_cast<std::uint16_t>((static_cast<unsigned char>(rdata[0]) << 8) |
                                            static_cast<unsigned char>(rdata[1]));
  std::size_t i = 2;
  std::string name;
  for (;;) {
    if (i >= rdata.size()) return std::nullopt;
    const auto len = static_cast<unsigned char>(rdata[i++]);
    if (len == 0) break;
    if (len > 63 || i + len > rdata.size()) return std::nullopt;  // compression or overrun
    if (!name.empty()) name += '.';
    for (std::size_t k = 0; k < len; ++k) {
      char c = rdata[i + k];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      name += c;
    }
    i += len;
  }
  if (i != rdata.size() || name.size() > 253) return std::nullopt;
  r.exchange = name.empty() ? std::string(".") : std::move(name);
  return r;
}

}  // namespace smtpipe

#endif  // !SMTPIPE_ROUTING_MX_RECORD_HPP
