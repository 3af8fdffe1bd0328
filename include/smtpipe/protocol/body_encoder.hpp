// smtpipe/protocol/body_encoder.hpp - Streaming canonicaliser of message bodies for DATA and BDAT.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PROTOCOL_BODY_ENCODER_HPP
#define SMTPIPE_PROTOCOL_BODY_ENCODER_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

namespace smtpipe {

/// What to do with a body line longer than body_encoder_options::max_line.
enum class long_line_policy {
  refuse,  ///< errc::body_line_too_long.
  /// Break it: after max_line octets insert CRLF SP and go on, as Postfix does with
  /// smtp_line_length_limit = 998. The SP makes the rest a folded continuation inside a header;
  /// in a body it changes the content (one extra SP), which is the price of delivering at all.
  fold,
};

/// Options of body_encoder and body_scanner.
struct body_encoder_options {
  /// RFC 5321 §4.5.2 transparency: true for DATA (and the final ".\r\n"), false for BDAT.
  bool dot_stuff = true;
  long_line_policy long_lines = long_line_policy::refuse;
  /// Octets per line, CRLF and the stuffed dot excluded (RFC 5321 §4.5.3.1.6: 1000 with CRLF).
  /// Values below 2 are treated as 2.
  std::size_t max_line = 998;
};

namespace detail {

// State carried from one chunk to the next.
struct body_state {
  std::size_t line_len = 0;  // octets in the current line so far
  bool at_line_start = true;
  bool skip_lf = false;  // the previous octet was a CR, already written as CRLF
};

// First CR, LF or NUL in [p, end), or end; eight octets per step while none is found.
inline const char* find_body_special(const char* p, const char* end) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  constexpr std::uint64_t highs = 0x8080808080808080ull;
  const auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  while (end - p >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    if ((has_zero(v) | has_zero(v ^ (ones * '\r')) | has_zero(v ^ (ones * '\n'))) != 0) break;
    p += 8;
  }
  while (p < end && *p != '\r' && *p != '\n' && *p != '\0') ++p;
  return p;
}

// True if any octet of `s` is >= 0x80.
inline bool has_8bit(std::string_view s) noexcept {
  const char* p = s.data();
  const char* const end = p + s.size();
  for (; end - p >= 8; p += 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    if ((v & 0x8080808080808080ull) != 0) return true;
  }
  for (; p < end; ++p)
    if (static_cast<unsigned char>(*p) >= 0x80) return true;
  return false;
}

struct string_sink {
  std::string& out;
  void put(const char* p, std::size_t n) { out.append(p, n); }
};

struct count_sink {
  std::uint64_t n = 0;
  void put(const char*, std::size_t k) noexcept { n += k; }
};

inline body_encoder_options checked(body_encoder_options o) noexcept {
  if (o.max_line < 2) o.max_line = 2;
  return o;
}

// The canonicalisation itself, shared by body_encoder (writes) and body_scanner (counts).
template <class Sink>
inline std::error_code encode_body(body_state& st, const body_encoder_options& o,
                                   std::string_view in, Sink& sink) {
  const char* p = in.data();
  const char* const end = p + in.size();
  while (p < end) {
    if (st.skip_lf) {
      st.skip_lf = false;
      if (*p == '\n') {  // the LF of a CRLF whose CR ended the previous step
        ++p;
        continue;
      }
    }
    const char* const q = find_body_special(p, end);
    while (p < q) {  // [p, q) holds ordinary octets of the current line
      if (st.at_line_start && o.dot_stuff && *p == '.') sink.put(".", 1);
      st.at_line_start = false;
      const std::size_t room = o.max_line - st.line_len;
      const auto n = static_cast<std::size_t>(q - p);
      if (n <= room) {
        sink.put(p, n);
        st.line_len += n;
        p = q;
        break;
      }
      if (o.long_lines == long_line_policy::refuse) return errc::body_line_too_long;
      sink.put(p, room);
      p += room;
      sink.put("\r\n ", 3);
      st.line_len = 1;
    }
    if (p == end) break;
    const char c = *p++;
    if (c == '\0') return errc::nul_in_body;
    // CR, LF or CRLF: one canonical line end.
    sink.put("\r\n", 2);
    st.line_len = 0;
    st.at_line_start = true;
    st.skip_lf = c == '\r';
  }
  return {};
}

template <class Sink>
inline void finish_body(const body_state& st, const body_encoder_options& o, Sink& sink) {
  if (!st.at_line_start) sink.put("\r\n", 2);
  if (o.dot_stuff) sink.put(".\r\n", 3);
}

}  // namespace detail

