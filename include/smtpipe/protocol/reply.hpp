// smtpipe/protocol/reply.hpp - One parsed SMTP reply: code, enhanced status and text lines.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_REPLY_HPP
#define SMTPIPE_PROTOCOL_REPLY_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/protocol/disposition.hpp"
#include "smtpipe/protocol/enhanced_status.hpp"
#include "smtpipe/protocol/xtext.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

namespace smtpipe {

/// A forward range over the lines of a reply's text (see reply::lines()); each element is a
/// `std::string_view` into the reply, valid while the reply is unchanged.
class reply_lines {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = const std::string_view&;

    iterator() = default;
    reference operator*() const noexcept { return cur_; }
    pointer operator->() const noexcept { return &cur_; }
    iterator& operator++() noexcept {
      if (more_) load(rest_);
      else end_ = true;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      if (a.end_ || b.end_) return a.end_ == b.end_;
      return a.cur_.data() == b.cur_.data();
    }

   private:
    friend class reply_lines;
    explicit iterator(std::string_view text) noexcept : end_(false) { load(text); }
    void load(std::string_view s) noexcept {
      const auto nl = s.find('\n');
      more_ = nl != std::string_view::npos;
      cur_ = s.substr(0, nl);
      rest_ = more_ ? s.substr(nl + 1) : std::string_view{};
    }
    std::string_view cur_, rest_;
    bool end_ = true;
    bool more_ = false;
  };

  reply_lines() = default;
  iterator begin() const noexcept { return empty_ ? iterator() : iterator(text_); }
  iterator end() const noexcept { return iterator(); }
  bool empty() const noexcept { return empty_; }

 private:
  friend struct reply;
  reply_lines(std::string_view text, bool empty) noexcept : text_(text), empty_(empty) {}
  std::string_view text_;
  bool empty_ = true;
};

/// One complete SMTP reply (RFC 5321 §4.2).
///
/// `text` holds the text of every line, after the code, the SP or "-" separator and, when the
/// reply carries one, the enhanced status code, joined with '\n' (no trailing '\n'). A reply
/// line `250` with no text contributes an empty line.
struct reply {
  int code = 0;                  ///< 200-599 once parsed; 0 for an empty reply.
  enhanced_status enhanced;      ///< RFC 3463 code of the first line, sanitised (see reply_parser).
  std::string text;              ///< Lines joined with '\n'.
  std::uint32_t line_count = 0;  ///< Number of lines the reply had on the wire.

  /// positive (2yz, 3yz), transient (4yz) or permanent (5yz and anything else).
  disposition disp() const noexcept { return disposition_of(code); }
  bool positive() const noexcept { return disp() == disposition::positive; }
  bool transient() const noexcept { return disp() == disposition::transient; }
  bool permanent() const noexcept { return disp() == disposition::permanent; }
  /// True if the code is exactly `c`.
  bool is(int c) const noexcept { return code == c; }

  /// The lines of `text`, first to last; empty when `text` is empty and `line_count` is 0.
  reply_lines lines() const noexcept { return reply_lines(text, text.empty() && line_count == 0); }

  /// Calls `f(std::string_view)` for each line, in order (same lines as lines()).
  template <class F>
  void for_each_line(F&& f) const {
    for (std::string_view line : lines()) f(line);
  }

  /// The first line of `text` (for an EHLO reply, the server's domain and greeting).
  std::string_view first_line() const noexcept {
    return std::string_view(text).substr(0, text.find('\n'));
  }

  /// Empties the reply and keeps the text's capacity.
  void clear() noexcept {
    code = 0;
    enhanced = {};
    text.clear();
    line_count = 0;
  }

  /// The text on one line for logs and error messages: lines joined with ' ', every control
  /// octet (C0, DEL, the C1 range U+0080-U+009F) and every octet of ill-formed UTF-8 replaced
  /// with '?', then cut at `max` octets (never inside a UTF-8 sequence) with "..." appended.
  std::string sanitized_text(std::size_t max = 512) const {
    std::string out;
    append_sanitized(out, max);
    return out;
  }

  /// A one-line summary such as "550 5.1.1 No such user here": code, enhanced code if present,
  /// and the whole text sanitised as in sanitized_text() but not truncated.
  std::string to_string() const {
    std::string out;
    out.reserve(text.size() + 16);
    out += std::to_string(code);
    if (enhanced.present()) {
      out += ' ';
      out += enhanced.to_string();
    }
    if (!text.empty()) {
      out += ' ';
      append_sanitized(out, std::string::npos);
    }
    return out;
  }

 private:
  void append_sanitized(std::string& out, std::size_t max) const {
    const std::size_t base = out.size();
    out.reserve(base + (text.size() < max ? text.size() : max + 3));
    const std::string_view s = text;
    for (std::size_t i = 0; i < s.size();) {
      const char c = s[i];
      char32_t cp = 0;
      std::size_t len = 1;
      const char* piece = "?";
      std::size_t piece_len = 1;
      if (c == '\n') {
        piece = " ";
      } else if (detail::is_control(c)) {
        // '?' below.
      } else if (static_cast<unsigned char>(c) < 0x80) {
        piece = s.data() + i;
      } else if ((len = detail::utf8_sequence(s, i, cp)) == 0) {
        len = 1;  // ill-formed octet
      } else if (cp >= 0x80 && cp <= 0x9f) {
        // C1 control ('?').
      } else {
        piece = s.data() + i;
        piece_len = len;
      }
      if (out.size() - base + piece_len > max) {
        out += "...";
        return;
      }
      out.append(piece, piece_len);
      i += len;
    }
  }
};

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_REPLY_HPP
