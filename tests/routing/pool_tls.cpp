// Pooled routed delivery under TLS levels: the same per-host decisions as without a pool
// (deliver_routed.hpp's one host loop), and the TLS level as part of the pool's destination,
// against pool_server.py (routing_env.py --pool): every connection count is the server's.
#include "routing/env.hpp"

#include <smtpipe/openssl.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace smtpipe;
namespace {

template <class T>
T run_until_done(asio::io_context& io, asio::awaitable<T> work) {
  std::optional<T> out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out = co_await std::move(work); }, asio::detached);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!out && !io.stopped() && std::chrono::steady_clock::now() < end) io.run_one_until(end);
  io.restart();
  if (!out) throw std::runtime_error("operation did not finish in time");
  return std::move(*out);
}

/// pool_server.py's count of connections opened to `host`.
long opened(const std::string& host) {
  std::ifstream f(test::env_or_throw("SMTPIPE_TEST_POOL_STATS"));
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string json = ss.str();
  const auto from = json.find("\"" + host + "\"");
  REQUIRE(from != std::string::npos);
  const auto at = json.find("\"opened\": ", from);
  REQUIRE(at != std::string::npos);
  return std::stol(json.substr(at + 10));
}

const std::string mx1 = "127.0.0.31";
const std::string domain = "pa.pool.routing.test";

routed_result send_to(asio::io_context& io, dns_resolver& r, connection_pool* pool,
                      std::optional<tls_level> level) {
  message m;
  m.sender = "sender@example.org";
  m.recipients.emplace_back("u@" + domain);
  m.body = body_source::copy("Subject: pooled TLS\r\n\r\nhello\r\n");
  const std::vector<message> messages{m};
  session_options s;
  s.helo_name = "client.example.org";
  s.timeouts = s.timeouts.scaled(0.1);
  REQUIRE(!make_openssl_provider(tls_settings(), s.tls_provider));
  route_options o;
  o.port = test::test_mx_port();
  o.family = address_preference::ipv4_only;
  o.pool = pool;
  if (level) o.tls_levels.emplace_back(domain, *level);
  static const default_pipeline pipeline;
  return run_until_done(
      io, deliver_routed(r, pipeline, std::span<const message>(messages), std::move(s), o));
}

void close(asio::io_context& io, connection_pool& pool) {
  run_until_done(io, [&]() -> asio::awaitable<int> {
    co_await pool.close();
    co_return 0;
  }());
}

/// Both deliveries made the same decisions: per recipient and per host tried.
void same_decisions(const routed_result& direct, const routed_result& pooled) {
  const recipient_result& a = direct.messages.at(0).recipients.at(0);
  const recipient_result& b = pooled.messages.at(0).recipients.at(0);
  CHECK(a.status == b.status);
  CHECK(a.error == b.error);
  CHECK(a.code == b.code);
  CHECK(a.enhanced == b.enhanced);
  CHECK(a.state == b.state);
  CHECK(a.host == b.host);
  CHECK(a.host_address == b.host_address);
  CHECK(a.tls_auth == b.tls_auth);
  const domain_result& x = direct.domains.at(0);
  const domain_result& y = pooled.domains.at(0);
  CHECK(x.error == y.error);
  CHECK(x.route.status == y.route.status);
  CHECK(x.host == y.host);
  CHECK(x.authentication == y.authentication);
  REQUIRE(x.tried.size() == y.tried.size());
  for (std::size_t i = 0; i < x.tried.size(); ++i) {
    CHECK(x.tried[i].host == y.tried[i].host);
    CHECK(x.tried[i].address == y.tried[i].address);
    CHECK(x.tried[i].error == y.tried[i].error);
    CHECK(x.tried[i].decided == y.tried[i].decided);
  }
}

}  // namespace

TEST_CASE("pool: dane-only refuses an unsigned domain's hosts as without a pool [pool]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  connection_pool pool(io.get_executor());
  const long before = opened(mx1);
  const routed_result direct = send_to(io, r, nullptr, tls_level::dane_only);
  const routed_result pooled = send_to(io, r, &pool, tls_level::dane_only);
  same_decisions(direct, pooled);
  const recipient_result& rr = pooled.messages.at(0).recipients.at(0);
  CHECK(rr.status == delivery_status::transient);
  CHECK(rr.state == "routing");
  // RFC 7672 §2.2: no DNSSEC, no DANE: the host is not used; reported as Postfix does (4.7.5).
  CHECK(pooled.domains.at(0).route.status == enhanced_status{4, 7, 5});
  REQUIRE(!pooled.domains.at(0).tried.empty());
  CHECK(pooled.domains.at(0).tried.back().error == errc::dane_required);
  CHECK(opened(mx1) == before);  // neither connected
  CHECK(pool.stats().connections_opened == 0);
  CHECK(pool.open_connections() == 0);
  close(io, pool);
}

