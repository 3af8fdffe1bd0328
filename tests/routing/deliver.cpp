// Routed delivery through the real unbound to the smtp-sinks of routing_env.py.
#include "routing/env.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

using namespace smtpipe;
using test::run_to_end;

namespace {

message make(std::vector<std::string> to) {
  message m;
  m.sender = "sender@example.org";
  for (auto& r : to) m.recipients.emplace_back(std::move(r));
  m.body = body_source::copy("Subject: routed\r\n\r\nhello\r\n");
  return m;
}

struct recorder : routing_observer {
  std::string lines;
  void note(std::string_view domain, std::string_view text) override {
    lines += std::string(domain) + ": " + std::string(text) + "\n";
  }
};

routed_result send(asio::io_context& io, dns_resolver& r, const std::vector<message>& messages,
                   route_options o = {}) {
  o.port = test::test_mx_port();
  session_options s;
  s.helo_name = "client.example.org";
  s.timeouts = s.timeouts.scaled(0.05);
  static const default_pipeline pipeline;
  return run_to_end(io, deliver_routed(r, pipeline, std::span<const message>(messages), s, o));
}

}  // namespace

TEST_CASE(
    "routed: the most preferred MX takes the message; results name host and address [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  const std::vector<message> ms{make({"u@pref.routing.test"})};
  auto res = send(io, r, ms);
  REQUIRE(res.messages.size() == 1);
  const auto& rr = res.messages[0].recipients.at(0);
  CHECK(rr.status == delivery_status::delivered);
  CHECK(rr.host == "mx-a.routing.test");
  CHECK(rr.host_address == "127.0.0.2");
  REQUIRE(res.domains.size() == 1);
  CHECK(res.domains[0].tried.size() == 1);
  CHECK(res.domains[0].tried[0].decided);
}

TEST_CASE("routed: a refused connection and a 450 greeting move to the next MX [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  recorder notes;
  route_options o;
  o.observer = &notes;
  const std::vector<message> ms{make({"u@down.routing.test", "v@busy.routing.test"})};
  auto res = send(io, r, ms, o);
  const auto& down = res.messages[0].recipients.at(0);
  const auto& busy = res.messages[0].recipients.at(1);
  CHECK(down.status == delivery_status::delivered);
  CHECK(down.host == "mx-b.routing.test");
  CHECK(busy.status == delivery_status::delivered);
  CHECK(busy.host == "mx-a.routing.test");
  REQUIRE(res.domains.size() == 2);
  const auto& d0 = res.domains[0];
  REQUIRE(d0.tried.size() == 2);
  CHECK(d0.tried[0].host == "mx-down.routing.test");
  CHECK(d0.tried[0].address == "127.0.0.9");
  CHECK(d0.tried[0].error == asio::error::connection_refused);
  CHECK_FALSE(d0.tried[0].decided);
  const auto& d1 = res.domains[1];
  REQUIRE(d1.tried.size() == 2);
  CHECK(d1.tried[0].host == "mx-busy.routing.test");
  CHECK(d1.tried[0].reason.find("450") != std::string::npos);
  CHECK(d1.tried[1].decided);
  CHECK(notes.lines.find("mx-busy.routing.test [127.0.0.4] left") != std::string::npos);
}

TEST_CASE("routed: null MX and NXDOMAIN fail permanently without connecting [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  const std::vector<message> ms{
      make({"a@nullmx.routing.test", "b@nope.routing.test", "c@pref.routing.test"})};
  auto res = send(io, r, ms);
  const auto& rs = res.messages[0].recipients;
  CHECK(rs[0].status == delivery_status::permanent);
  CHECK(rs[0].error == errc::null_mx);
  CHECK(rs[0].enhanced.to_string() == "5.1.10");
  CHECK(rs[0].host.empty());
  CHECK(rs[1].status == delivery_status::permanent);
  CHECK(rs[1].error == errc::domain_not_found);
  CHECK(rs[2].status == delivery_status::delivered);
  CHECK(res.domains[0].tried.empty());
  CHECK(res.domains[1].tried.empty());
}

