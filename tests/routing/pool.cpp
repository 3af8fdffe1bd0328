// The connection pool (issue 11 item 4) against pool_server.py, an aiosmtpd that counts its
// connections, QUITs and messages (routing_env.py --pool): every count is the server's.
#include "routing/env.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace smtpipe;
namespace {

/// Runs `work` on `io` until it is done (at most 60 s), not until `io` runs out of work: the
/// pool's idle connections keep it busy.
template <class T>
T run_to_end(asio::io_context& io, asio::awaitable<T> work) {
  std::optional<T> out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out = co_await std::move(work); }, asio::detached);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!out && !io.stopped() && std::chrono::steady_clock::now() < end) io.run_one_until(end);
  io.restart();
  if (!out) throw std::runtime_error("operation did not finish in time");
  return std::move(*out);
}

const std::string mx1 = "127.0.0.31", mx2 = "127.0.0.32";

/// The server's counters: `key` of listening address `host` ("peak_total" without a host).
struct server_stats {
  std::string json;
  static server_stats read() {
    std::ifstream f(test::env_or_throw("SMTPIPE_TEST_POOL_STATS"));
    std::stringstream ss;
    ss << f.rdbuf();
    return {ss.str()};
  }
  long get(const std::string& host, const std::string& key) const {
    std::size_t from = 0;
    if (!host.empty()) {
      from = json.find("\"" + host + "\"");
      REQUIRE(from != std::string::npos);
    }
    const auto at = json.find("\"" + key + "\": ", from);
    REQUIRE(at != std::string::npos);
    return std::stol(json.substr(at + key.size() + 4));
  }
};

void signal_server(int sig) {
  REQUIRE(::kill(static_cast<pid_t>(std::stol(test::env_or_throw("SMTPIPE_TEST_POOL_PID"))), sig) ==
          0);
}