/// Turns a message body, fed in chunks of any size, into the octets SMTP may carry.
///
/// - Line ends: CRLF stays; every other CR and every LF becomes CRLF ("\r\r\n" gives
///   "\r\n\r\n"). The output never holds a CR or LF outside a CRLF pair, so no SMTP smuggling
///   sequence can survive (SEC Consult 2023, CVE-2023-51764/5/6).
/// - With dot_stuff (DATA), a line that begins with "." gets one more "." (RFC 5321 §4.5.2), the
///   first line included, and finish() appends the ".\r\n" terminator.
/// - NUL is errc::nul_in_body (RFC 5321 §4.5.2 forbids it outside BINARYMIME; a BINARYMIME body
///   sent with BDAT must bypass this encoder).
/// - A line over max_line octets is refused or folded, see long_line_policy.
///
/// State carries across chunks: a CR at the end of one chunk and an LF at the start of the next
/// make one CRLF; a dot at the start of a chunk is stuffed if it starts a line; line lengths add
/// up. Output is appended in bulk between special octets, with no per-call allocation beyond the
/// growth of `out`.
///
/// **On error** `out` holds exactly what it held before the failing call (the call's partial
/// output is removed), bytes_out() is unchanged, and the encoder stays failed: every later
/// encode() or finish() returns the same error until reset(). The caller must abort the
/// transaction (RSET), since earlier chunks may already be on the wire.
class body_encoder {
 public:
  explicit body_encoder(body_encoder_options options = {}) noexcept
      : options_(detail::checked(options)) {}

  /// Appends the canonical form of `chunk` to `out`.
  std::error_code encode(std::string_view chunk, std::string& out) {
    if (failed_) return failed_;
    if (finished_) return errc::invalid_argument;
    const std::size_t base = out.size();
    if (out.capacity() - base < chunk.size() + 8) {
      out.reserve(base + chunk.size() + chunk.size() / 32 + 8);
    }
    detail::string_sink sink{out};
    if (auto ec = detail::encode_body(state_, options_, chunk, sink)) {
      out.resize(base);
      failed_ = ec;
      return ec;
    }
    bytes_out_ += out.size() - base;
    return {};
  }

  /// Ends the body: appends CRLF if the body is not empty and does not end with a line end,
  /// then ".\r\n" when dot-stuffing. An empty DATA body gives just ".\r\n"; an empty BDAT body
  /// gives nothing. Afterwards encode() and finish() return errc::invalid_argument until reset().
  std::error_code finish(std::string& out) {
    if (failed_) return failed_;
    if (finished_) return errc::invalid_argument;
    const std::size_t base = out.size();
    detail::string_sink sink{out};
    detail::finish_body(state_, options_, sink);
    bytes_out_ += out.size() - base;
    finished_ = true;
    return {};
  }

  /// Ready for the next body with the same options.
  void reset() noexcept {
    state_ = {};
    bytes_out_ = 0;
    failed_ = {};
    finished_ = false;
  }

  /// Octets appended so far by encode() and finish() since the last reset().
  std::uint64_t bytes_out() const noexcept { return bytes_out_; }

  const body_encoder_options& options() const noexcept { return options_; }

 private:
  body_encoder_options options_;
  detail::body_state state_;
  std::uint64_t bytes_out_ = 0;
  std::error_code failed_;
  bool finished_ = false;
};

/// body_encoder's rules without output: refuses a body (NUL, long lines) before any connection
/// is made, counts the octets the encoder would produce (for SIZE= or BDAT planning), and notes
/// 8-bit content (which needs BODY=8BITMIME, RFC 6152). Errors are sticky until reset(), like
/// body_encoder's.
class body_scanner {
 public:
  explicit body_scanner(body_encoder_options options = {}) noexcept
      : options_(detail::checked(options)) {}

  /// Checks the next chunk.
  std::error_code scan(std::string_view chunk) {
    if (failed_) return failed_;
    if (finished_) return errc::invalid_argument;
    detail::count_sink sink{bytes_out_};
    if (auto ec = detail::encode_body(state_, options_, chunk, sink)) {
      failed_ = ec;
      return ec;
    }
    bytes_out_ = sink.n;
    if (!eight_bit_) eight_bit_ = detail::has_8bit(chunk);
    return {};
  }

  /// Ends the body; bytes_out() then includes the final CRLF and terminator.
  std::error_code finish() {
    if (failed_) return failed_;
    if (finished_) return errc::invalid_argument;
    detail::count_sink sink{bytes_out_};
    detail::finish_body(state_, options_, sink);
    bytes_out_ = sink.n;
    finished_ = true;
    return {};
  }

  void reset() noexcept {
    state_ = {};
    bytes_out_ = 0;
    failed_ = {};
    finished_ = false;
    eight_bit_ = false;
  }

  /// Octets body_encoder would have produced for the same input so far.
  std::uint64_t bytes_out() const noexcept { return bytes_out_; }

  /// True if an octet >= 0x80 was seen in the chunks accepted so far.
  bool has_8bit() const noexcept { return eight_bit_; }

 private:
  body_encoder_options options_;
  detail::body_state state_;
  std::uint64_t bytes_out_ = 0;
  std::error_code failed_;
  bool finished_ = false;
  bool eight_bit_ = false;
};

/// Checks a whole body against body_encoder's rules with `options`; if `encoded_size` is not
/// null and the body is acceptable, stores the size of its encoding, terminator included.
inline std::error_code validate_body(std::string_view body,
                                     const body_encoder_options& options = {},
                                     std::uint64_t* encoded_size = nullptr) {
  body_scanner scanner(options);
  if (auto ec = scanner.scan(body)) return ec;
  if (auto ec = scanner.finish()) return ec;
  if (encoded_size != nullptr) *encoded_size = scanner.bytes_out();
  return {};
}

}  // namespace smtpipe

#endif  // !SMTPIPE_PROTOCOL_BODY_ENCODER_HPP