TEST_CASE(
    "routed: recipients of one domain share one transaction across messages' order [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  const std::vector<message> ms{
      make({"a@pref.routing.test", "b@implicit.routing.test", "c@pref.routing.test"}),
      make({"d@implicit.routing.test"})};
  auto res = send(io, r, ms);
  CHECK(res.all_delivered());
  CHECK(res.messages[0].recipients[0].host_address == "127.0.0.2");
  CHECK(res.messages[0].recipients[1].host_address == "127.0.0.3");
  CHECK(res.messages[0].recipients[2].host_address == "127.0.0.2");
  CHECK(res.messages[1].recipients[0].host == "implicit.routing.test");
  REQUIRE(res.domains.size() == 2);
  CHECK(res.domains[0].session.transactions == 1);  // a and c together
  CHECK(res.domains[1].session.transactions == 2);  // one per message
}

TEST_CASE("routed: no reachable host is transient, every address listed [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  route_options o;
  o.relay_host = "127.0.0.9";  // nothing listens there
  const std::vector<message> ms{make({"a@pref.routing.test"})};
  auto res = send(io, r, ms, o);
  const auto& rr = res.messages[0].recipients[0];
  CHECK(rr.status == delivery_status::transient);
  CHECK(res.domains[0].error == errc::all_hosts_failed);
  REQUIRE(res.domains[0].tried.size() == 1);
  CHECK(res.domains[0].tried[0].address == "127.0.0.9");
}

TEST_CASE("routed: a source address of the other family skips the address [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  route_options o;
  o.source_address = asio::ip::make_address("::1");
  const std::vector<message> ms{make({"a@pref.routing.test"})};
  auto res = send(io, r, ms, o);
  CHECK(res.messages[0].recipients[0].status == delivery_status::transient);
  REQUIRE(res.domains[0].tried.size() == 2);
  CHECK(res.domains[0].tried[0].reason == "the source address is of the other family");
}

// The example of docs/routing.md, compiled and run against the test zone.
namespace docs {

//! [routed-delivery]
asio::awaitable<void> deliver_to_domains(smtpipe::dns_resolver& resolver,
                                         const std::vector<smtpipe::message>& messages,
                                         std::uint16_t mx_port) {
  static const smtpipe::default_pipeline pipeline;
  smtpipe::session_options session;
  session.helo_name = "client.example.org";
  smtpipe::route_options route;
  route.port = mx_port;  // 25 on the internet
  route.family = smtpipe::address_preference::ipv4_only;
  smtpipe::routed_result result =
      co_await smtpipe::deliver_routed(resolver, pipeline, messages, session, route);
  for (const auto& m : result.messages)
    for (const auto& r : m.recipients)
      std::printf("%s: %s via %s [%s]\n", r.address.c_str(), smtpipe::to_string(r.status),
                  r.host.c_str(), r.host_address.c_str());
  for (const auto& d : result.domains)
    for (const auto& t : d.tried)
      std::printf("%s: %s [%s] %s\n", d.domain.c_str(), t.host.c_str(), t.address.c_str(),
                  t.reason.c_str());
}
//! [routed-delivery]

}  // namespace docs

TEST_CASE("docs: routed delivery example [routing]") {
  asio::io_context io;
  //! [resolver]
  smtpipe::resolver_options dns;
  dns.forwarder = smtpipe::test::test_dns();  // "127.0.0.1@5353"; empty: /etc/resolv.conf
  dns.timeout = std::chrono::seconds(5);
  smtpipe::dns_resolver resolver(io.get_executor(), dns);
  if (resolver.error()) throw std::runtime_error(resolver.error_text());
  //! [resolver]
  const std::vector<message> ms{make({"a@busy.routing.test"})};
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await docs::deliver_to_domains(resolver, ms, test::test_mx_port());
        done = true;
      },
      asio::detached);
  io.run_for(std::chrono::seconds(30));
  CHECK(done);
}