/// Waits (without running any io_context) until `pred(stats)` holds, at most 5 s.
template <class Pred>
bool server_until(Pred pred) {
  for (int i = 0; i < 250; ++i) {
    if (pred(server_stats::read())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

message make(const std::string& to) {
  message m;
  m.sender = "sender@example.org";
  m.recipients.emplace_back(to);
  m.body = body_source::copy("Subject: pooled\r\n\r\nhello\r\n");
  return m;
}

session_options session_opts() {
  session_options s;
  s.helo_name = "client.example.org";
  s.timeouts = s.timeouts.scaled(0.1);
  return s;
}

routed_result send(asio::io_context& io, dns_resolver& r, connection_pool& pool,
                   const std::vector<message>& messages, std::size_t parallel = 1) {
  route_options o;
  o.port = test::test_mx_port();
  o.family = address_preference::ipv4_only;
  o.pool = &pool;
  o.parallel_domains = parallel;
  static const default_pipeline pipeline;
  return run_to_end(
      io, deliver_routed(r, pipeline, std::span<const message>(messages), session_opts(), o));
}

void close(asio::io_context& io, connection_pool& pool) {
  run_to_end(io, [&]() -> asio::awaitable<int> {
    co_await pool.close();
    co_return 0;
  }());
}

}  // namespace

TEST_CASE("pool: one connection serves many deliveries and domains; close() sends QUIT [pool]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  pool_options po;
  po.idle_timeout = std::chrono::seconds(10);
  connection_pool pool(io.get_executor(), po);
  const auto before = server_stats::read();
  for (const char* d : {"pa", "pb", "pc", "pa", "pb"}) {
    const std::vector<message> ms{make(std::string("u@") + d + ".pool.routing.test")};
    auto res = send(io, r, pool, ms);
    CHECK(res.all_delivered());
    CHECK(res.messages[0].recipients[0].host == "pool-mx1.routing.test");
    CHECK(res.messages[0].recipients[0].host_address == mx1);
  }
  // One call, three domains on the same MX host: their transactions share the connection.
  const std::vector<message> three{make("x@pd.pool.routing.test"), make("y@pe.pool.routing.test"),
                                   make("z@pf.pool.routing.test")};
  CHECK(send(io, r, pool, three).all_delivered());
  auto mid = server_stats::read();
  CHECK(mid.get(mx1, "opened") - before.get(mx1, "opened") == 1);
  CHECK(mid.get(mx1, "messages") - before.get(mx1, "messages") == 8);
  CHECK(mid.get(mx1, "quits") == before.get(mx1, "quits"));  // still open, no QUIT yet
  CHECK(pool.stats().connections_opened == 1);
  CHECK(pool.stats().reuses == 7);  // 8 deliveries, 1 connection
  CHECK(pool.idle_connections() == 1);
  close(io, pool);
  CHECK(pool.open_connections() == 0);
  CHECK(server_until([&](const server_stats& s) {
    return s.get(mx1, "quits") - before.get(mx1, "quits") == 1 &&
           s.get(mx1, "open") == before.get(mx1, "open");
  }));
}

TEST_CASE("pool: RSET before the next delivery only after a failed transaction [pool]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  pool_options po;
  po.idle_timeout = std::chrono::seconds(10);
  connection_pool pool(io.get_executor(), po);
  const auto before = server_stats::read();
  const std::vector<message> good{make("u@pa.pool.routing.test")};
  const std::vector<message> bad{make("refuse@pb.pool.routing.test")};
  CHECK(send(io, r, pool, good).all_delivered());
  CHECK(send(io, r, pool, good).all_delivered());  // after a clean transaction: no RSET
  CHECK(server_stats::read().get(mx1, "rsets") == before.get(mx1, "rsets"));
  auto refused = send(io, r, pool, bad);  // MAIL accepted, the only RCPT refused: aborted
  CHECK(refused.messages[0].recipients[0].status == delivery_status::permanent);
  CHECK(send(io, r, pool, good).all_delivered());
  const auto after = server_stats::read();
  CHECK(after.get(mx1, "rsets") - before.get(mx1, "rsets") == 1);
  CHECK(after.get(mx1, "opened") - before.get(mx1, "opened") == 1);
  CHECK(after.get(mx1, "messages") - before.get(mx1, "messages") == 3);
  close(io, pool);
}

TEST_CASE("pool: a message whose final reply never came is unknown, never sent again [pool]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  pool_options po;
  po.idle_timeout = std::chrono::seconds(10);
  connection_pool pool(io.get_executor(), po);
  const auto before = server_stats::read();
  const std::vector<message> lost{make("drop@pa.pool.routing.test")};
  auto res = send(io, r, pool, lost);  // the server closes after the data, without a reply
  CHECK(res.messages[0].recipients[0].status == delivery_status::unknown);
  CHECK(res.count(delivery_status::delivered) == 0);
  const std::vector<message> next{make("u@pb.pool.routing.test")};
  CHECK(send(io, r, pool, next).all_delivered());  // on a new connection
  close(io, pool);
  const auto after = server_stats::read();
  CHECK(after.get(mx1, "dropped") - before.get(mx1, "dropped") == 1);  // not sent again
  CHECK(after.get(mx1, "opened") - before.get(mx1, "opened") == 2);
  CHECK(after.get(mx1, "messages") - before.get(mx1, "messages") == 1);
}

TEST_CASE("pool: at most max_messages_per_connection messages per connection [pool]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  pool_options po;
  po.max_messages_per_connection = 2;
  connection_pool pool(io.get_executor(), po);
  const auto before = server_stats::read();
  std::vector<message> five;
  for (int i = 0; i < 5; ++i)
    five.push_back(make("u" + std::to_string(i) + "@pa.pool.routing.test"));
  auto res = send(io, r, pool, five);
  CHECK(res.all_delivered());
  close(io, pool);
  CHECK(server_until(
      [&](const server_stats& s) { return s.get(mx1, "open") == before.get(mx1, "open"); }));
  const auto after = server_stats::read();
  CHECK(after.get(mx1, "opened") - before.get(mx1, "opened") == 3);  // 2 + 2 + 1
  CHECK(after.get(mx1, "messages") - before.get(mx1, "messages") == 5);
  CHECK(after.get(mx1, "quits") - before.get(mx1, "quits") == 3);  // each one ended with QUIT
}

TEST_CASE("pool: an idle connection is closed with QUIT after idle_timeout [pool]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  pool_options po;
  po.idle_timeout = std::chrono::milliseconds(300);
  connection_pool pool(io.get_executor(), po);
  const auto before = server_stats::read();
  const std::vector<message> ms{make("u@pg.pool.routing.test")};
  CHECK(send(io, r, pool, ms).all_delivered());
  CHECK(pool.idle_connections() == 1);
  io.run_for(std::chrono::milliseconds(900));
  io.restart();
  CHECK(pool.open_connections() == 0);
  CHECK(pool.stats().idle_timeouts == 1);
  CHECK(server_until([&](const server_stats& s) {
    return s.get(mx2, "quits") - before.get(mx2, "quits") == 1 &&
           s.get(mx2, "open") == before.get(mx2, "open");
  }));
  CHECK(send(io, r, pool, ms).all_delivered());  // a new connection
  CHECK(pool.stats().connections_opened == 2);
  close(io, pool);
}

TEST_CASE("pool: the liveness check finds a 421 sent on an idle connection, or a close [pool]") {
  for (const int sig : {SIGUSR1, SIGUSR2}) {
    CAPTURE(sig);
    asio::io_context io;
    dns_resolver r(io.get_executor(), test::test_resolver_options());
    pool_options po;
    po.idle_timeout = std::chrono::seconds(10);
    connection_pool pool(io.get_executor(), po);
    const auto before = server_stats::read();
    const std::vector<message> first{make("u@pa.pool.routing.test")};
    CHECK(send(io, r, pool, first).all_delivered());
    REQUIRE(pool.idle_connections() == 1);
    // The server speaks (421) or hangs up while the connection is idle; nothing of ours runs
    // meanwhile, so only a look at the socket can tell before the next delivery.
    signal_server(sig);
    REQUIRE(server_until(
        [&](const server_stats& s) { return s.get(mx1, "open") == before.get(mx1, "open"); }));
    const std::vector<message> second{make("v@pb.pool.routing.test")};
    auto res = send(io, r, pool, second);
    CHECK(res.all_delivered());
    CHECK(pool.stats().dead_on_reuse == 1);
    CHECK(pool.stats().reuses == 0);
    CHECK(pool.stats().connections_opened == 2);
    close(io, pool);
    const auto after = server_stats::read();
    CHECK(after.get(mx1, "opened") - before.get(mx1, "opened") == 2);
    CHECK(after.get(mx1, "messages") - before.get(mx1, "messages") == 2);  // nothing lost
  }
}

TEST_CASE("pool: per-destination limit, deliveries wait their turn [pool]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  pool_options po;
  po.max_per_destination = 2;
  po.max_connections = 10;
  connection_pool pool(io.get_executor(), po);
  REQUIRE(server_until([](const server_stats& s) { return s.get(mx1, "open") == 0; }));
  signal_server(SIGHUP);  // peaks from now
  REQUIRE(server_until([](const server_stats& s) { return s.get(mx1, "peak") == 0; }));
  const auto before = server_stats::read();
  std::vector<message> six;
  for (int i = 1; i <= 6; ++i)
    six.push_back(make("u@slow" + std::to_string(i) + ".pool.routing.test"));
  auto res = send(io, r, pool, six, 6);  // six domains at once, one destination
  CHECK(res.all_delivered());
  const auto after = server_stats::read();
  CHECK(after.get(mx1, "peak") - before.get(mx1, "open") == 2);
  CHECK(after.get(mx1, "opened") - before.get(mx1, "opened") == 2);
  CHECK(after.get(mx1, "messages") - before.get(mx1, "messages") == 6);
  CHECK(pool.stats().peak_open == 2);
  close(io, pool);
}

TEST_CASE("pool: the global limit is shared fairly between destinations [pool]") {
  asio::io_context io;
  dns_resolver r(io.get_executor(), test::test_resolver_options());
  pool_options po;
  po.max_per_destination = 2;
  po.max_connections = 2;
  connection_pool pool(io.get_executor(), po);
  REQUIRE(server_until(
      [&](const server_stats& s) { return s.get(mx1, "open") + s.get(mx2, "open") == 0; }));
  signal_server(SIGHUP);
  REQUIRE(server_until([](const server_stats& s) { return s.get("", "peak_total") == 0; }));
  const auto before = server_stats::read();
  std::vector<message> six{make("a@slow1.pool.routing.test"),  make("b@slow2.pool.routing.test"),
                           make("c@slow3.pool.routing.test"),  make("d@slowb1.pool.routing.test"),
                           make("e@slowb2.pool.routing.test"), make("f@slowb3.pool.routing.test")};
  auto res = send(io, r, pool, six, 6);
  CHECK(res.all_delivered());
  const auto after = server_stats::read();
  CHECK(after.get("", "peak_total") == 2);  // never more than 2 at once, both used
  CHECK(after.get(mx1, "messages") - before.get(mx1, "messages") == 3);
  CHECK(after.get(mx2, "messages") - before.get(mx2, "messages") == 3);
  CHECK(pool.stats().peak_open == 2);
  close(io, pool);
}

// The example of docs/routing.md: one pool for many routed deliveries.
TEST_CASE("pool: the documented example [pool]") {
  asio::io_context io;
  dns_resolver resolver(io.get_executor(), test::test_resolver_options());
  static const default_pipeline pipeline;
  const std::vector<message> messages{make("u@pa.pool.routing.test"),
                                      make("v@pg.pool.routing.test")};
  session_options options = session_opts();
  std::size_t delivered = 0;
  //! [pool]
  auto work = [&]() -> asio::awaitable<void> {
    smtpipe::pool_options limits;
    limits.max_per_destination = 2;  // connections to one MX host set at once
    limits.idle_timeout = std::chrono::seconds(5);
    smtpipe::connection_pool pool(co_await asio::this_coro::executor, limits);
    smtpipe::route_options routing;
    routing.port = test::test_mx_port();  // 25 outside the tests
    routing.pool = &pool;
    for (int round = 0; round < 3; ++round) {  // later deliveries reuse the connections
      smtpipe::routed_result r =
          co_await smtpipe::deliver_routed(resolver, pipeline, messages, options, routing);
      delivered += r.count(smtpipe::delivery_status::delivered);
    }
    co_await pool.close();  // QUIT on every idle connection
  };
  //! [pool]
  asio::co_spawn(io, work(), asio::detached);
  io.run_for(std::chrono::seconds(30));
  CHECK(delivered == 6);
}
