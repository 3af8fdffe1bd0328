// The libunbound resolver and MX resolution against a real unbound on loopback (routing_env.py).
#include "routing/env.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/udp.hpp>
#include <asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>

#include <map>
#include <thread>

using namespace smtpipe;
using test::run_to_end;

namespace {

std::pair<std::error_code, dns_answer> ask(asio::io_context& io, dns_resolver& r, std::string name,
                                           dns_type t) {
  return run_to_end(io, r.query(std::move(name), t));
}

route routes(asio::io_context& io, dns_resolver& r, std::string domain, route_options o = {}) {
  return run_to_end(io, resolve_route(r, std::move(domain), std::move(o)));
}

struct recorder : routing_observer {
  std::string lines;
  void note(std::string_view domain, std::string_view text) override {
    lines += std::string(domain) + ": " + std::string(text) + "\n";
  }
};

}  // namespace

TEST_CASE("resolver: A and MX answers from unbound, records in wire format [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  REQUIRE_FALSE(r.error());
  auto [ec, a] = ask(io, r, "mx-a.routing.test", dns_type::a);
  REQUIRE_FALSE(ec);
  CHECK(a.rcode == 0);
  REQUIRE(a.records.size() == 1);
  CHECK(a.records[0] == std::string("\x7f\x00\x00\x02", 4));
  CHECK(a.security == dns_security::insecure);  // no trust anchor
  CHECK(a.ttl > 0);

  auto [ec2, mx] = ask(io, r, "pref.routing.test", dns_type::mx);
  REQUIRE_FALSE(ec2);
  REQUIRE(mx.records.size() == 2);
  std::map<int, std::string> by_pref;
  for (const auto& rd : mx.records) {
    auto rec = parse_mx_record(rd);
    REQUIRE(rec);
    by_pref[rec->preference] = rec->exchange;
  }
  CHECK(by_pref[5] == "mx-a.routing.test");
  CHECK(by_pref[10] == "mx-b.routing.test");
}

TEST_CASE("resolver: NXDOMAIN and NODATA are answers, not errors [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  auto [ec, nx] = ask(io, r, "nope.routing.test", dns_type::mx);
  REQUIRE_FALSE(ec);
  CHECK(nx.nxdomain);
  CHECK(nx.rcode == 3);
  auto [ec2, nodata] = ask(io, r, "implicit.routing.test", dns_type::mx);
  REQUIRE_FALSE(ec2);
  CHECK(nodata.no_data());
}

TEST_CASE("resolver: concurrent lookups on one resolver, one descriptor [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  int answered = 0;
  for (const char* name : {"mx-a.routing.test", "mx-b.routing.test", "mx-busy.routing.test",
                           "mx-down.routing.test", "implicit.routing.test"}) {
    r.async_query(name, dns_type::a, [&](std::error_code ec, dns_answer a) {
      CHECK_FALSE(ec);
      CHECK(a.records.size() == 1);
      ++answered;
    });
  }
  io.run_for(std::chrono::seconds(20));
  CHECK(answered == 5);
}

TEST_CASE("resolver: a server that never answers is a timeout [routing]") {
  asio::io_context io;
  asio::ip::udp::socket silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  resolver_options o;
  o.forwarder = "127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  o.timeout = std::chrono::milliseconds(500);
  dns_resolver r(io.get_executor(), o);
  const auto start = std::chrono::steady_clock::now();
  auto [ec, a] = ask(io, r, "mx-a.routing.test", dns_type::a);
  CHECK(ec == errc::dns_timeout);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  // A route over it: transient, no host.
  auto rt = routes(io, r, "pref.routing.test");
  CHECK(rt.error == errc::dns_timeout);
  CHECK_FALSE(rt.permanent);
}

TEST_CASE("resolver: a bad forwarder is a setup error [routing]") {
  asio::io_context io;
  resolver_options o;
  o.forwarder = "not-an-address";
  dns_resolver r(io.get_executor(), o);
  CHECK(r.error() == errc::resolver_setup);
  auto [ec, a] = ask(io, r, "mx-a.routing.test", dns_type::a);
  CHECK(ec == errc::resolver_setup);
}

TEST_CASE("route: MX sorted by preference, hosts with addresses [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  recorder notes;
  route_options o;
  o.observer = &notes;
  auto rt = routes(io, r, "pref.routing.test", o);
  REQUIRE_FALSE(rt.error);
  REQUIRE(rt.hosts.size() == 2);
  CHECK(rt.hosts[0].name == "mx-a.routing.test");
  CHECK(rt.hosts[0].preference == 5);
  REQUIRE(rt.hosts[0].addresses.size() == 1);
  CHECK(rt.hosts[0].addresses[0].to_string() == "127.0.0.2");
  CHECK(rt.hosts[1].name == "mx-b.routing.test");
  CHECK(notes.lines.find("MX hosts in order: mx-a.routing.test (5), mx-b.routing.test (10)") !=
        std::string::npos);
}

