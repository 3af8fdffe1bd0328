// MTA-STS (RFC 8461) and TLSRPT (RFC 8460): the strict policy parser, MX matching, the TXT
// record, the report's JSON; with routing_env.py's unbound and HTTPS policy server ("live"
// cases): fetching, caching and refreshing when the TXT id changes.
#include "routing/env.hpp"

#include <smtpipe/openssl.hpp>
#include <smtpipe/routing/mta_sts_fetcher.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

using namespace smtpipe;

namespace {

mta_sts_policy parsed(std::string_view text) {
  mta_sts_policy p;
  std::string why;
  const auto ec = parse_mta_sts_policy(text, p, &why);
  INFO(why);
  REQUIRE(!ec);
  return p;
}

std::string refusal(std::string_view text) {
  mta_sts_policy p;
  p.max_age = 7;
  std::string why;
  const auto ec = parse_mta_sts_policy(text, p, &why);
  CHECK(ec == errc::mta_sts_policy_invalid);
  CHECK(p.max_age == 7);  // untouched on failure
  return why;
}

}  // namespace

TEST_CASE("MTA-STS policy: RFC 8461 §3.2's example parses") {
  const auto p = parsed(
      "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
      "mx: backupmx.example.com\nmax_age: 604800\n");
  CHECK(p.mode == mta_sts_mode::enforce);
  CHECK(p.max_age == 604800);
  REQUIRE(p.mx.size() == 3);
  CHECK(p.mx[1] == "*.example.net");
}

TEST_CASE("MTA-STS policy: CRLF, any field order, spaces after the colon, extensions, modes") {
  auto p = parsed(
      "mode:testing\r\nmax_age:  86400\r\nmx: MX.Example.COM\r\nversion: STSv1\r\n"
      "x-extension: some-value\r\n");
  CHECK(p.mode == mta_sts_mode::testing);
  CHECK(p.mx.at(0) == "mx.example.com");
  p = parsed("version: STSv1\nmode: none\nmax_age: 0");  // none: mx optional; no final newline
  CHECK(p.mode == mta_sts_mode::none);
  CHECK(p.mx.empty());
  CHECK(parsed("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557600\n").max_age ==
        31557600);
}

TEST_CASE("MTA-STS policy: malformed policies are refused") {
  CHECK(refusal("") == "no version field");
  CHECK(refusal("version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1\n") ==
        "version is not STSv1");
  CHECK(refusal("version: stsv1\nmode: enforce\nmx: a.test\nmax_age: 1\n") ==
        "version is not STSv1");
  CHECK(refusal("version: STSv1\nmode: Enforce\nmx: a.test\nmax_age: 1\n").find("mode") !=
        std::string::npos);
  CHECK(refusal("version: STSv1\nmode: enforce\nmx: a.test\n") == "no max_age field");
  CHECK(refusal("version: STSv1\nmode: enforce\nmax_age: 1\n") == "no mx field");
  CHECK(refusal("version: STSv1\nmx: a.test\nmax_age: 1\n") == "no mode field");
  CHECK(refusal("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557601\n") ==
        "max_age is over 31557600");
  CHECK(refusal("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 12345678901\n") ==
        "max_age has more than 10 digits");
  CHECK(refusal("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -1\n") ==
        "max_age is not a number");
  CHECK(refusal("version: STSv1\nmode: enforce\nmode: testing\nmx: a.test\nmax_age: 1\n") ==
        "mode given twice");
  CHECK(refusal("version: STSv1\nmode: enforce\nmx: *.*.a.test\nmax_age: 1\n").find("mx") !=
        std::string::npos);
  CHECK(refusal("version: STSv1\nmode: enforce\nmx: a..test\nmax_age: 1\n").find("mx") !=
        std::string::npos);
  CHECK(refusal("version: STSv1\nmode: enforce\nmx: mx_1.test\nmax_age: 1\n").find("mx") !=
        std::string::npos);
  CHECK(refusal("version: STSv1\nmode enforce\nmx: a.test\nmax_age: 1\n").find("key: value") !=
        std::string::npos);
  CHECK(refusal("version: STSv1\n\nmode: enforce\nmx: a.test\nmax_age: 1\n") ==
        "an empty line inside the policy");
  CHECK(refusal("<html>version: STSv1</html>\n") == "bad field name");
}

