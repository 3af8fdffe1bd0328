// libFuzzer target: smtpipe::body_encoder as a round trip.
//
// The first input octet picks the options; the rest is the body, encoded in pieces whose sizes
// come from the data. Checks: the same output as a one-piece encoding; no CR or LF outside CRLF;
// for DATA exactly one "\r\n.\r\n" (counting the CRLF of the DATA command), at the end; no line
// longer than allowed; and un-stuffing (and unfolding) gives back the body canonicalised by the
// small reference below, which is written independently of the encoder.
#include "fuzz_assert.hpp"

#include <smtpipe/protocol/body_encoder.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Reference canonicaliser: the body as a list of lines, each ended by CR, LF or CRLF (or the end
// of input). Returns false if the body has a NUL.
bool reference_lines(std::string_view body, std::vector<std::string>& lines) {
  std::string cur;
  bool open = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\0') return false;
    if (c == '\r' || c == '\n') {
      lines.push_back(cur);
      cur.clear();
      open = false;
      if (c == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
    } else {
      cur += c;
      open = true;
    }
  }
  if (open) lines.push_back(cur);
  return true;
}

// Splits canonical wire text into its lines (every line ends in CRLF).
std::vector<std::string> wire_lines(std::string_view wire) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < wire.size()) {
    const auto p = wire.find("\r\n", start);
    FUZZ_ASSERT(p != std::string_view::npos);
    out.emplace_back(wire.substr(start, p - start));
    start = p + 2;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  smtpipe::body_encoder_options opt;
  if (!body.empty()) {
    const auto k = static_cast<unsigned char>(body[0]);
    body.remove_prefix(1);
    opt.dot_stuff = (k & 1) == 0;
    opt.long_lines =
        (k & 2) != 0 ? smtpipe::long_line_policy::fold : smtpipe::long_line_policy::refuse;
    opt.max_line = (k & 4) != 0 ? 998 : 2 + (k >> 3) % 20;
  }

  // One piece.
  smtpipe::body_encoder whole_enc(opt);
  std::string whole;
  std::error_code whole_ec = whole_enc.encode(body, whole);
  if (!whole_ec) whole_ec = whole_enc.finish(whole);

  // Pieces sized from the data.
  smtpipe::body_encoder enc(opt);
  std::string out = "x";  // something already queued must survive
  std::error_code ec;
  std::size_t pos = 0, i = 0;
  while (pos < body.size() && !ec) {
    const std::size_t n = 1 + (i < body.size() ? static_cast<unsigned char>(body[i]) % 17 : 7);
    i += 5;
    const std::string_view piece = body.substr(pos, n);
    const std::string before = out;
    ec = enc.encode(piece, out);
    if (ec) FUZZ_ASSERT(out == before);  // rolled back
    pos += piece.size();
  }
  if (!ec) ec = enc.finish(out);
  FUZZ_ASSERT(out[0] == 'x');
  out.erase(0, 1);

  smtpipe::body_scanner scan(opt);
  std::error_code scan_ec = scan.scan(body);
  if (!scan_ec) scan_ec = scan.finish();
  FUZZ_ASSERT(scan_ec == whole_ec);

  std::vector<std::string> ref;
  const bool has_nul = !reference_lines(body, ref);
  if (has_nul) {
    FUZZ_ASSERT(whole_ec == smtpipe::errc::nul_in_body ||
                whole_ec == smtpipe::errc::body_line_too_long);
  }
  if (whole_ec) {
    FUZZ_ASSERT(ec == whole_ec);
    FUZZ_ASSERT(whole_ec == smtpipe::errc::nul_in_body ||
                whole_ec == smtpipe::errc::body_line_too_long);
    if (whole_ec == smtpipe::errc::body_line_too_long) {
      FUZZ_ASSERT(opt.long_lines == smtpipe::long_line_policy::refuse);
    }
    return 0;
  }
  FUZZ_ASSERT(!has_nul);
  FUZZ_ASSERT(!ec);
  FUZZ_ASSERT(out == whole);
  FUZZ_ASSERT(enc.bytes_out() == out.size());
  FUZZ_ASSERT(scan.bytes_out() == out.size());

  // No CR or LF outside CRLF.
  for (std::size_t k = 0; k < out.size(); ++k) {
    if (out[k] == '\r') FUZZ_ASSERT(k + 1 < out.size() && out[k + 1] == '\n');
    if (out[k] == '\n') FUZZ_ASSERT(k > 0 && out[k - 1] == '\r');
  }

  std::vector<std::string> lines = wire_lines(out);
  if (opt.dot_stuff) {
    // Exactly one end-of-data line, the last; every other line starting with "." is stuffed.
    const std::string stream = "\r\n" + out;
    FUZZ_ASSERT(stream.find("\r\n.\r\n") == stream.size() - 5);
    FUZZ_ASSERT(!lines.empty() && lines.back() == ".");
    lines.pop_back();
    for (auto& l : lines) {
      if (!l.empty() && l[0] == '.') {
        FUZZ_ASSERT(l.size() >= 2 && l[1] == '.');
        l.erase(0, 1);
      }
    }
  }
  for (const auto& l : lines) FUZZ_ASSERT(l.size() <= opt.max_line);
  if (opt.long_lines == smtpipe::long_line_policy::fold) {
    // Undo folding: a line that is full is continued by the next one, minus its leading SP.
    std::vector<std::string> unfolded;
    bool continued = false;
    for (const auto& l : lines) {
      if (continued) {
        FUZZ_ASSERT(!l.empty() && l[0] == ' ');
        unfolded.back() += l.substr(1);
      } else {
        unfolded.push_back(l);
      }
      // Only a fold can follow a full line whose reference line is longer; decide by comparing
      // with the reference as we go.
      const std::size_t idx = unfolded.size() - 1;
      continued = idx < ref.size() && unfolded.back().size() < ref[idx].size();
    }
    lines = std::move(unfolded);
  }
  FUZZ_ASSERT(lines == ref);
  return 0;
}
