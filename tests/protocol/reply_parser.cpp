// Tests of smtpipe/protocol/reply_parser.hpp: RFC 5321 section 4.2 grammar and the hostile-server
// cases of security.md section 6 D (35-42).
#include <smtpipe/protocol/reply_parser.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

#include <string>
#include <string_view>
#include <vector>

using namespace std::literals;
using smtpipe::enhanced_status;
using smtpipe::errc;
using smtpipe::reply_limits;
using smtpipe::reply_parser;
using status = smtpipe::reply_parser::status;

namespace {

// What a caller sees: each completed reply, or the error that stopped the stream.
struct outcome {
  int code = 0;
  std::string text;
  enhanced_status es;
  std::uint32_t lines = 0;
  std::error_code ec;
  friend bool operator==(const outcome&, const outcome&) = default;
};

doctest::String toString(const outcome& o) {
  std::string s = std::to_string(o.code) + " [" + o.es.to_string() +
                  "] lines=" + std::to_string(o.lines) + " text=" + o.text +
                  " ec=" + o.ec.message();
  return s.c_str();
}

// Feeds `wire` in pieces of the given sizes (the last size repeats), collecting every reply.
std::vector<outcome> run(std::string_view wire, std::size_t piece, reply_limits limits = {},
                         bool* incomplete = nullptr) {
  reply_parser p(limits);
  std::vector<outcome> out;
  std::size_t pos = 0;
  while (pos < wire.size()) {
    std::string_view chunk = wire.substr(pos, piece == 0 ? wire.size() : piece);
    pos += chunk.size();
    while (!chunk.empty()) {
      const auto r = p.parse(chunk);
      if (r.st == status::error) {
        out.push_back({0, {}, {}, 0, r.ec});
        if (incomplete != nullptr) *incomplete = false;
        return out;
      }
      if (r.st == status::need_more) {
        REQUIRE(r.consumed == chunk.size());
        break;
      }
      REQUIRE(r.consumed > 0);
      REQUIRE(r.consumed <= chunk.size());
      const auto& rep = p.get();
      out.push_back({rep.code, rep.text, rep.enhanced, rep.line_count, {}});
      chunk.remove_prefix(r.consumed);
    }
  }
  if (incomplete != nullptr) *incomplete = p.in_progress();
  return out;
}

// The same stream cut in two at `cut`.
std::vector<outcome> run_split(std::string_view wire, std::size_t cut) {
  reply_parser p;
  std::vector<outcome> out;
  for (std::string_view chunk : {wire.substr(0, cut), wire.substr(cut)}) {
    while (!chunk.empty()) {
      const auto r = p.parse(chunk);
      if (r.st == status::error) {
        out.push_back({0, {}, {}, 0, r.ec});
        return out;
      }
      if (r.st == status::need_more) break;
      const auto& rep = p.get();
      out.push_back({rep.code, rep.text, rep.enhanced, rep.line_count, {}});
      chunk.remove_prefix(r.consumed);
    }
  }
  return out;
}

std::error_code first_error(std::string_view wire, reply_limits limits = {}) {
  const auto v = run(wire, 0, limits);
  return v.empty() ? std::error_code{} : v.back().ec;
}

const std::string_view valid_corpus =
    "220 mx.example.org ESMTP ready\r\n"
    "250-mx.example.org Hello client.example.net [192.0.2.7]\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 35882577\r\n"
    "250-8BITMIME\r\n"
    "250-AUTH PLAIN LOGIN\r\n"
    "250-ENHANCEDSTATUSCODES\r\n"
    "250 CHUNKING\r\n"
    "250 2.1.0 Ok\r\n"
    "550-5.1.1 The email account that you tried to reach does not exist.\r\n"
    "550-5.1.1 Please try double-checking the recipient's email address.\r\n"
    "550 5.1.1 https://support.example/answer\r\n"
    "354 End data with <CR><LF>.<CR><LF>\r\n"
    "250\r\n"
    "250 \r\n"
    "250-\r\n"
    "250 \r\n"
    "221 2.0.0 Bye\r\n";

}  // namespace