TEST_CASE("MTA-STS mx patterns: exact names and one-label wildcards (RFC 8461 §4.1)") {
  CHECK(mta_sts_mx_matches("mail.example.com", "MAIL.example.com."));
  CHECK(!mta_sts_mx_matches("mail.example.com", "mail2.example.com"));
  CHECK(mta_sts_mx_matches("*.example.com", "mx1.example.com"));
  CHECK(!mta_sts_mx_matches("*.example.com", "foo.mx1.example.com"));
  CHECK(!mta_sts_mx_matches("*.example.com", "example.com"));
  CHECK(!mta_sts_mx_matches("*.example.com", "mx1example.com"));
  mta_sts_policy p;
  p.mx = {"mx.a.test", "*.b.test"};
  CHECK(mta_sts_mx_allowed(p, "x.b.test"));
  CHECK(!mta_sts_mx_allowed(p, "mx.c.test"));
}

TEST_CASE("MTA-STS TXT record: v=STSv1 first, then an id of 1-32 letters and digits") {
  CHECK(parse_mta_sts_txt("v=STSv1; id=20160831085700Z;") == "20160831085700Z");
  CHECK(parse_mta_sts_txt("v=STSv1;id=abc") == "abc");
  CHECK(parse_mta_sts_txt("v=STSv1; id=abc; ext=1") == "abc");
  CHECK(!parse_mta_sts_txt("id=abc; v=STSv1"));
  CHECK(!parse_mta_sts_txt("v=STSv1"));
  CHECK(!parse_mta_sts_txt("v=STSv1; id=a-b"));
  CHECK(!parse_mta_sts_txt("v=STSv1; id=123456789012345678901234567890123"));
  CHECK(!parse_mta_sts_txt("v=STSv1; id=a; id=b"));
}

TEST_CASE("TLSRPT: counts per policy, failure details aggregated, RFC 8460 JSON fields") {
  tls_report r;
  tlsrpt_policy sts;
  sts.type = tlsrpt_policy_type::sts;
  sts.domain = "company-y.example";
  sts.policy_string = {"version: STSv1", "mode: testing", "mx: *.mail.company-y.example",
                       "max_age: 86400"};
  sts.mx_host = {"*.mail.company-y.example"};
  r.success(sts);
  r.success(sts);
  tlsrpt_failure f;
  f.result = tlsrpt_result::certificate_expired;
  f.sending_mta_ip = "2001:db8:abcd:0012::1";
  f.receiving_mx_hostname = "mx1.mail.company-y.example";
  f.receiving_ip = "203.0.113.56";
  r.failure(sts, f);
  r.failure(sts, f);
  f.result = tlsrpt_result::starttls_not_supported;
  r.failure(sts, f);
  tlsrpt_policy none;
  none.domain = "other.example";
  r.success(none);
  CHECK(r.successes("company-y.example") == 2);
  CHECK(r.failures("company-y.example") == 3);
  tlsrpt_meta meta;
  meta.organization_name = "Company-X";
  meta.contact_info = "sts-reporting@company-x.example";
  meta.report_id = "5065427c-23d3-47ca-b6e0-946ea0e8c4be";
  meta.start = std::chrono::system_clock::time_point(std::chrono::seconds(1459468800));
  meta.end = meta.start + std::chrono::hours(24) - std::chrono::seconds(1);
  CHECK(r.json(meta) ==
        "{\"organization-name\":\"Company-X\",\"date-range\":{\"start-datetime\":"
        "\"2016-04-01T00:00:00Z\",\"end-datetime\":\"2016-04-01T23:59:59Z\"},"
        "\"contact-info\":\"sts-reporting@company-x.example\","
        "\"report-id\":\"5065427c-23d3-47ca-b6e0-946ea0e8c4be\",\"policies\":["
        "{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\","
        "\"mode: testing\",\"mx: *.mail.company-y.example\",\"max_age: 86400\"],"
        "\"policy-domain\":\"company-y.example\",\"mx-host\":[\"*.mail.company-y.example\"]},"
        "\"summary\":{\"total-successful-session-count\":2,\"total-failure-session-count\":3},"
        "\"failure-details\":[{\"result-type\":\"certificate-expired\","
        "\"sending-mta-ip\":\"2001:db8:abcd:0012::1\","
        "\"receiving-mx-hostname\":\"mx1.mail.company-y.example\","
        "\"receiving-ip\":\"203.0.113.56\",\"failed-session-count\":2},"
        "{\"result-type\":\"starttls-not-supported\",\"sending-mta-ip\":\"2001:db8:abcd:0012::1\","
        "\"receiving-mx-hostname\":\"mx1.mail.company-y.example\","
        "\"receiving-ip\":\"203.0.113.56\",\"failed-session-count\":1}]},"
        "{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":\"other.example\"},"
        "\"summary\":{\"total-successful-session-count\":1,\"total-failure-session-count\":0}}]}");
}