TEST_CASE("async_resolve_route and async_deliver_routed complete through their tokens [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  std::optional<route> got;
  async_resolve_route(r, "busy.routing.test", route_options{}, [&](std::error_code ec, route rt) {
    CHECK_FALSE(ec);
    got = std::move(rt);
  });
  io.run_for(std::chrono::seconds(20));
  io.restart();
  REQUIRE(got);
  REQUIRE(got->hosts.size() == 2);
  CHECK(got->hosts[0].name == "mx-busy.routing.test");

  static const default_pipeline pipeline;
  const std::vector<message> ms{make({"a@nullmx.routing.test", "b@pref.routing.test"})};
  route_options o;
  o.port = test::test_mx_port();
  session_options s;
  s.timeouts = s.timeouts.scaled(0.05);
  std::optional<routed_result> res;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        res = co_await async_deliver_routed(r, pipeline, std::span<const message>(ms), s, o,
                                            asio::use_awaitable);
      },
      asio::detached);
  io.run_for(std::chrono::seconds(30));
  REQUIRE(res);
  CHECK(res->messages[0].recipients[0].status == delivery_status::permanent);
  CHECK(res->messages[0].recipients[1].status == delivery_status::delivered);
  CHECK(res->messages[0].recipients[1].host_address == "127.0.0.2");
}

TEST_CASE("routed: MX hosts as or less preferred than this host are not used (loops) [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  route_options o;
  o.local_names = {"MX-B.routing.test"};
  auto rt = run_to_end(io, resolve_route(r, "pref.routing.test", o));
  REQUIRE_FALSE(rt.error);
  REQUIRE(rt.hosts.size() == 1);
  CHECK(rt.hosts[0].name == "mx-a.routing.test");
  o.local_names = {"mx-a.routing.test"};
  auto loop = run_to_end(io, resolve_route(r, "pref.routing.test", o));
  CHECK(loop.error == errc::mail_loop);
  CHECK(loop.permanent);
  CHECK(loop.status.to_string() == "5.4.6");
}

TEST_CASE("routed: parallel_domains delivers domains at once; results in domain order [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  // silent and silent2 both start with an MX that accepts and never greets: each costs a
  // greeting timeout (1.5 s here) before the next MX. At once, the two cost one.
  const std::vector<message> ms{make({"a@silent.routing.test", "b@silent2.routing.test",
                                      "c@pref.routing.test", "d@nullmx.routing.test"})};
  route_options o;
  o.parallel_domains = 4;
  o.port = test::test_mx_port();
  session_options s;
  s.timeouts = s.timeouts.scaled(0.005);
  static const default_pipeline pipeline;
  const auto start = std::chrono::steady_clock::now();
  auto res = run_to_end(io, deliver_routed(r, pipeline, std::span<const message>(ms), s, o));
  const auto took = std::chrono::steady_clock::now() - start;
  const auto& rs = res.messages[0].recipients;
  CHECK(rs[0].status == delivery_status::delivered);
  CHECK(rs[0].host_address == "127.0.0.3");
  CHECK(rs[1].status == delivery_status::delivered);
  CHECK(rs[1].host_address == "127.0.0.2");
  CHECK(rs[2].status == delivery_status::delivered);
  CHECK(rs[3].status == delivery_status::permanent);
  REQUIRE(res.domains.size() == 4);
  CHECK(res.domains[0].domain == "silent.routing.test");
  CHECK(res.domains[1].domain == "silent2.routing.test");
  CHECK(res.domains[0].tried.at(0).address == "127.0.0.8");
  CHECK(res.domains[0].tried.at(0).error == errc::timeout);
  CHECK(took < std::chrono::milliseconds(2800));  // one after another: over 3 s
}