TEST_CASE("reply_parser parses a single-line reply [smtpipe]") {
  reply_parser p;
  const auto wire = "220 mx.example.org ESMTP Postfix\r\n"sv;
  const auto r = p.parse(wire);
  CHECK(r.st == status::done);
  CHECK(r.consumed == wire.size());
  CHECK_FALSE(r.ec);
  CHECK(p.get().code == 220);
  CHECK(p.get().text == "mx.example.org ESMTP Postfix");
  CHECK(p.get().line_count == 1);
  CHECK_FALSE(p.get().enhanced.present());
  CHECK_FALSE(p.in_progress());
}

TEST_CASE("reply_parser accepts a code with no text: 250 CRLF and 250 SP CRLF [smtpipe]") {
  for (std::string_view wire : {"250\r\n"sv, "250 \r\n"sv}) {
    CAPTURE(wire);
    const auto v = run(wire, 0);
    REQUIRE(v.size() == 1);
    CHECK(v[0] == outcome{250, "", {}, 1, {}});
  }
}

TEST_CASE("reply_parser joins multi-line replies and strips the separators [smtpipe]") {
  const auto v = run("250-mx.example.org\r\n250-PIPELINING\r\n250-\r\n250 SIZE 1000\r\n", 0);
  REQUIRE(v.size() == 1);
  CHECK(v[0] == outcome{250, "mx.example.org\nPIPELINING\n\nSIZE 1000", {}, 4, {}});
}

TEST_CASE(
    "reply_parser: 1 byte at a time and every two-way split give the same replies "
    "(security.md D.35) [smtpipe]") {
  const auto whole = run(valid_corpus, 0);
  REQUIRE(whole.size() == 9);
  CHECK(whole[0] == outcome{220, "mx.example.org ESMTP ready", {}, 1, {}});
  CHECK(whole[1].code == 250);
  CHECK(whole[1].lines == 7);
  CHECK(whole[2] == outcome{250, "Ok", {2, 1, 0}, 1, {}});
  CHECK(whole[3].es == enhanced_status{5, 1, 1});
  CHECK(whole[3].text ==
        "The email account that you tried to reach does not exist.\n"
        "Please try double-checking the recipient's email address.\n"
        "https://support.example/answer");
  CHECK(whole[8] == outcome{221, "Bye", {2, 0, 0}, 1, {}});

  CHECK(run(valid_corpus, 1) == whole);
  CHECK(run(valid_corpus, 2) == whole);
  CHECK(run(valid_corpus, 7) == whole);
  for (std::size_t cut = 0; cut <= valid_corpus.size(); ++cut) {
    CAPTURE(cut);
    CHECK(run_split(valid_corpus, cut) == whole);
  }
}

TEST_CASE("reply_parser: a CRLF split between two reads [smtpipe]") {
  reply_parser p;
  auto r = p.parse("250 ok\r");
  CHECK(r.st == status::need_more);
  CHECK(r.consumed == 7);
  CHECK(p.in_progress());
  r = p.parse("\n");
  CHECK(r.st == status::done);
  CHECK(r.consumed == 1);
  CHECK(p.get().text == "ok");
}

TEST_CASE("reply_parser returns coalesced replies one per call (security.md D.36) [smtpipe]") {
  reply_parser p;
  const auto wire = "220 hi\r\n250 2.1.0 sender ok\r\n250 2.1.5 rcpt ok\r\n354 go\r\n"sv;
  std::string_view rest = wire;
  const int expected[] = {220, 250, 250, 354};
  for (int code : expected) {
    const auto r = p.parse(rest);
    REQUIRE(r.st == status::done);
    CHECK(p.get().code == code);
    rest.remove_prefix(r.consumed);
  }
  CHECK(rest.empty());
  // get() holds the reply until the next call; the next call starts afresh.
  CHECK(p.get().text == "go");
  const auto r = p.parse("");
  CHECK(r.st == status::need_more);
  CHECK(p.get().code == 0);
  CHECK(p.get().text.empty());
}