TEST_CASE("MTA-STS cache: a policy lives for its max_age") {
  mta_sts_cache c;
  mta_sts_policy p;
  p.max_age = 10;
  p.id = "a";
  const auto t0 = mta_sts_cache::clock::now();
  c.put("d.test", p, t0);
  CHECK(c.get("d.test", t0 + std::chrono::seconds(9)));
  CHECK(!c.get("d.test", t0 + std::chrono::seconds(10)));
  CHECK(c.size() == 0);
}

// --- live: routing_env.py --sts-unit ---------------------------------------------------------

namespace {

std::size_t server_fetches(const std::string& host) {
  std::ifstream log(test::env_or_throw("SMTPIPE_TEST_STS_LOG"));
  std::size_t n = 0;
  for (std::string line; std::getline(log, line);)
    if (line == host) ++n;
  return n;
}

mta_sts_options live_options() {
  mta_sts_options o;
  o.port = static_cast<std::uint16_t>(std::stoi(test::env_or_throw("SMTPIPE_TEST_STS_PORT")));
  o.ca_file = test::env_or_throw("SMTPIPE_TEST_STS_CA");
  o.timeout = std::chrono::seconds(5);
  return o;
}

}  // namespace

TEST_CASE("live: a policy is fetched once, then cached; a new TXT id fetches again") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  mta_sts_client client(live_options());
  const std::string host = "mta-sts.cached.routing.test";
  const std::size_t before = server_fetches(host);
  auto first = test::run_to_end(io, client.lookup(r, "cached.routing.test"));
  INFO(first.reason);
  REQUIRE(first.policy);
  CHECK(first.txt_found);
  CHECK(!first.from_cache);
  CHECK(first.policy->mode == mta_sts_mode::enforce);
  CHECK(first.policy->id == "cached1");
  CHECK(first.policy->mx == std::vector<std::string>{"mx-sts.routing.test"});
  auto second = test::run_to_end(io, client.lookup(r, "Cached.Routing.Test."));
  REQUIRE(second.policy);
  CHECK(second.from_cache);
  CHECK(client.fetches() == 1);
  CHECK(server_fetches(host) == before + 1);
  // The cache holds a policy of another id: the TXT record's id differs, so it is refreshed.
  mta_sts_policy stale = *second.policy;
  stale.id = "cached0";
  stale.mode = mta_sts_mode::testing;
  client.cache().put("cached.routing.test", stale);
  auto third = test::run_to_end(io, client.lookup(r, "cached.routing.test"));
  REQUIRE(third.policy);
  CHECK(!third.from_cache);
  CHECK(third.policy->id == "cached1");
  CHECK(third.policy->mode == mta_sts_mode::enforce);
  CHECK(client.fetches() == 2);
  CHECK(server_fetches(host) == before + 2);
}

