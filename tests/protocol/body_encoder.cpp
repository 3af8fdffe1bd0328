// Tests of smtpipe/protocol/body_encoder.hpp: RFC 5321 sections 4.5.2 and 4.5.3.1.6, and the
// message-data cases of security.md section 6 B (17-22), SMTP smuggling included.
#include <smtpipe/protocol/body_encoder.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

#include <string>
#include <string_view>
#include <vector>

using namespace std::literals;
using smtpipe::body_encoder;
using smtpipe::body_encoder_options;
using smtpipe::errc;
using smtpipe::long_line_policy;

namespace {

const body_encoder_options data_opts{};                                      // DATA: dot-stuffing
const body_encoder_options bdat_opts{false, long_line_policy::refuse, 998};  // BDAT

// Encodes `chunks` one after the other and finishes; REQUIREs success.
std::string encode(const std::vector<std::string_view>& chunks,
                   body_encoder_options o = data_opts) {
  body_encoder e(o);
  std::string out;
  for (std::string_view c : chunks) REQUIRE_FALSE(e.encode(c, out));
  REQUIRE_FALSE(e.finish(out));
  CHECK(e.bytes_out() == out.size());
  return out;
}

std::string encode1(std::string_view body, body_encoder_options o = data_opts) {
  return encode({body}, o);
}

// No CR or LF outside a CRLF pair.
bool canonical_line_ends(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  }
  return true;
}