TEST_CASE(
    "reply_parser leaves bytes after the reply alone: STARTTLS response injection "
    "(NO STARTTLS B_1) [smtpipe]") {
  reply_parser p;
  const auto wire = "220 go ahead\r\n250-x\r\n250 AUTH PLAIN\r\n"sv;
  const auto r = p.parse(wire);
  REQUIRE(r.st == status::done);
  CHECK(p.get().code == 220);
  CHECK(r.consumed == 14);  // the caller sees that 22 injected octets follow
  CHECK(wire.substr(r.consumed) == "250-x\r\n250 AUTH PLAIN\r\n");
  CHECK_FALSE(p.in_progress());
}

TEST_CASE("reply_parser refuses malformed reply codes (security.md D.39) [smtpipe]") {
  const std::string_view bad[] = {
      "22X OK\r\n",
      "220OK\r\n",
      "2 0\r\n",
      "-250\r\n",
      "\r\n",
      "\n",
      "666 x\r\n",
      "699 x\r\n",
      "100 x\r\n",
      "850 x\r\n",
      "199 x\r\n",
      "600 x\r\n",
      "260 x\r\n",  // second digit must be 0-5 (RFC 5321 section 4.2 ABNF)
      "2500 x\r\n",
      "25\r\n",
      " 250 x\r\n",
      "250\tx\r\n",
      "250_x\r\n",
      "x250 y\r\n",
      "\x00"
      "50 x\r\n"sv,
      "250x\r\n",
      "25 0\r\n",
  };
  for (std::string_view b : bad) {
    CAPTURE(b);
    CHECK(first_error(b) == errc::malformed_reply_code);
    CHECK(run(b, 1).back().ec == errc::malformed_reply_code);
  }
  // A bad line after a good first line is just as fatal.
  CHECK(first_error("250-ok\r\n25O ok\r\n") == errc::malformed_reply_code);
}

TEST_CASE("reply_parser refuses controls and bare CR in the text (security.md D.39) [smtpipe]") {
  const std::string_view bad[] = {
      "250 a\0b\r\n"sv,      "250 a\rb\r\n",           "250 ok\r\r\n",
      "250 \x1b[31mred\r\n", "250 del\x7f\r\n",        "250 bell\a\r\n",
      "250 a\x0b\r\n",       "250-ok\r\n250 a\rb\r\n", "250-a\x01\r\n250 b\r\n",
  };
  for (std::string_view b : bad) {
    CAPTURE(b);
    CHECK(first_error(b) == errc::control_character_in_reply);
    CHECK(run(b, 1).back().ec == errc::control_character_in_reply);
  }
}

TEST_CASE("reply_parser keeps HT, UTF-8 and 8-bit octets in the text [smtpipe]") {
  const auto v = run("250 a\tb h\xc3\xa9llo \xff\xfe\r\n", 0);
  REQUIRE(v.size() == 1);
  CHECK(v[0].text == "a\tb h\xc3\xa9llo \xff\xfe");
}

TEST_CASE(
    "reply_parser: an unfinished reply at EOF stays in progress (400 Interrupted CR) "
    "[smtpipe]") {
  bool incomplete = false;
  const auto v = run("400 Interrupted\r", 0, {}, &incomplete);
  CHECK(v.empty());
  CHECK(incomplete);  // the session must treat EOF now as a protocol error
  reply_parser p;
  CHECK(p.parse("250-first line\r\n").st == status::need_more);
  CHECK(p.in_progress());
}

TEST_CASE(
    "reply_parser refuses mismatched multi-line codes without deciding early "
    "(security.md D.40) [smtpipe]") {
  reply_parser p;
  auto r = p.parse("250-a\r\n");
  CHECK(r.st == status::need_more);  // no decision from the first line
  CHECK(p.get().line_count == 1);
  r = p.parse("550 b\r\n");
  CHECK(r.st == status::error);
  CHECK(r.ec == errc::reply_code_mismatch);
  CHECK(first_error("200-x\r\n250 y\r\n") == errc::reply_code_mismatch);
  CHECK(first_error("250-x\r\n250-y\r\n251 z\r\n") == errc::reply_code_mismatch);
}

