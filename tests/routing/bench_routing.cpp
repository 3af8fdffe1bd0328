// bench_routing - routed delivery of one message to each of N domains (routing_env.py --bench):
// wall time, messages per second and connections opened, one domain at a time and with
// `parallel_domains`, each without a connection pool (every domain a connection of its own) and
// with one (`connection_pool`: domains on the same MX host share connections). The connections
// counted are the ones the client opened (the pool's count, or one per address tried).
//
// Each setting delivers the DOMAIN_COUNT messages SMTPIPE_BENCH_ROUNDS times (default 10).
//
//   bench_routing DOMAIN_COUNT PARALLEL...   (environment: SMTPIPE_TEST_DNS, _MX_PORT)
#include "routing/env.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  using namespace smtpipe;
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_routing DOMAIN_COUNT PARALLEL...\n");
    return 64;
  }
  const int domains = std::atoi(argv[1]);
  // The same deliveries again and again (a stream of mail to the same domains): the first
  // round has a cold DNS cache and, with the pool, opens the connections the others reuse.
  const char* rounds_env = std::getenv("SMTPIPE_BENCH_ROUNDS");
  const int rounds = rounds_env ? std::max(1, std::atoi(rounds_env)) : 10;
  std::vector<message> messages;
  for (int i = 0; i < domains; ++i) {
    message m;
    m.sender = "bench@example.org";
    m.recipients.emplace_back("user@d" + std::to_string(i) + ".bench.routing.test");
    m.body = body_source::copy("Subject: bench\r\n\r\nrouted\r\n");
    messages.push_back(std::move(m));
  }
  static const default_pipeline pipeline;
  for (int a = 2; a < argc; ++a)
    for (const bool pooled : {false, true}) {
      asio::io_context io;
      dns_resolver resolver(io.get_executor(), test::test_resolver_options());
      route_options o;
      o.port = test::test_mx_port();
      o.family = address_preference::ipv4_only;
      o.parallel_domains = static_cast<std::size_t>(std::atoi(argv[a]));
      session_options s;
      s.helo_name = "bench.example.org";
      connection_pool pool(io.get_executor());  // defaults: 4 per destination, 64 in all
      if (pooled) o.pool = &pool;
      const auto start = std::chrono::steady_clock::now();
      // Timed: the deliveries and the pool's closing (QUIT on its idle connections).
      auto work = [&]() -> asio::awaitable<routed_result> {
        routed_result all;
        for (int round = 0; round < rounds; ++round) {
          routed_result one = co_await deliver_routed(resolver, pipeline, messages, s, o);
          for (auto& m : one.messages) all.messages.push_back(std::move(m));
          for (auto& d : one.domains) all.domains.push_back(std::move(d));
        }
        co_await pool.close();
        co_return all;
      };
      auto r = test::run_to_end(io, work(), std::chrono::seconds(300));
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::size_t connections = 0;
      for (const auto& d : r.domains)
        for (const auto& t : d.tried)
          if (!t.address.empty()) ++connections;
      if (pooled) connections = pool.stats().connections_opened;
      const int total = domains * rounds;
      std::printf(
          "pool=%s parallel_domains=%zu messages=%d delivered=%zu seconds=%.3f msg_per_s=%.1f "
          "connections=%zu\n",
          pooled ? "yes" : "no ", o.parallel_domains, total, r.count(delivery_status::delivered),
          secs, static_cast<double>(total) / secs, connections);
      if (r.count(delivery_status::delivered) != static_cast<std::size_t>(total)) return 1;
    }
  return 0;
}
