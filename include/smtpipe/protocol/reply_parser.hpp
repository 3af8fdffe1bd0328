// smtpipe/protocol/reply_parser.hpp - Incremental, bounded parser of SMTP replies (RFC 5321 §4.2).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_REPLY_PARSER_HPP
#define SMTPIPE_PROTOCOL_REPLY_PARSER_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"
#include "smtpipe/protocol/enhanced_status.hpp"
#include "smtpipe/protocol/reply.hpp"

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

namespace smtpipe {

/// Caps that bound the parser's memory and work whatever the server sends.
struct reply_limits {
  std::size_t max_line = 8192;    ///< Octets in one line, line end excluded.
  std::size_t max_reply = 65536;  ///< Octets in one reply, line ends included.
  std::size_t max_lines = 1024;   ///< Lines in one reply.
};

/// Incremental parser of SMTP replies; feed it bytes as they arrive, in pieces of any size.
///
/// Grammar (RFC 5321 §4.2): each line is `Reply-code [ SP / "-" text ] line-end` with the code
/// `[2-5][0-5][0-9]`; `250`, `250 ` and `250-` are valid lines. Every line but the last uses "-";
/// all lines of one reply must carry the same code (errc::reply_code_mismatch otherwise: no
/// decision is ever made from a partial reply). Text may hold HT and any octet >= 0x20 except
/// DEL, so UTF-8 and 8-bit text pass as is; NUL, other C0 controls, DEL and a CR that does not
/// end the line are errc::control_character_in_reply.
///
/// **Bare LF policy**: a line may end in CRLF or in a bare LF (accepted like Exim and aiosmtplib
/// do; one CR before the LF is removed, so "\r\r\n" leaves a bare CR in the text and fails).
///
/// **Enhanced status codes** (RFC 3463, RFC 2034): if the first line's text starts with one
/// (`550 5.1.1 text`), it becomes reply::enhanced and is removed, with one following space, from
/// every line that starts with the same code. Like Postfix, a code whose class differs from the
/// reply's first digit is replaced by `<first digit>.0.0` (`250 5.1.1 ok` gives 2.0.0, and a
/// 3yz reply, which has no class of its own in RFC 3463, gets 3.0.0).
///
/// **Limits** (reply_limits): a line longer than max_line is errc::reply_line_too_long, reported
/// as soon as the buffered part of an unfinished line exceeds the cap, so memory stays bounded
/// even if no line end ever comes. More than max_reply octets or max_lines lines in one reply is
/// errc::reply_too_long, also as soon as the count is exceeded.
///
/// **Fragmentation never matters**: the caps are checked octet by octet (the first octet that
/// breaks one decides; the line cap wins a tie), every other check runs when a line's LF
/// arrives, so feeding one octet at a time gives the same replies and the same error as feeding
/// everything at once. Errors are sticky: after one, parse() keeps returning it until reset().
class reply_parser {
 public:
  enum class status { need_more, done, error };
  /// What one parse() call did. `consumed` is the number of octets of the input used: on done,
  /// the next reply starts at `in.substr(consumed)`; on need_more it is `in.size()`; on error it
  /// is the position where the error was detected, for diagnostics only.
  struct result {
    status st;
    std::size_t consumed;
    std::error_code ec;
  };

  explicit reply_parser(reply_limits limits = {}) : limits_(limits) {}