TEST_CASE(
    "live: fetch failures: HTTP 404, a wrong Content-Type, a redirect, an untrusted "
    "certificate, an invalid policy; a still-valid cached policy stays in force") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  mta_sts_client client(live_options());
  auto l = test::run_to_end(io, client.lookup(r, "fetchfail.routing.test"));
  CHECK(l.txt_found);
  CHECK(!l.policy);
  CHECK(l.error == errc::mta_sts_fetch_failed);
  CHECK(l.reason.find("404") != std::string::npos);
  l = test::run_to_end(io, client.lookup(r, "html.routing.test"));
  CHECK(l.error == errc::mta_sts_fetch_failed);
  CHECK(l.reason.find("text/html") != std::string::npos);
  l = test::run_to_end(io, client.lookup(r, "redirect.routing.test"));
  CHECK(l.error == errc::mta_sts_fetch_failed);
  CHECK(l.reason.find("301") != std::string::npos);
  l = test::run_to_end(io, client.lookup(r, "invalid.routing.test"));
  CHECK(l.error == errc::mta_sts_policy_invalid);
  CHECK(!l.policy);
  l = test::run_to_end(io, client.lookup(r, "nosts.routing.test"));
  CHECK(!l.txt_found);
  CHECK(!l.error);
  CHECK(!l.policy);
  // Another CA: the policy host's certificate is not trusted (sts-webpki-invalid).
  mta_sts_options other = live_options();
  other.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  mta_sts_client strict(other);
  l = test::run_to_end(io, strict.lookup(r, "cached.routing.test"));
  CHECK(l.error == errc::mta_sts_fetch_failed);
  CHECK(l.webpki_invalid);
  // A cached policy (of another id) is used while the fetch fails (RFC 8461 §5.1).
  mta_sts_policy cached;
  cached.mode = mta_sts_mode::enforce;
  cached.mx = {"mx-b.routing.test"};
  cached.max_age = 3600;
  cached.id = "older";
  client.cache().put("fetchfail.routing.test", cached);
  l = test::run_to_end(io, client.lookup(r, "fetchfail.routing.test"));
  CHECK(l.error == errc::mta_sts_fetch_failed);
  REQUIRE(l.policy);
  CHECK(l.from_cache);
  CHECK(l.policy->id == "older");
}

TEST_CASE(
    "live: deliver_routed under an enforced policy: the unlisted MX skipped, the listed one "
    "over TLS verified for its name; TLSRPT counts both; the policy cached for the next") {
  asio::io_context io;
  dns_resolver resolver(io.get_executor(), test::test_resolver_options());
  message m;
  m.sender = "sender@example.org";
  m.recipients.emplace_back("u@sts-enforce.routing.test");
  m.body = body_source::copy("Subject: sts\r\n\r\nhello\r\n");
  const std::vector<message> messages{m};
  static const default_pipeline pipeline;
  session_options options;
  options.helo_name = "client.example.org";
  options.timeouts = options.timeouts.scaled(0.1);
  options.tls = tls_mode::opportunistic;
  REQUIRE(!make_openssl_provider(tls_settings(), options.tls_provider));
  const std::string ca_file = test::env_or_throw("SMTPIPE_TEST_STS_CA");
  smtpipe::mta_sts_options mo = live_options();
  //! [mta-sts]
  smtpipe::mta_sts_client sts(mo);  // owns the policy cache and one fetch thread
  smtpipe::tls_settings pkix;       // tls_verify::host: the chain and the MX host name
  pkix.ca_file = ca_file;
  if (auto ec = smtpipe::make_openssl_provider(pkix, sts.pkix_tls)) throw std::system_error(ec);
  smtpipe::tls_report report;
  smtpipe::route_options route;
  route.mta_sts = &sts;  // not owned: they outlive the deliveries
  route.tls_report = &report;
  //! [mta-sts]
  route.port = test::test_mx_port();
  const routed_result r = test::run_to_end(
      io, deliver_routed(resolver, pipeline, std::span<const message>(messages), options, route));
  const recipient_result& rr = r.messages.at(0).recipients.at(0);
  INFO(rr.text);
  CHECK(rr.status == delivery_status::delivered);
  CHECK(rr.host == "mx-sts.routing.test");
  const domain_result& d = r.domains.at(0);
  CHECK(d.authentication == "mta-sts");
  CHECK(d.mta_sts == "enforce");
  CHECK(d.session.tls.verified);
  REQUIRE(d.tried.size() == 2);
  CHECK(d.tried[0].host == "mx-rogue.routing.test");
  CHECK(d.tried[0].address.empty());
  CHECK(d.tried[0].error == errc::mta_sts_mx_mismatch);
  CHECK(report.successes("sts-enforce.routing.test") == 1);
  CHECK(report.failures("sts-enforce.routing.test") == 1);
  // A second delivery uses the cached policy: no new fetch, the same outcome.
  const std::size_t fetched = server_fetches("mta-sts.sts-enforce.routing.test");
  const routed_result again = test::run_to_end(
      io, deliver_routed(resolver, pipeline, std::span<const message>(messages), options, route));
  CHECK(again.messages.at(0).recipients.at(0).host == "mx-sts.routing.test");
  CHECK(again.domains.at(0).authentication == "mta-sts");
  CHECK(sts.fetches() == 1);
  CHECK(server_fetches("mta-sts.sts-enforce.routing.test") == fetched);
  CHECK(report.successes("sts-enforce.routing.test") == 2);
}