TEST_CASE("reply_parser accepts bare LF line ends (security.md D.41) [smtpipe]") {
  const auto crlf = run("250-a\r\n250-b\r\n250 c\r\n220 x\r\n", 0);
  CHECK(run("250-a\n250-b\n250 c\n220 x\n", 0) == crlf);
  CHECK(run("250-a\n250-b\r\n250 c\n220 x\r\n", 1) == crlf);
  REQUIRE(crlf.size() == 2);
  CHECK(crlf[0] == outcome{250, "a\nb\nc", {}, 3, {}});
}

TEST_CASE(
    "reply_parser sanitises enhanced codes whose class disagrees (security.md D.42) "
    "[smtpipe]") {
  auto v = run("250 5.1.1 ok\r\n", 0);
  REQUIRE(v.size() == 1);
  CHECK(v[0].code == 250);
  CHECK(v[0].es == enhanced_status{2, 0, 0});
  CHECK(v[0].text == "ok");

  v = run("550 2.0.0 x\r\n", 0);
  REQUIRE(v.size() == 1);
  CHECK(v[0].es == enhanced_status{5, 0, 0});
  CHECK(v[0].text == "x");

  v = run("451 4.7.1 Try again later\r\n", 0);
  CHECK(v[0].es == enhanced_status{4, 7, 1});
  // A 3yz reply has no enhanced class of its own: any code is replaced by 3.0.0.
  v = run("354 2.0.0 go\r\n", 0);
  CHECK(v[0].es == enhanced_status{3, 0, 0});
}

TEST_CASE("reply_parser strips the enhanced code only where it repeats [smtpipe]") {
  auto v = run("550-5.1.1 first\r\n550-second\r\n550-5.7.1 third\r\n550 5.1.1 fourth\r\n", 0);
  REQUIRE(v.size() == 1);
  CHECK(v[0].es == enhanced_status{5, 1, 1});
  CHECK(v[0].text == "first\nsecond\n5.7.1 third\nfourth");
  // No code on the first line: later codes are left in the text.
  v = run("550-first\r\n550 5.1.1 second\r\n", 0);
  CHECK_FALSE(v[0].es.present());
  CHECK(v[0].text == "first\n5.1.1 second");
  // Not an enhanced code: "5.1.1x", "3.1.1".
  v = run("550 5.1.1x\r\n", 0);
  CHECK_FALSE(v[0].es.present());
  CHECK(v[0].text == "5.1.1x");
  v = run("250 2.0.0\r\n", 0);
  CHECK(v[0].es == enhanced_status{2, 0, 0});
  CHECK(v[0].text.empty());
}

TEST_CASE("reply_parser enforces max_line exactly [smtpipe]") {
  const reply_limits lim{16, 1024, 16};
  const std::string ok = "250 " + std::string(12, 'a');  // 16 octets
  const std::string too_long = "250 " + std::string(13, 'a');
  CHECK(run(ok + "\r\n", 0, lim).back() == outcome{250, std::string(12, 'a'), {}, 1, {}});
  CHECK(run(ok + "\n", 1, lim).back().code == 250);
  CHECK(run(ok + "\r\n", 1, lim).back().code == 250);
  CHECK(run(too_long + "\r\n", 0, lim).back().ec == errc::reply_line_too_long);
  CHECK(run(too_long + "\n", 0, lim).back().ec == errc::reply_line_too_long);
  CHECK(run(too_long + "\r\n", 1, lim).back().ec == errc::reply_line_too_long);

  // Fed one octet at a time with no line end, the 17th octet is already refused.
  reply_parser p(lim);
  for (char c : too_long.substr(0, 16))
    REQUIRE(p.parse(std::string_view(&c, 1)).st == status::need_more);
  CHECK(p.parse("a").ec == errc::reply_line_too_long);
}

