// libFuzzer target: smtpipe::reply_parser on arbitrary server bytes.
//
// The first input octet picks the limits (small ones exercise the caps); the rest is the stream.
// The stream is parsed whole, one octet at a time, and in pieces whose sizes come from the data;
// all three must give the same replies, the same final error and the same in_progress(). Every
// reply must satisfy the grammar's invariants and the limits, and, where no cap can be reached,
// the results must equal those of an independent line-by-line model of RFC 5321 section 4.2.
#include "fuzz_assert.hpp"

#include <smtpipe/protocol/reply_parser.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct outcome {
  int code = 0;
  std::string text;
  smtpipe::enhanced_status es;
  std::uint32_t lines = 0;
  std::error_code ec;
  bool operator==(const outcome&) const = default;
};

struct run_result {
  std::vector<outcome> replies;
  bool in_progress = false;
  bool operator==(const run_result&) const = default;
};

void check_reply(const smtpipe::reply& r, const smtpipe::reply_limits& lim) {
  FUZZ_ASSERT(r.code >= 200 && r.code <= 559);
  FUZZ_ASSERT((r.code / 10) % 10 <= 5);
  FUZZ_ASSERT(r.line_count >= 1 && r.line_count <= lim.max_lines);
  FUZZ_ASSERT(r.text.size() <= lim.max_reply);
  std::size_t newlines = 0;
  std::size_t line_len = 0;
  for (char c : r.text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      ++newlines;
      line_len = 0;
      continue;
    }
    FUZZ_ASSERT(!(u < 0x20 && c != '\t') && u != 0x7f);
    FUZZ_ASSERT(++line_len <= lim.max_line);
  }
  FUZZ_ASSERT(newlines + 1 == r.line_count);
  if (r.enhanced.present()) {
    FUZZ_ASSERT(r.enhanced.cls == r.code / 100);
    FUZZ_ASSERT(r.enhanced.subject <= 999 && r.enhanced.detail <= 999);
  }
  // Helpers must cope with anything the parser accepted.
  std::size_t lines = 0;
  r.for_each_line([&](std::string_view) { ++lines; });
  FUZZ_ASSERT(lines == r.line_count);
  const std::string s = r.sanitized_text(64);
  FUZZ_ASSERT(s.size() <= 64 + 3);
  for (char c : s) FUZZ_ASSERT(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  (void)r.to_string();
}

// Feeds `in` in pieces; `sizes` gives the piece sizes in turn (cycled), 0 meaning "the rest".
run_result run(std::string_view in, const smtpipe::reply_limits& lim,
               const std::vector<std::size_t>& sizes) {
  smtpipe::reply_parser p(lim);
  run_result res;
  std::size_t pos = 0, turn = 0;
  while (pos < in.size()) {
    std::size_t n = sizes[turn++ % sizes.size()];
    if (n == 0 || n > in.size() - pos) n = in.size() - pos;
    std::string_view chunk = in.substr(pos, n);
    pos += n;
    while (!chunk.empty()) {
      const auto r = p.parse(chunk);
      if (r.st == smtpipe::reply_parser::status::error) {
        FUZZ_ASSERT(r.ec);
        res.replies.push_back({0, {}, {}, 0, r.ec});
        // Sticky.
        FUZZ_ASSERT(p.parse("250 ok\r\n").ec == r.ec);
        return res;
      }
      FUZZ_ASSERT(!r.ec);
      if (r.st == smtpipe::reply_parser::status::need_more) {
        FUZZ_ASSERT(r.consumed == chunk.size());
        break;
      }
      FUZZ_ASSERT(r.consumed > 0 && r.consumed <= chunk.size());
      const auto& rep = p.get();
      check_reply(rep, lim);
      res.replies.push_back({rep.code, rep.text, rep.enhanced, rep.line_count, {}});
      chunk.remove_prefix(r.consumed);
    }
  }
  res.in_progress = p.in_progress();
  return res;
}

