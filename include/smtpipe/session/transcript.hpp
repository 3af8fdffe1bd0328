// smtpipe/session/transcript.hpp - An observer that writes the conversation as C:/S: lines.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_TRANSCRIPT_HPP
#define SMTPIPE_SESSION_TRANSCRIPT_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/session/observer.hpp"

#include <ostream>
#include <string>

namespace smtpipe {

/// Writes `C: <command>` and `S: <reply line>` lines to a stream, one per line on the wire.
/// Message data is summarised (`C: <1234 octets of message data>`), AUTH payloads arrive
/// here already redacted, and control characters in replies are shown as '?'.
class transcript : public session_observer {
 public:
  explicit transcript(std::ostream& out) : out_(out) {}

  void command_sent(const session&, std::string_view line) override {
    out_ << "C: " << line << '\n';
  }
  void body_sent(const session&, std::uint64_t octets) override {
    out_ << "C: <" << octets << " octets of message data>\n";
  }
  void reply_received(const session&, const reply& r) override {
    std::uint32_t i = 0;
    const std::string enhanced = r.enhanced.present() ? r.enhanced.to_string() + ' ' : "";
    r.for_each_line([&](std::string_view line) {
      ++i;
      out_ << "S: " << r.code << (i < r.line_count ? '-' : ' ') << enhanced;
      for (char c : line) out_ << (static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
      out_ << '\n';
    });
  }
  void note(const session&, std::string_view text) override { out_ << "*  " << text << '\n'; }

 private:
  std::ostream& out_;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_TRANSCRIPT_HPP
