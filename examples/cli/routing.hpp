// cli/routing.hpp - smtpipe-send without --server: to each recipient domain's MX hosts.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_ROUTING_HPP
#define SMTPIPE_CLI_ROUTING_HPP

#include "cli/options.hpp"

#if SMTPIPE_SEND_ROUTING
#include <smtpipe.hpp>
#include <smtpipe/routing.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace smtpipe_cli {

/// Routing decisions on standard error, with --transcript.
struct routing_transcript : smtpipe::routing_observer {
  void note(std::string_view domain, std::string_view text) override {
    std::cerr << "routing " << domain << ": " << text << '\n';
  }
};

/// Routed delivery: to each domain's MX hosts, or to --server bound to --source-address. The
/// result is folded into one session_result: every recipient (with its host and address),
/// and the session fields of the first domain that had a session.
inline smtpipe::session_result send_routed(const cli_options& o,
                                           const smtpipe::session_options& options,
                                           asio::io_context& io,
                                           const smtpipe::default_pipeline& pipeline,
                                           const std::vector<smtpipe::message>& messages) {
  smtpipe::resolver_options ro;
  ro.forwarder = o.dns_server;
  ro.timeout = std::chrono::milliseconds(
      static_cast<long long>(std::max(1000.0, 10000.0 * o.timeout_scale)));
  smtpipe::dns_resolver resolver(io.get_executor(), ro);
  if (resolver.error()) throw std::runtime_error(resolver.error_text());
  smtpipe::route_options route;
  route.port = static_cast<std::uint16_t>(std::stoul(o.server_given ? o.port : o.mx_port));
  if (!o.source_address.empty()) route.source_address = asio::ip::make_address(o.source_address);
  if (o.server_given) route.relay_host = o.host;
  routing_transcript notes;
  if (o.transcript) route.observer = &notes;
  // Routed by MX: recipient domains whose MX host set is the same share connections (one
  // domain after another on one connection), closed with QUIT at the end.
  smtpipe::connection_pool pool(io.get_executor());
  if (!o.server_given) route.pool = &pool;
  smtpipe::routed_result routed;
  std::exception_ptr failure;
  auto work = [&]() -> asio::awaitable<smtpipe::routed_result> {
    std::exception_ptr e;
    smtpipe::routed_result r;
    try {
      r = co_await smtpipe::deliver_routed(resolver, pipeline, messages, options, route);
    } catch (...) {
      e = std::current_exception();
    }
    co_await pool.close();
    if (e) std::rethrow_exception(e);
    co_return r;
  };
  asio::co_spawn(io, work(), [&](std::exception_ptr e, smtpipe::routed_result r) {
    failure = e;
    routed = std::move(r);
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  smtpipe::session_result result;
  for (auto& d : routed.domains) {
    if (d.error)
      std::cerr << "smtpipe-send: " << d.domain << ": "
                << (d.route.text.empty() ? d.error.message() : d.route.text) << '\n';
    if (result.greeting.empty() && !d.session.greeting.empty()) result = std::move(d.session);
  }
  result.messages = std::move(routed.messages);
  result.error = {};
  return result;
}

}  // namespace smtpipe_cli
#endif  // SMTPIPE_SEND_ROUTING

#endif  // !SMTPIPE_CLI_ROUTING_HPP