TEST_CASE(
    "pool: a host without the STARTTLS a TLS level requires is left as without a pool "
    "[pool]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  pool_options po;
  po.idle_timeout = std::chrono::seconds(10);
  connection_pool pool(io.get_executor(), po);
  const long before = opened(mx1);
  const routed_result direct = send_to(io, r, nullptr, tls_level::encrypt);
  const routed_result pooled = send_to(io, r, &pool, tls_level::encrypt);
  same_decisions(direct, pooled);
  const recipient_result& rr = pooled.messages.at(0).recipients.at(0);
  CHECK(rr.status == delivery_status::transient);  // pool_server.py offers no STARTTLS
  CHECK(rr.tls_auth.empty());
  CHECK(pooled.domains.at(0).error == errc::all_hosts_failed);
  REQUIRE(pooled.domains.at(0).tried.size() == 1);
  CHECK(!pooled.domains.at(0).tried[0].decided);
  CHECK(opened(mx1) - before == 2);  // one session each
  CHECK(pool.stats().connections_opened == 1);
  // The connection that could not take the messages is not kept for another delivery.
  CHECK(pool.idle_connections() == 0);
  CHECK(pool.open_connections() == 0);
  close(io, pool);
}

TEST_CASE("pool: the domain's TLS level is part of the pool's destination [pool]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  pool_options po;
  po.idle_timeout = std::chrono::seconds(10);
  connection_pool pool(io.get_executor(), po);
  const long before = opened(mx1);
  const routed_result plain = send_to(io, r, &pool, std::nullopt);
  CHECK(plain.all_delivered());
  // Level "none": plaintext too, but a connection of its own (its sessions are made
  // differently), reused by the next delivery under the same level.
  const routed_result none1 = send_to(io, r, &pool, tls_level::none);
  const routed_result none2 = send_to(io, r, &pool, tls_level::none);
  CHECK(none1.all_delivered());
  CHECK(none2.all_delivered());
  CHECK(none2.messages.at(0).recipients.at(0).host_address == mx1);
  CHECK(none2.messages.at(0).recipients.at(0).tls_auth.empty());
  CHECK(pool.stats().connections_opened == 2);
  CHECK(pool.stats().reuses == 1);
  CHECK(opened(mx1) - before == 2);
  close(io, pool);
}

TEST_CASE("pool: the destination key separates what connections may not share [pool]") {
  route a;
  a.domain = "a.example";
  for (const char* name : {"mx1.example", "mx2.example"}) {
    mx_host h;
    h.name = name;
    a.hosts.push_back(h);
  }
  route b = a;
  b.domain = "b.example";
  std::reverse(b.hosts.begin(), b.hosts.end());
  const route_options ro;
  const session_options so;
  detail::domain_security none;
  // The same MX host set in any order: one destination.
  CHECK(detail::pool_key(a, ro, so, none) == detail::pool_key(b, ro, so, none));
  detail::domain_security encrypt;
  encrypt.level = tls_level::encrypt;
  CHECK(detail::pool_key(a, ro, so, none) != detail::pool_key(a, ro, so, encrypt));
  CHECK(detail::pool_key(a, ro, so, encrypt) == detail::pool_key(b, ro, so, encrypt));
  // `secure`: the certificate must name the recipient domain.
  detail::domain_security secure;
  secure.level = tls_level::secure;
  CHECK(detail::pool_key(a, ro, so, secure) != detail::pool_key(b, ro, so, secure));
  // DANE: only where the MX records are signed.
  detail::domain_security dane;
  dane.level = tls_level::dane;
  route signed_b = b;
  signed_b.security = dns_security::secure;
  CHECK(detail::pool_key(a, ro, so, dane) != detail::pool_key(signed_b, ro, so, dane));
  // MTA-STS: its mode and the MX hosts its patterns allow.
  mta_sts_policy p;
  p.mode = mta_sts_mode::enforce;
  p.mx = {"mx1.example", "*.example"};
  detail::domain_security sts1;
  sts1.sts = p;
  detail::domain_security sts2 = sts1;
  sts2.sts->mx = {"*.example", "mx1.example"};
  CHECK(detail::pool_key(a, ro, so, sts1) == detail::pool_key(b, ro, so, sts2));
  sts2.sts->mx = {"mx1.example"};
  CHECK(detail::pool_key(a, ro, so, sts1) != detail::pool_key(b, ro, so, sts2));
  detail::domain_security testing = sts1;
  testing.sts->mode = mta_sts_mode::testing;
  CHECK(detail::pool_key(a, ro, so, sts1) != detail::pool_key(a, ro, so, testing));
  CHECK(detail::pool_key(a, ro, so, none) != detail::pool_key(a, ro, so, sts1));
}