// Number of end-of-data sequences in what the server reads after "DATA\r\n".
std::size_t terminators(std::string_view wire) {
  const std::string stream = "\r\n" + std::string(wire);
  std::size_t n = 0;
  for (auto p = stream.find("\r\n.\r\n"); p != std::string::npos;
       p = stream.find("\r\n.\r\n", p + 1))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("body_encoder: bare LF body with a dot line (security.md B.17) [smtpipe]") {
  CHECK(encode1("a\n.\nb") == "a\r\n..\r\nb\r\n.\r\n");
  CHECK(encode1("a\n.\nb", bdat_opts) == "a\r\n.\r\nb\r\n");
}

TEST_CASE("body_encoder: line ends become CRLF [smtpipe]") {
  CHECK(encode1("a\r\nb\r\n") == "a\r\nb\r\n.\r\n");
  CHECK(encode1("a\rb") == "a\r\nb\r\n.\r\n");
  CHECK(encode1("a\nb") == "a\r\nb\r\n.\r\n");
  CHECK(encode1("\r\r\n") == "\r\n\r\n.\r\n");
  CHECK(encode1("a\n\rb") == "a\r\n\r\nb\r\n.\r\n");
  CHECK(encode1("\n\n") == "\r\n\r\n.\r\n");
  CHECK(encode1("a\r\r\rb") == "a\r\n\r\n\r\nb\r\n.\r\n");
  CHECK(encode1("a\r\n\nb") == "a\r\n\r\nb\r\n.\r\n");
}

TEST_CASE("body_encoder: dot edge cases (security.md B.19) [smtpipe]") {
  CHECK(encode1("") == ".\r\n");          // empty DATA body
  CHECK(encode1("", bdat_opts).empty());  // empty BDAT body
  CHECK(encode1(".") == "..\r\n.\r\n");   // the body is "."
  CHECK(encode1(".\r\n") == "..\r\n.\r\n");
  CHECK(encode1(".x\r\nmid\r\n") == "..x\r\nmid\r\n.\r\n");  // starts with "."
  CHECK(encode1("a\r\n..\r\n.x\r\n") == "a\r\n...\r\n..x\r\n.\r\n");
  CHECK(encode1("abc") == "abc\r\n.\r\n");      // no final newline
  CHECK(encode1("abc\r\n") == "abc\r\n.\r\n");  // final CRLF: no extra blank line
  CHECK(encode1("abc\r\n\r\n") == "abc\r\n\r\n.\r\n");
  CHECK(encode1("\r\n") == "\r\n.\r\n");
  CHECK(encode1("a\r.b") == "a\r\n..b\r\n.\r\n");  // a dot after a lone CR is stuffed too
  CHECK(encode1("a.b\r\n x.\r\n") == "a.b\r\n x.\r\n.\r\n");  // dots elsewhere stay single
  CHECK(encode1(".", bdat_opts) == ".\r\n");                  // BDAT: no stuffing
}

TEST_CASE("body_encoder: state carries across chunk boundaries [smtpipe]") {
  const std::string expected = "a\r\nb\r\n.\r\n";
  CHECK(encode({"a\r", "\nb"}) == expected);
  CHECK(encode({"a\r", "b"}) == expected);
  CHECK(encode({"a", "\r", "\n", "b"}) == expected);
  CHECK(encode({"a\r", "", "\nb"}) == expected);
  CHECK(encode({"a\r\n", ".b"}) == "a\r\n..b\r\n.\r\n");
  CHECK(encode({"a\r", "\n.b"}) == "a\r\n..b\r\n.\r\n");
  CHECK(encode({"a\n", ".", "\n"}) == "a\r\n..\r\n.\r\n");
  CHECK(encode({".", "."}) == "...\r\n.\r\n");  // only the first dot of a line is doubled
  CHECK(encode({"ab", "c"}) == "abc\r\n.\r\n");
  CHECK(encode({"abc\r"}) == "abc\r\n.\r\n");  // a final lone CR ends the last line
}

TEST_CASE(
    "body_encoder: every SMTP smuggling sequence, split at every offset (security.md "
    "B.18) [smtpipe]") {
  struct sequence {
    std::string_view seq;
    std::string_view wire;  // what "hello" + seq + "MAIL" must become
  };
  const sequence sequences[] = {
      {"\n.\n", "hello\r\n..\r\nMAIL"},           {"\n.\r", "hello\r\n..\r\nMAIL"},
      {"\r.\n", "hello\r\n..\r\nMAIL"},           {"\r.\r", "hello\r\n..\r\nMAIL"},
      {"\n.\r\n", "hello\r\n..\r\nMAIL"},         {"\r.\r\n", "hello\r\n..\r\nMAIL"},
      {"\r\n.\r\r\n", "hello\r\n..\r\n\r\nMAIL"}, {"\r\r\n.\r\r\n", "hello\r\n\r\n..\r\n\r\nMAIL"},
      {"\r\n.\n", "hello\r\n..\r\nMAIL"},         {"\r\n.\r", "hello\r\n..\r\nMAIL"},
  };
  const std::string head = "From: a@example.org\r\nSubject: test\r\n\r\nhello";
  const std::string tail =
      "MAIL FROM:<spoofed@example.com>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nevil\r\n";
  for (const auto& s : sequences) {
    const std::string body = head + std::string(s.seq) + tail;
    CAPTURE(body);
    const std::string whole = encode1(body);
    CHECK(whole.find(s.wire) != std::string::npos);
    CHECK(canonical_line_ends(whole));
    CHECK(terminators(whole) == 1);
    CHECK(whole.substr(whole.size() - 5) == "\r\n.\r\n");

    // Two chunks, cut at every offset.
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
      const std::string_view b = body;
      CHECK(encode({b.substr(0, cut), b.substr(cut)}) == whole);
    }
    // Three chunks, both cuts around and inside the sequence.
    const std::size_t from = head.size() - 1, to = head.size() + s.seq.size() + 1;
    for (std::size_t i = from; i <= to; ++i) {
      for (std::size_t j = i; j <= to; ++j) {
        const std::string_view b = body;
        CHECK(encode({b.substr(0, i), b.substr(i, j - i), b.substr(j)}) == whole);
      }
    }
    // One octet per chunk.
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < body.size(); ++i)
      bytes.push_back(std::string_view(body).substr(i, 1));
    CHECK(encode(bytes) == whole);

    // BDAT: no lone CR or LF either, and the size is exact.
    const std::string bdat = encode1(body, bdat_opts);
    CHECK(canonical_line_ends(bdat));
  }
}

TEST_CASE(
    "body_encoder: the NUL smuggling sequence is refused (security.md B.18, B.20) "
    "[smtpipe]") {
  const std::string body = "hello\r\n\0.\r\nMAIL FROM:<x@example.com>\r\n"s;
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    body_encoder e;
    std::string out;
    const std::string_view b = body;
    std::error_code ec = e.encode(b.substr(0, cut), out);
    if (!ec) ec = e.encode(b.substr(cut), out);
    CHECK(ec == errc::nul_in_body);
    CHECK(terminators(out) == 0);
  }
}

