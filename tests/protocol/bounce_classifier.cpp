// Tests of smtpipe/protocol/bounce_classifier.hpp, bounce_rule.hpp and bounce_class.hpp:
// Momentum's bounce classes (reference §4), its `domain,code,rule` override form, custom
// classes, local errors, and a corpus of real-world-style replies (bounce_corpus.txt).
#include <smtpipe/protocol/bounce_classifier.hpp>

#include <doctest/doctest.h>
#include <asio/error.hpp>

#include <fstream>
#include <map>
#include <ostream>  // doctest prints std::error_code through operator<<
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

using namespace smtpipe;

namespace {

struct corpus_case {
  std::size_t line;
  int expected;
  std::string response;
};

std::vector<corpus_case> load_corpus() {
  std::ifstream in(SMTPIPE_BOUNCE_CORPUS);
  REQUIRE(in.good());
  std::vector<corpus_case> cases;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    const std::size_t sp = line.find(' ');
    REQUIRE(sp != std::string::npos);
    corpus_case c{n, std::stoi(line.substr(0, sp)), {}};
    const std::string raw = line.substr(sp + 1);
    for (std::size_t i = 0; i < raw.size(); ++i) {  // "\n" separates reply lines
      if (raw[i] == '\\' && i + 1 < raw.size() && raw[i + 1] == 'n') {
        c.response += "\r\n";
        ++i;
      } else {
        c.response += raw[i];
      }
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

int classify(std::string_view response, std::string_view domain = {}) {
  return bounce_classifier::builtin().classify_response(response, domain);
}

}  // namespace

TEST_CASE("bounce classes: Momentum's twenty codes, names and categories [smtpipe]") {
  CHECK(builtin_bounce_classes.size() == 20);
  const std::map<int, std::string_view> names{{1, "Undetermined"},
                                              {10, "Invalid Recipient"},
                                              {20, "Soft Bounce"},
                                              {21, "DNS Failure"},
                                              {22, "Mailbox Full"},
                                              {23, "Too Large"},
                                              {24, "Timeout"},
                                              {25, "Admin Failure"},
                                              {30, "Generic Bounce: No RCPT"},
                                              {40, "Generic Bounce"},
                                              {50, "Mail Block"},
                                              {51, "Spam Block"},
                                              {52, "Spam Content"},
                                              {53, "Prohibited Attachment"},
                                              {54, "Relaying Denied"},
                                              {60, "Auto-Reply"},
                                              {70, "Transient Failure"},
                                              {80, "Subscribe"},
                                              {90, "Unsubscribe"},
                                              {100, "Challenge-Response"}};
  for (const auto& entry : names) {
    const int code = entry.first;
    const std::string_view name = entry.second;
    CAPTURE(code);
    CHECK(builtin_bounce_class_name(code) == name);
    REQUIRE(find_builtin_bounce_class(code) != nullptr);
    CHECK(!find_builtin_bounce_class(code)->description.empty());
  }
  CHECK(builtin_bounce_class_name(0).empty());
  CHECK(builtin_bounce_class_name(99).empty());
  CHECK(to_string(bounce_class::relaying_denied) == "Relaying Denied");
  CHECK(find_builtin_bounce_class(10)->category == bounce_category::hard);
  CHECK(find_builtin_bounce_class(22)->category == bounce_category::soft);
  CHECK(find_builtin_bounce_class(25)->category == bounce_category::admin);
  CHECK(find_builtin_bounce_class(51)->category == bounce_category::block);
  CHECK(find_builtin_bounce_class(90)->category == bounce_category::hard);
}

TEST_CASE("bounce classifier: every built-in rule compiles [smtpipe]") {
  for (const auto& b : detail::builtin_bounce_rules) {
    CAPTURE(b.pattern);
    CAPTURE(b.enhanced);
    detail::compiled_bounce_rule c;
    CHECK(!detail::compile_bounce_rule(code_of(b.cls), b.reply_code, b.enhanced, b.pattern, c));
  }
}

TEST_CASE("bounce classifier: the corpus of real-world-style replies [smtpipe]") {
  const auto cases = load_corpus();
  CHECK(cases.size() >= 90);
  std::map<int, int> per_class;
  for (const auto& c : cases) {
    CAPTURE(c.line);
    CAPTURE(c.response);
    CHECK(classify(c.response) == c.expected);
    ++per_class[c.expected];
  }
  // The corpus exercises every class a reply can get from the built-in rules.
  for (int k : {10, 20, 21, 22, 23, 24, 25, 40, 50, 51, 52, 53, 54, 60, 70, 100}) {
    CAPTURE(k);
    CHECK(per_class[k] > 0);
  }
}

TEST_CASE("bounce classifier: reply forms agree and positive replies are not bounces [smtpipe]") {
  const auto& c = bounce_classifier::builtin();
  CHECK(c.classify(250, {}, "ok") == 0);
  CHECK(c.classify(354, {}, "go ahead") == 0);
  CHECK(c.classify_response("250 2.0.0 Ok: queued") == 0);
  reply r;
  r.code = 550;
  r.enhanced = {5, 1, 1};
  r.text = "<x@example.net>: Recipient address rejected: User unknown";
  r.line_count = 1;
  CHECK(c.classify(r) == 10);
  CHECK(c.classify(r.code, r.enhanced, r.text) == 10);
  // Case and white space do not matter; line breaks of a multi-line reply are spaces.
  CHECK(c.classify_response("550 MAILBOX   DOES\tNOT EXIST") == 10);
  CHECK(c.classify_response("550-mailbox does\r\n550 not exist") == 10);
  // No code: the text decides alone; nothing at all is Undetermined.
  CHECK(c.classify_response("mailbox full") == 22);
  CHECK(c.classify_response("") == 1);
  CHECK(c.classify(0, {}, "") == 1);
  // The enhanced code decides when the text says nothing known.
  CHECK(c.classify_response("550 5.1.1 no") == 10);
  CHECK(c.classify_response("550 5.2.2 no") == 22);
  CHECK(c.classify_response("552 5.3.4 no") == 23);
  CHECK(c.classify_response("554 5.7.1 no") == 50);
  CHECK(c.classify_response("550 5.7.23 no") == 50);
  // Then the reply code.
  CHECK(c.classify_response("553 no") == 10);
  CHECK(c.classify_response("554 no") == 40);
  CHECK(c.classify_response("451 no") == 70);
}

TEST_CASE(
    "bounce classifier: a 4yz reply is never a hard bounce, a 5yz never transient [smtpipe]") {
  CHECK(classify("550 5.1.1 user unknown") == 10);
  CHECK(classify("450 4.1.1 user unknown") == 20);
  CHECK(classify("450 4.2.1 mailbox disabled") == 20);
  // A 5yz that says it is temporary is a soft bounce, not a transient failure.
  CHECK(classify("451 4.7.1 greylisted, try again later") == 70);
  CHECK(classify("550 5.7.1 greylisted, try again later") == 20);
  // Blocks stay blocks: a temporary block is still a block.
  CHECK(classify("421 4.7.0 your IP is listed at zen.spamhaus.org") == 51);
}

TEST_CASE("bounce rules: Momentum's domain,code,rule form is parsed [smtpipe]") {
  std::vector<bounce_rule> rules;
  REQUIRE(
      !parse_bounce_rules("# comment\n"
                          "\n"
                          "example.net,51,user unknown\r\n"
                          ",22,storage, quota or space\n"
                          "  24 , connection timed out  \n"
                          "example.org , 10 , over quota|mailbox*full\n",
                          rules));
  REQUIRE(rules.size() == 4);
  CHECK(rules[0].domain == "example.net");
  CHECK(rules[0].bounce_class == 51);
  CHECK(rules[0].pattern == "user unknown");
  CHECK(rules[1].domain.empty());
  CHECK(rules[1].pattern == "storage, quota or space");  // commas after the code belong to it
  CHECK(rules[2].domain.empty());
  CHECK(rules[2].bounce_class == 24);
  CHECK(rules[2].pattern == "connection timed out");
  CHECK(rules[3].domain == "example.org");
  CHECK(rules[3].pattern == "over quota|mailbox*full");
}

TEST_CASE("bounce rules: bad lines are refused with their line number and reason [smtpipe]") {
  struct bad {
    const char* text;
    std::size_t line;
    const char* reason_part;
  };
  const bad cases[] = {
      {"no commas at all", 1, "expected"},
      {"example.net,user unknown", 1, "expected"},
      {"example.net,abc,user unknown", 1, "not a number"},
      {"example.net,0,user unknown", 1, "not from 1 to 100"},
      {"example.net,101,user unknown", 1, "not from 1 to 100"},
      {"example.net,1000,user unknown", 1, "not a number"},
      {"example.net,10,", 1, "empty rule"},
      {"example.net,10,   ", 1, "empty rule"},
      {"bad domain!,10,user unknown", 1, "invalid domain"},
      {"# ok\n,10,user unknown\n,10", 3, "expected"},
  };
  for (const auto& b : cases) {
    CAPTURE(b.text);
    std::vector<bounce_rule> rules{bounce_rule{}};
    bounce_rule_error where;
    CHECK(parse_bounce_rules(b.text, rules, &where) == errc::invalid_bounce_rule);
    CHECK(rules.size() == 1);  // unchanged: all or nothing
    CHECK(where.line == b.line);
    CHECK(where.reason.find(b.reason_part) != std::string::npos);
  }
  CHECK(make_error_code(errc::invalid_bounce_rule).message() ==
        "invalid bounce classification rule");
}

TEST_CASE("bounce classifier: user rules override the built-in ones, per domain first [smtpipe]") {
  bounce_classifier c;
  REQUIRE(
      !c.add_rules("example.net,51,user unknown\n"
                   ",52,blocked using\n"
                   "EXAMPLE.ORG,22,user unknown\n"));
  CHECK(c.rule_count() == 3);
  const std::string unknown = "550 5.1.1 <x>: Recipient address rejected: User unknown";
  CHECK(c.classify_response(unknown, "example.net") == 51);
  CHECK(c.classify_response(unknown, "Example.NET") == 51);  // domains are case-insensitive
  CHECK(c.classify_response(unknown, "example.org") == 22);
  CHECK(c.classify_response(unknown, "sub.example.net") == 10);  // exact domains only
  CHECK(c.classify_response(unknown, "other.example") == 10);    // the built-in rule
  CHECK(c.classify_response(unknown) == 10);
  // A global user rule beats the built-in Spam Block for every domain...
  const std::string listed = "554 5.7.1 Client host [192.0.2.7] blocked using zen.spamhaus.org";
  CHECK(c.classify_response(listed) == 52);
  CHECK(c.classify_response(listed, "example.net") == 52);
  CHECK(bounce_classifier::builtin().classify_response(listed) == 51);
  // ...and a domain rule beats a global one.
  REQUIRE(!c.add_rules("example.net,54,blocked using"));
  CHECK(c.classify_response(listed, "example.net") == 54);
  c.clear_rules();
  CHECK(c.rule_count() == 0);
  CHECK(c.classify_response(unknown, "example.net") == 10);
}

TEST_CASE("bounce classifier: Momentum's wildcard rules [smtpipe]") {
  bounce_classifier c(false);
  REQUIRE(
      !c.add_rules(",22,over quota|mailbox*full\n"
                   ",23,a*b\n"));  // no '|': a static substring, '*' is literal
  CHECK(c.classify_response("552 Sorry, over QUOTA") == 22);
  CHECK(c.classify_response("552 mailbox of x is full") == 22);
  CHECK(c.classify_response("552 full mailbox") == 1);  // pieces match in order
  CHECK(c.classify_response("550 a*b here") == 23);
  CHECK(c.classify_response("550 a to b") == 1);
  // Alternatives must not be empty.
  bounce_rule_error where;
  CHECK(c.add_rules(",22,ok\n,22,a||b", &where) == errc::invalid_bounce_rule);
  CHECK(where.line == 2);
  CHECK(c.add_rules(",22,a|*") == errc::invalid_bounce_rule);
  CHECK(c.rule_count() == 2);  // none of a refused text was added
}

TEST_CASE("bounce classifier: rules with reply and enhanced code conditions [smtpipe]") {
  bounce_classifier c;
  bounce_rule r;
  r.bounce_class = 70;
  r.reply_code = 4;
  r.enhanced = "4.7.*";
  r.pattern = "";
  REQUIRE(!c.add_rule(r));
  CHECK(c.classify_response("421 4.7.0 [TSS04] user complaints") == 70);
  CHECK(c.classify_response("421 4.7.1 anything") == 70);
  CHECK(c.classify_response("421 4.3.2 bye") == 70);     // the built-in rule
  CHECK(c.classify_response("421 closing") == 70);       // no enhanced code: built-in
  CHECK(c.classify_response("554 5.7.1 policy") == 50);  // 5yz: the condition fails
  r = {};
  r.bounce_class = 25;
  r.reply_code = 550;
  r.pattern = "user unknown";
  r.domain = "example.net";
  REQUIRE(!c.add_rule(r));
  CHECK(c.classify_response("550 user unknown", "example.net") == 25);
  CHECK(c.classify_response("553 user unknown", "example.net") == 10);
  // Conditions that cannot be compiled.
  r.reply_code = 600;
  CHECK(c.add_rule(r) == errc::invalid_bounce_rule);
  r.reply_code = 0;
  for (const char* e : {"5.x.1", "5.1", "3.1.1", "5.1.1.1", "5..1"}) {
    CAPTURE(e);
    r.enhanced = e;
    CHECK(c.add_rule(r) == errc::invalid_bounce_rule);
  }
  r.enhanced = "";
  r.bounce_class = 42;
  CHECK(c.add_rule(r) == errc::unknown_bounce_class);
}

TEST_CASE("bounce classifier: custom classes [smtpipe]") {
  bounce_classifier c;
  CHECK(!c.register_class(99, "Policy Suppressed", "Suppressed by our own list",
                          bounce_category::admin));
  CHECK(c.class_name(99) == "Policy Suppressed");
  REQUIRE(c.find_class(99));
  CHECK(c.find_class(99)->description == "Suppressed by our own list");
  CHECK(c.find_class(99)->category == bounce_category::admin);
  CHECK(c.class_name(10) == "Invalid Recipient");
  CHECK(c.class_name(0).empty());
  CHECK(!c.find_class(98));
  // No clash with built-in codes or another registration; codes 1-99 with a name.
  CHECK(c.register_class(10, "Mine") == errc::bounce_class_clash);
  CHECK(c.register_class(1, "Mine") == errc::bounce_class_clash);
  CHECK(c.register_class(99, "Other name") == errc::bounce_class_clash);
  CHECK(!c.register_class(99, "Policy Suppressed", "Suppressed by our own list",
                          bounce_category::admin));  // the same again: a no-op
  CHECK(c.register_class(100, "Mine") == errc::invalid_bounce_class);
  CHECK(c.register_class(0, "Mine") == errc::invalid_bounce_class);
  CHECK(c.register_class(-5, "Mine") == errc::invalid_bounce_class);
  CHECK(c.register_class(98, "") == errc::invalid_bounce_class);
  // Rules may name a class only once it exists.
  bounce_rule_error where;
  CHECK(c.add_rules(",10,fine\n,97,suppressed by list", &where) == errc::unknown_bounce_class);
  CHECK(where.line == 2);
  CHECK(where.reason == "unknown class code 97");
  CHECK(c.rule_count() == 0);
  REQUIRE(!c.add_rules("example.net,99,on our suppression list"));
  CHECK(c.classify_response("550 5.7.1 Address is on our suppression list", "example.net") == 99);
  CHECK(c.classify_response("550 5.7.1 Address is on our suppression list") == 50);
  // A copy keeps its classes.
  const bounce_classifier copy = c;
  CHECK(copy.class_name(99) == "Policy Suppressed");
  CHECK(copy.classify_response("550 on our suppression list", "example.net") == 99);
}

TEST_CASE("bounce classifier: without built-in rules only the user's rules decide [smtpipe]") {
  bounce_classifier c(false);
  CHECK(c.classify_response("550 5.1.1 user unknown") == 1);
  CHECK(c.classify_error(make_error_code(errc::timeout)) == 1);
  REQUIRE(!c.add_rules(",40,user unknown"));
  CHECK(c.classify_response("550 5.1.1 user unknown") == 40);
  CHECK(c.classify_response("250 ok") == 0);
}

TEST_CASE("bounce classifier: local failures [smtpipe]") {
  const auto& c = bounce_classifier::builtin();
  CHECK(c.classify_error({}) == 0);
  // Timeouts.
  CHECK(c.classify_error(errc::timeout) == 24);
  CHECK(c.classify_error(errc::session_deadline) == 24);
  CHECK(c.classify_error(make_error_code(std::errc::timed_out)) == 24);
  CHECK(c.classify_error(asio::error::timed_out) == 24);
  // DNS: Asio's resolver errors.
  CHECK(c.classify_error(asio::error::host_not_found) == 21);
  CHECK(c.classify_error(asio::error::host_not_found_try_again) == 21);
  CHECK(c.classify_error(asio::error::no_data) == 21);
  CHECK(c.classify_error(asio::error::no_recovery) == 21);
  CHECK(c.classify_error(asio::error::service_not_found) == 21);
  // Connections refused, reset, dropped: transient.
  CHECK(c.classify_error(asio::error::connection_refused) == 70);
  CHECK(c.classify_error(asio::error::connection_reset) == 70);
  CHECK(c.classify_error(asio::error::host_unreachable) == 70);
  CHECK(c.classify_error(asio::error::network_unreachable) == 70);
  CHECK(c.classify_error(asio::error::broken_pipe) == 70);
  CHECK(c.classify_error(asio::error::eof) == 70);
  CHECK(c.classify_error(make_error_code(std::errc::connection_refused)) == 70);
  CHECK(c.classify_error(errc::connection_closed) == 70);
  CHECK(c.classify_error(errc::service_not_available) == 70);
  CHECK(c.classify_error(errc::not_attempted) == 70);
  // TLS: a failed handshake is transient; a refused certificate or missing STARTTLS is policy.
  CHECK(c.classify_error(errc::tls_handshake_failed) == 70);
  CHECK(c.classify_error(errc::tls_certificate_rejected) == 25);
  CHECK(c.classify_error(errc::starttls_refused) == 25);
  CHECK(c.classify_error(errc::tls_not_available) == 25);
  CHECK(c.classify_error(errc::auth_failed) == 25);
  // Refused before sending.
  CHECK(c.classify_error(errc::message_too_big) == 23);
  CHECK(c.classify_error(errc::invalid_address) == 25);
  CHECK(c.classify_error(errc::nul_in_body) == 25);
  CHECK(c.classify_error(errc::extension_not_supported) == 25);
  // The server broke the protocol.
  CHECK(c.classify_error(errc::malformed_reply_code) == 40);
  CHECK(c.classify_error(errc::unsolicited_reply) == 40);
  CHECK(c.classify_error(errc::early_reply) == 40);
  CHECK(c.classify_error(errc::greeting_refused) == 50);
  // A category nobody knows.
  struct other_category : std::error_category {
    const char* name() const noexcept override { return "other"; }
    std::string message(int) const override { return "other"; }
  };
  static const other_category other;
  CHECK(c.classify_error(std::error_code(3, other)) == 1);
}

TEST_CASE("bounce classifier: user rules see a local error's message [smtpipe]") {
  bounce_classifier c;
  REQUIRE(!c.add_rules(",25,connection refused\nexample.net,54,timed out waiting"));
  CHECK(c.classify_error(asio::error::connection_refused) == 25);
  CHECK(c.classify_error(errc::timeout) == 24);
  CHECK(c.classify_error(errc::timeout, "example.net") == 54);
  // A rule with a reply-code condition never matches a local error.
  bounce_rule r;
  r.bounce_class = 40;
  r.reply_code = 5;
  r.pattern = "end of file";
  REQUIRE(!c.add_rule(r));
  CHECK(c.classify_error(asio::error::eof) == 70);
}