TEST_CASE("route: equal preferences are shuffled [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  int a_first = 0;
  const int runs = 40;
  for (int i = 0; i < runs; ++i) {
    auto rt = routes(io, r, "shuffle.routing.test");
    REQUIRE(rt.hosts.size() == 2);
    if (rt.hosts[0].name == "mx-a.routing.test") ++a_first;
  }
  // Binomial(40, 1/2): outside [8, 32] with probability < 1e-4.
  CHECK(a_first >= 8);
  CHECK(a_first <= 32);
}

TEST_CASE("route: implicit MX, null MX, NXDOMAIN, SERVFAIL [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options(std::chrono::seconds(8)));
  auto implicit = routes(io, r, "implicit.routing.test");
  REQUIRE_FALSE(implicit.error);
  CHECK(implicit.implicit);
  REQUIRE(implicit.hosts.size() == 1);
  CHECK(implicit.hosts[0].name == "implicit.routing.test");
  CHECK(implicit.hosts[0].addresses.at(0).to_string() == "127.0.0.3");

  auto null_mx = routes(io, r, "nullmx.routing.test");
  CHECK(null_mx.error == errc::null_mx);
  CHECK(null_mx.permanent);
  CHECK(null_mx.status.to_string() == "5.1.10");
  CHECK(null_mx.hosts.empty());

  auto nx = routes(io, r, "nope.routing.test");
  CHECK(nx.error == errc::domain_not_found);
  CHECK(nx.permanent);
  CHECK(nx.status.to_string() == "5.1.2");

  auto broken = routes(io, r, "x.broken.test");
  CHECK((broken.error == errc::dns_failure || broken.error == errc::dns_timeout));
  CHECK_FALSE(broken.permanent);
  CHECK(broken.status.cls == 4);
}

TEST_CASE(
    "route: hosts without address and address-literal targets skipped; CNAME noted [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  recorder notes;
  route_options o;
  o.observer = &notes;
  auto noaddr = routes(io, r, "noaddr.routing.test", o);
  REQUIRE_FALSE(noaddr.error);
  REQUIRE(noaddr.hosts.size() == 1);
  CHECK(noaddr.hosts[0].name == "mx-b.routing.test");
  REQUIRE(noaddr.skipped.size() == 1);
  CHECK(noaddr.skipped[0].host == "ghost.routing.test");
  CHECK(noaddr.skipped[0].reason == "host has no address");

  auto literal = routes(io, r, "literal.routing.test", o);
  REQUIRE(literal.hosts.size() == 1);
  CHECK(literal.hosts[0].name == "mx-b.routing.test");
  REQUIRE(literal.skipped.size() == 1);
  CHECK(literal.skipped[0].host == "127.0.0.2");

  auto alias = routes(io, r, "alias.routing.test", o);
  REQUIRE(alias.hosts.size() == 1);
  CHECK(alias.hosts[0].name == "cname-mx.routing.test");  // reported as published
  CHECK(alias.hosts[0].addresses.at(0).to_string() == "127.0.0.3");
  CHECK(notes.lines.find("alias of mx-b.routing.test") != std::string::npos);
}

TEST_CASE("route: ipv6_only asks for AAAA only: no address in the test zone [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  route_options o;
  o.family = address_preference::ipv6_only;
  auto rt = routes(io, r, "pref.routing.test", o);
  CHECK(rt.error == errc::no_mx_address);
  CHECK(rt.permanent);  // every lookup answered: no AAAA anywhere
  CHECK(rt.skipped.size() == 2);
}

TEST_CASE("route: an address literal domain goes to that address [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  auto rt = routes(io, r, "[127.0.0.3]");
  REQUIRE_FALSE(rt.error);
  REQUIRE(rt.hosts.size() == 1);
  CHECK(rt.hosts[0].addresses.at(0).to_string() == "127.0.0.3");
}

// Runs last and alone (routing_env.py): it stops unbound.
TEST_CASE("cache: answers are served from libunbound's cache within their TTL only [routing]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options(std::chrono::seconds(2)));
  auto [e1, long_lived] = ask(io, r, "mx-b.routing.test", dns_type::a);
  REQUIRE_FALSE(e1);
  auto [e2, short_lived] = ask(io, r, "short.routing.test", dns_type::a);
  REQUIRE_FALSE(e2);
  CHECK(short_lived.ttl <= 1);
  // Stop the server: whatever comes now comes from the cache.
  const pid_t pid = static_cast<pid_t>(std::stol(test::env_or_throw("SMTPIPE_TEST_UNBOUND_PID")));
  REQUIRE(::kill(pid, SIGTERM) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // past the 1 s TTL
  auto [e3, cached] = ask(io, r, "mx-b.routing.test", dns_type::a);
  CHECK_FALSE(e3);
  CHECK(cached.records == long_lived.records);
  auto [e4, expired] = ask(io, r, "short.routing.test", dns_type::a);
  CHECK((e4 || expired.rcode != 0));  // expired: asked again, and nobody answers
  auto [e5, never] = ask(io, r, "mx-a.routing.test", dns_type::a);
  CHECK((e5 || never.rcode != 0));  // never asked: not cached
}