// Independent model of the grammar, for inputs far below the default caps: splits the stream
// into lines (LF ends a line; one CR before it is dropped) and applies RFC 5321 section 4.2
// line by line. Errors are reported in the parser's documented order per line: malformed code,
// control character, code mismatch.
std::optional<std::uint16_t> ref_part(std::string_view s, std::size_t& i) {
  std::size_t digits = 0;
  unsigned v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    v = v * 10 + unsigned(s[i] - '0');
    ++i;
    if (++digits > 3) return std::nullopt;
  }
  if (digits == 0) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// Length of an enhanced status code plus one SP at the start of `s`, or 0.
std::size_t ref_enhanced(std::string_view s, smtpipe::enhanced_status& es) {
  if (s.size() < 2 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return 0;
  std::size_t i = 2;
  const auto subject = ref_part(s, i);
  if (!subject || i >= s.size() || s[i] != '.') return 0;
  ++i;
  const auto detail = ref_part(s, i);
  if (!detail) return 0;
  if (i < s.size() && s[i] != ' ') return 0;
  es = {static_cast<std::uint8_t>(s[0] - '0'), *subject, *detail};
  return i < s.size() ? i + 1 : i;
}

run_result reference(std::string_view in) {
  run_result res;
  outcome cur;
  smtpipe::enhanced_status raw;
  std::size_t start = 0;
  while (true) {
    const auto lf = in.find('\n', start);
    if (lf == std::string_view::npos) {
      res.in_progress = cur.lines != 0 || start < in.size();
      return res;
    }
    std::string_view line = in.substr(start, lf - start);
    start = lf + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto fail = [&](smtpipe::errc e) {
      res.replies.push_back({0, {}, {}, 0, e});
      return res;
    };
    const bool code_ok = line.size() >= 3 && line[0] >= '2' && line[0] <= '5' && line[1] >= '0' &&
                         line[1] <= '5' && line[2] >= '0' && line[2] <= '9' &&
                         (line.size() == 3 || line[3] == ' ' || line[3] == '-');
    if (!code_ok) return fail(smtpipe::errc::malformed_reply_code);
    std::string_view text = line.size() > 3 ? line.substr(4) : std::string_view{};
    for (char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f)
        return fail(smtpipe::errc::control_character_in_reply);
    }
    const int code = std::stoi(std::string(line.substr(0, 3)));
    if (cur.lines == 0) {
      cur.code = code;
      raw = {};
      const std::size_t n = ref_enhanced(text, raw);
      text.remove_prefix(n);
      cur.es = raw;
      if (raw.present() && raw.cls != code / 100) cur.es = {std::uint8_t(code / 100), 0, 0};
    } else {
      if (code != cur.code) return fail(smtpipe::errc::reply_code_mismatch);
      cur.text += '\n';
      smtpipe::enhanced_status es;
      const std::size_t n = raw.present() ? ref_enhanced(text, es) : 0;
      if (n != 0 && es == raw) text.remove_prefix(n);
    }
    cur.text += text;
    ++cur.lines;
    if (line.size() == 3 || line[3] == ' ') {
      res.replies.push_back(cur);
      cur = {};
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  smtpipe::reply_limits lim;
  if (!in.empty()) {
    const auto k = static_cast<unsigned char>(in[0]);
    in.remove_prefix(1);
    if ((k & 1) != 0) {  // small caps so that the fuzzer reaches them
      lim.max_line = 4 + (k >> 1) % 40;
      lim.max_reply = 8 + (k >> 3) % 200;
      lim.max_lines = 1 + (k >> 5) % 8;
    }
  }
  const run_result whole = run(in, lim, {0});
  const run_result bytes = run(in, lim, {1});
  FUZZ_ASSERT(whole == bytes);
  // With the default caps and at most 5000 octets (a line takes 5 or more), no cap can be reached:
  // the parser must agree with the model exactly.
  if (lim.max_line == smtpipe::reply_limits{}.max_line && in.size() <= 5000) {
    FUZZ_ASSERT(whole == reference(in));
  }
  // Piece sizes taken from the data itself.
  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i < in.size() && sizes.size() < 16; i += 3) {
    sizes.push_back(1 + static_cast<unsigned char>(in[i]) % 13);
  }
  if (!sizes.empty()) FUZZ_ASSERT(run(in, lim, sizes) == whole);
  return 0;
}
