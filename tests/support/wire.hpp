// tests/support/wire.hpp - Helpers to assert on the bytes a scripted server captured.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TESTS_SUPPORT_WIRE_HPP
#define SMTPIPE_TESTS_SUPPORT_WIRE_HPP

#include "smtpipe/session/result.hpp"
#include "support/script_server.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace smtpipe::test {

/// How many times `needle` occurs in `hay` (non-overlapping).
inline std::size_t count_of(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != hay.npos; at = hay.find(needle, at + needle.size()))
    ++n;
  return n;
}

inline bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != hay.npos;
}

/// What the client sent, cut where the server's reads were cut: on loopback each client write
/// arrives as one read, so this shows which commands left together.
inline std::vector<std::string> chunks(const script_server& srv) {
  std::vector<std::string> out;
  std::size_t at = 0;
  for (std::size_t n : srv.reads()) {
    out.push_back(srv.received().substr(at, n));
    at += n;
  }
  return out;
}

/// Everything the client sent after the first occurrence of `marker` (marker excluded), or
/// the marker itself when it was never sent (so that a missing marker fails the comparison).
inline std::string sent_after(const script_server& srv, std::string_view marker) {
  const std::string& r = srv.received();
  const std::size_t at = r.find(marker);
  return at == r.npos ? "<" + std::string(marker) + " never sent>" : r.substr(at + marker.size());
}

/// Every field of a result that a caller acts on, one recipient per line: comparing two of
/// these compares two outcomes, and a failed check shows the difference.
inline std::string describe(const session_result& r) {
  std::string out = "error=" + (r.error ? r.error.message() : std::string("none")) +
                    " state=" + r.error_state + " stage=" + std::to_string(r.error_stage) +
                    " text=" + r.error_text + " greeting=" + r.greeting +
                    " esmtp=" + std::to_string(r.esmtp) +
                    " pipelining=" + std::to_string(r.pipelining) +
                    " transactions=" + std::to_string(r.transactions) + "\n";
  for (std::size_t m = 0; m < r.messages.size(); ++m) {
    const auto& mr = r.messages[m];
    out += "message " + std::to_string(m) + ": error=" + (mr.error ? mr.error.message() : "none") +
           " transactions=" + std::to_string(mr.transactions) + "\n";
    for (const auto& rr : mr.recipients)
      out += "  " + rr.address + " " + to_string(rr.status) + " " + std::to_string(rr.code) + " " +
             rr.enhanced.to_string() + " [" + rr.text + "] state=" + rr.state + "/" +
             std::to_string(rr.state_id) + " error=" + (rr.error ? rr.error.message() : "none") +
             "\n";
  }
  return out;
}

}  // namespace smtpipe::test

#endif  // !SMTPIPE_TESTS_SUPPORT_WIRE_HPP