  /// Consumes octets of `in` up to and including the end of ONE complete reply, or all of `in`
  /// if that reply is not complete yet. On done, get() holds the reply until the next parse()
  /// call. Reuses its buffers: no allocation in steady state.
  result parse(std::string_view in) {
    if (ec_) return {status::error, 0, ec_};
    if (done_) {
      reply_.clear();
      done_ = false;
      reply_bytes_ = 0;
    }
    std::size_t pos = 0;
    while (pos < in.size()) {
      // Look for LF no further than the longest line that could still be valid: max_line
      // octets, its CR and the LF.
      const std::size_t held = partial_.size();  // <= max_line + 1
      const std::size_t room = limits_.max_line + 2 - held;
      const std::size_t avail = in.size() - pos;
      const std::size_t window = avail < room ? avail : room;
      const char* const base = in.data() + pos;
      const auto* lf = static_cast<const char*>(std::memchr(base, '\n', window));
      const std::size_t n = lf != nullptr ? static_cast<std::size_t>(lf - base) + 1 : window;
      const std::size_t content = lf != nullptr ? n - 1 : n;  // octets before the LF

      // The caps are checked per octet, so that the error does not depend on how the input is
      // split: the first octet that breaks a cap decides, the line cap winning a tie.
      std::size_t bad = npos;
      std::error_code bad_ec;
      // Octet k makes the line held + k + 1 octets long: too long at max_line + 1 unless it
      // is a CR (the start of the line end), and in any case at max_line + 2.
      if (held + content > limits_.max_line) {
        const std::size_t k0 = limits_.max_line - held;  // only reached when held <= max_line
        bad = (held <= limits_.max_line && base[k0] != '\r') ? k0 : limits_.max_line + 1 - held;
        if (bad < content) bad_ec = errc::reply_line_too_long;
        else bad = npos;
      }
      if (reply_bytes_ + n > limits_.max_reply) {
        const std::size_t k = limits_.max_reply - reply_bytes_;
        if (k < bad) {
          bad = k;
          bad_ec = errc::reply_too_long;
        }
      }
      if (bad != npos) return fail(bad_ec, pos + bad + 1);

      reply_bytes_ += n;
      pos += n;
      if (lf == nullptr) {  // no line end yet: keep the piece
        partial_.append(base, n);
        continue;
      }
      std::string_view line;
      if (held == 0) {
        line = std::string_view(base, content);
      } else {
        partial_.append(base, content);
        line = partial_;
      }
      const std::error_code ec = take_line(line);
      partial_.clear();
      if (ec) return fail(ec, pos);
      if (done_) return {status::done, pos, {}};
    }
    return {status::need_more, pos, {}};
  }

  /// The reply completed by the last parse() that returned done.
  const reply& get() const noexcept { return reply_; }
  reply& get() noexcept { return reply_; }

  /// True while octets of an unfinished reply are buffered (an EOF now loses a partial reply).
  bool in_progress() const noexcept { return !done_ && reply_bytes_ != 0; }

  /// Forgets everything, error included; keeps the buffers' capacity.
  void reset() noexcept {
    reply_.clear();
    partial_.clear();
    reply_bytes_ = 0;
    done_ = false;
    ec_ = {};
    raw_enhanced_ = {};
  }

  const reply_limits& limits() const noexcept { return limits_; }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  result fail(std::error_code ec, std::size_t at) {
    ec_ = ec;
    partial_.clear();
    return {status::error, at, ec};
  }

  static bool bad_text_octet(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  }

  // One complete line, LF removed.
  std::error_code take_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits_.max_line) return errc::reply_line_too_long;
    if (reply_.line_count >= limits_.max_lines) return errc::reply_too_long;
    if (line.size() < 3) return errc::malformed_reply_code;
    const char d0 = line[0], d1 = line[1], d2 = line[2];
    if (d0 < '2' || d0 > '5' || d1 < '0' || d1 > '5' || d2 < '0' || d2 > '9') {
      return errc::malformed_reply_code;
    }
    bool last = true;
    if (line.size() > 3) {
      if (line[3] == '-') last = false;
      else if (line[3] != ' ') return errc::malformed_reply_code;
    }
    std::string_view text = line.size() > 3 ? line.substr(4) : std::string_view{};
    for (char c : text)
      if (bad_text_octet(c)) return errc::control_character_in_reply;
    const int code = (d0 - '0') * 100 + (d1 - '0') * 10 + (d2 - '0');
    if (reply_.line_count == 0) {
      reply_.code = code;
      raw_enhanced_ = {};
      const std::size_t n = parse_enhanced_status(text, raw_enhanced_);
      if (n != 0) {
        text.remove_prefix(n);
        reply_.enhanced = raw_enhanced_;
        if (raw_enhanced_.cls != d0 - '0') {
          reply_.enhanced = {static_cast<std::uint8_t>(d0 - '0'), 0, 0};
        }
      }
    } else {
      if (code != reply_.code) return errc::reply_code_mismatch;
      reply_.text += '\n';
      if (raw_enhanced_.present()) {
        enhanced_status es;
        const std::size_t n = parse_enhanced_status(text, es);
        if (n != 0 && es == raw_enhanced_) text.remove_prefix(n);
      }
    }
    reply_.text.append(text);
    ++reply_.line_count;
    done_ = last;
    return {};
  }

  reply_limits limits_;
  reply reply_;
  std::string partial_;           // unfinished line, LF not seen yet
  std::size_t reply_bytes_ = 0;   // octets of the current reply consumed so far
  enhanced_status raw_enhanced_;  // first line's code as sent, before sanitising
  std::error_code ec_;
  bool done_ = false;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_REPLY_PARSER_HPP