TEST_CASE(
    "body_encoder: after an error the output is rolled back and the error sticks "
    "[smtpipe]") {
  body_encoder e;
  std::string out = "DATA\r\n";
  REQUIRE_FALSE(e.encode("line one\n", out));
  CHECK(out == "DATA\r\nline one\r\n");
  CHECK(e.bytes_out() == 10);
  CHECK(e.encode("line two\nhas a \0 NUL\n"sv, out) == errc::nul_in_body);
  CHECK(out == "DATA\r\nline one\r\n");  // nothing of the failing call
  CHECK(e.bytes_out() == 10);
  CHECK(e.encode("more\n", out) == errc::nul_in_body);
  CHECK(e.finish(out) == errc::nul_in_body);
  CHECK(out == "DATA\r\nline one\r\n");
  e.reset();
  CHECK(e.bytes_out() == 0);
  std::string again;
  REQUIRE_FALSE(e.encode("ok", again));
  REQUIRE_FALSE(e.finish(again));
  CHECK(again == "ok\r\n.\r\n");
}

TEST_CASE("body_encoder: finish() only once [smtpipe]") {
  body_encoder e;
  std::string out;
  REQUIRE_FALSE(e.finish(out));
  CHECK(out == ".\r\n");
  CHECK(e.finish(out) == errc::invalid_argument);
  CHECK(e.encode("x", out) == errc::invalid_argument);
  CHECK(out == ".\r\n");
}

TEST_CASE("body_encoder: 8-bit and UTF-8 octets pass unchanged [smtpipe]") {
  CHECK(encode1("caf\xc3\xa9\r\n\xff\xfe\x80") == "caf\xc3\xa9\r\n\xff\xfe\x80\r\n.\r\n");
}

TEST_CASE(
    "body_encoder: lines over 998 octets are refused by default (security.md B.21) "
    "[smtpipe]") {
  const std::string l998(998, 'x');
  CHECK(encode1(l998) == l998 + "\r\n.\r\n");
  CHECK(encode1(l998 + "\r\n" + l998) == l998 + "\r\n" + l998 + "\r\n.\r\n");
  // The stuffed dot does not count (RFC 5321 section 4.5.3.1.6).
  CHECK(encode1("." + std::string(997, 'x')) == ".." + std::string(997, 'x') + "\r\n.\r\n");

  body_encoder e;
  std::string out;
  CHECK(e.encode(std::string(999, 'x'), out) == errc::body_line_too_long);
  CHECK(out.empty());

  // Across chunks.
  body_encoder f;
  out.clear();
  REQUIRE_FALSE(f.encode(std::string(500, 'y'), out));
  REQUIRE_FALSE(f.encode(std::string(498, 'y'), out));
  CHECK(f.encode("y", out) == errc::body_line_too_long);
  CHECK(out.size() == 998);

  body_encoder g;
  out.clear();
  REQUIRE_FALSE(g.encode(l998, out));
  REQUIRE_FALSE(g.encode("\r", out));
  REQUIRE_FALSE(g.encode("\n" + l998, out));
  REQUIRE_FALSE(g.finish(out));
  CHECK(out == l998 + "\r\n" + l998 + "\r\n.\r\n");

  CHECK(smtpipe::validate_body(l998 + "x") == errc::body_line_too_long);
}

TEST_CASE(
    "body_encoder: fold policy breaks long lines with CRLF SP (security.md B.21) "
    "[smtpipe]") {
  const body_encoder_options fold{true, long_line_policy::fold, 998};
  CHECK(encode1(std::string(999, 'x'), fold) == std::string(998, 'x') + "\r\n x\r\n.\r\n");
  CHECK(encode1(std::string(998, 'x') + "\n", fold) == std::string(998, 'x') + "\r\n.\r\n");

  const body_encoder_options small{true, long_line_policy::fold, 10};
  CHECK(encode1("abcdefghijklmnopqrstuvwxyz", small) ==
        "abcdefghij\r\n klmnopqrs\r\n tuvwxyz\r\n.\r\n");
  CHECK(encode({"abcdefghij", "k"}, small) == "abcdefghij\r\n k\r\n.\r\n");

  // A 5000-octet line: no wire line over 1000 octets with CRLF, and unfolding restores it.
  std::string line;
  for (int i = 0; i < 5000; ++i) line += static_cast<char>('a' + i % 26);
  const std::string wire = encode1(line, fold);
  std::size_t start = 0, longest = 0;
  for (auto p = wire.find("\r\n"); p != std::string::npos; p = wire.find("\r\n", start)) {
    longest = std::max(longest, p - start);
    start = p + 2;
  }
  CHECK(longest == 998);
  std::string unfolded = wire.substr(0, wire.size() - 5);  // drop "\r\n.\r\n"
  for (auto p = unfolded.find("\r\n "); p != std::string::npos; p = unfolded.find("\r\n ", p)) {
    unfolded.erase(p, 3);
  }
  CHECK(unfolded == line);
}