TEST_CASE(
    "reply_parser stops a 1 MiB line without LF at the line cap (security.md D.37) "
    "[smtpipe]") {
  const std::string huge = "250 " + std::string(1024 * 1024, 'A');
  reply_parser p;  // default max_line 8192
  // Whole: refused without looking past the cap.
  auto r = p.parse(huge);
  CHECK(r.st == status::error);
  CHECK(r.ec == errc::reply_line_too_long);
  CHECK(r.consumed <= p.limits().max_line + 2);

  // In 4 KiB reads: refused as soon as the buffered part exceeds the cap.
  reply_parser q;
  std::size_t fed = 0;
  reply_parser::result last{};
  for (std::size_t pos = 0; pos < huge.size(); pos += 4096) {
    last = q.parse(std::string_view(huge).substr(pos, 4096));
    fed += 4096;
    if (last.st != status::need_more) break;
  }
  CHECK(last.st == status::error);
  CHECK(last.ec == errc::reply_line_too_long);
  CHECK(fed <= q.limits().max_line + 4096);
}

TEST_CASE(
    "reply_parser stops endless continuation lines at the reply cap (security.md D.38) "
    "[smtpipe]") {
  SUBCASE("line count") {
    reply_parser p;  // default max_lines 1024
    std::size_t lines = 0;
    reply_parser::result r{};
    do {
      r = p.parse("250-x\r\n");
      ++lines;
    } while (r.st == status::need_more && lines < 100000);
    CHECK(r.st == status::error);
    CHECK(r.ec == errc::reply_too_long);
    CHECK(lines == p.limits().max_lines + 1);
  }
  SUBCASE("octet count") {
    reply_parser p(reply_limits{8192, 4096, 100000});
    const std::string line = "250-" + std::string(500, 'y') + "\r\n";
    std::size_t total = 0;
    reply_parser::result r{};
    do {
      r = p.parse(line);
      total += line.size();
    } while (r.st == status::need_more && total < 1000000);
    CHECK(r.ec == errc::reply_too_long);
    CHECK(total <= 4096 + line.size());
  }
  SUBCASE("exactly at the caps is fine") {
    const reply_limits lim{8192, 21, 3};
    CHECK(run("250-a\r\n250-b\r\n250 c\r\n", 0, lim).back().code == 250);  // 21 octets, 3 lines
    CHECK(run("250-a\r\n250-b\r\n250 cd\r\n", 0, lim).back().ec == errc::reply_too_long);
    CHECK(run("250-a\r\n250-b\r\n250-c\r\n250 d\r\n", 0, reply_limits{8192, 1000, 3}).back().ec ==
          errc::reply_too_long);
  }
}

TEST_CASE("reply_parser errors are sticky until reset [smtpipe]") {
  reply_parser p;
  CHECK(p.parse("22X oops\r\n").ec == errc::malformed_reply_code);
  const auto r = p.parse("250 ok\r\n");
  CHECK(r.st == status::error);
  CHECK(r.ec == errc::malformed_reply_code);
  CHECK(r.consumed == 0);
  p.reset();
  CHECK(p.parse("250 ok\r\n").st == status::done);
  CHECK(p.get().code == 250);
}

TEST_CASE("reply_parser reuses its buffers in steady state [smtpipe]") {
  reply_parser p;
  const std::string wire =
      "250-" + std::string(300, 'a') + "\r\n250 " + std::string(300, 'b') + "\r\n";
  REQUIRE(p.parse(wire).st == status::done);
  const char* data = p.get().text.data();
  const auto cap = p.get().text.capacity();
  for (int i = 0; i < 100; ++i) {
    // Byte-by-byte exercises the partial-line buffer too.
    for (char c : wire) p.parse(std::string_view(&c, 1));
    REQUIRE(p.get().code == 250);
  }
  CHECK(p.get().text.capacity() == cap);
  CHECK(p.get().text.data() == data);
}