TEST_CASE("body_encoder: BDAT sizes are the octets produced (security.md B.22) [smtpipe]") {
  const std::string body = ".leading dot\nbare LF\rbare CR\r\n..two\n";
  body_encoder e(bdat_opts);
  std::string chunk1, chunk2;
  REQUIRE_FALSE(e.encode(std::string_view(body).substr(0, 17), chunk1));
  const auto after1 = e.bytes_out();
  REQUIRE_FALSE(e.encode(std::string_view(body).substr(17), chunk2));
  REQUIRE_FALSE(e.finish(chunk2));
  CHECK(after1 == chunk1.size());
  CHECK(e.bytes_out() == chunk1.size() + chunk2.size());
  CHECK(chunk1 + chunk2 == ".leading dot\r\nbare LF\r\nbare CR\r\n..two\r\n");

  std::uint64_t size = 0;
  CHECK_FALSE(smtpipe::validate_body(body, bdat_opts, &size));
  CHECK(size == (chunk1 + chunk2).size());
}

TEST_CASE("body_scanner and validate_body follow the encoder's rules [smtpipe]") {
  const std::string_view bodies[] = {"", ".", "a\n.\nb", "x\r\r\n.\r\r\ny", "abc\r\n", "\r"};
  for (std::string_view b : bodies) {
    CAPTURE(b);
    std::uint64_t size = 0;
    CHECK_FALSE(smtpipe::validate_body(b, {}, &size));
    CHECK(size == encode1(b).size());
  }
  CHECK(smtpipe::validate_body("a\0b"sv) == errc::nul_in_body);

  smtpipe::body_scanner s;
  CHECK_FALSE(s.has_8bit());
  CHECK_FALSE(s.scan("a\r"));
  CHECK_FALSE(s.scan("\n."));
  CHECK_FALSE(s.finish());
  CHECK(s.bytes_out() == "a\r\n..\r\n.\r\n"sv.size());
  CHECK(s.scan("x") == errc::invalid_argument);
  CHECK_FALSE(s.has_8bit());
  s.reset();
  CHECK_FALSE(s.scan("plain ASCII text, long enough for several words\r\n"));
  CHECK_FALSE(s.has_8bit());
  CHECK_FALSE(s.scan("then caf\xc3\xa9"));  // 8-bit: needs BODY=8BITMIME (security.md B.20)
  CHECK(s.has_8bit());
  CHECK_FALSE(s.scan("and ASCII again"));
  CHECK(s.has_8bit());
  s.reset();
  CHECK_FALSE(s.has_8bit());
  CHECK(s.scan("\0"sv) == errc::nul_in_body);
  CHECK(s.scan("fine") == errc::nul_in_body);
}

TEST_CASE("body_encoder: a large body in many chunks [smtpipe]") {
  std::string body;
  while (body.size() < (1u << 20))
    body += ".Lorem ipsum dolor sit amet, consectetur adipiscing elit\n";
  body_encoder e;
  std::string out;
  for (std::size_t pos = 0; pos < body.size(); pos += 4093) {
    REQUIRE_FALSE(e.encode(std::string_view(body).substr(pos, 4093), out));
  }
  REQUIRE_FALSE(e.finish(out));
  const std::size_t lines = body.size() / 57;
  CHECK(out.size() == body.size() + 2 * lines + 3);  // +1 dot and +1 CR per line, then ".\r\n"
  CHECK(canonical_line_ends(out));
  CHECK(terminators(out) == 1);
}
