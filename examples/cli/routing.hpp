// cli/routing.hpp - smtpipe-send without --server: to each recipient domain's MX hosts.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_ROUTING_HPP
#define SMTPIPE_CLI_ROUTING_HPP

#include "cli/options.hpp"
#include "cli/report.hpp"

#if SMTPIPE_SEND_ROUTING
#include <smtpipe.hpp>
#include <smtpipe/routing.hpp>
#if SMTPIPE_SEND_MTA_STS
#include "cli/lazy_tls.hpp"

#include <smtpipe/openssl.hpp>
#include <smtpipe/routing/mta_sts_fetcher.hpp>
#endif

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
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
  // The system's root key cannot validate zones that only a resolver named with --dns-server
  // serves (a test or site resolver): such a resolver's answers are validated only with an
  // anchor of their own, or when the TLS level needs DNSSEC (dane, dane-only).
  const bool dane_level = o.tls_level == "dane" || o.tls_level == "dane-only";
  if (o.dns_trust_anchor == "none") ro.dnssec = false;
  else if (!o.dns_trust_anchor.empty()) ro.trust_anchor_file = o.dns_trust_anchor;
  else if (!o.dns_server.empty() && !dane_level) ro.dnssec = false;
  ro.timeout = std::chrono::milliseconds(
      static_cast<long long>(std::max(1000.0, 10000.0 * o.timeout_scale)));
  smtpipe::dns_resolver resolver(io.get_executor(), ro);
  if (resolver.error()) throw std::runtime_error(resolver.error_text());
  smtpipe::route_options route;
  route.port = static_cast<std::uint16_t>(std::stoul(o.server_given ? o.port : o.mx_port));
  if (!o.source_address.empty()) route.source_address = asio::ip::make_address(o.source_address);
  if (o.server_given) route.relay_host = o.host;
  if (!o.tls_level.empty()) route.tls_level = smtpipe::parse_tls_level(o.tls_level);
  routing_transcript notes;
  if (o.transcript) route.observer = &notes;
  const auto started = std::chrono::system_clock::now();
  smtpipe::tls_report report;
  if (!o.tlsrpt_file.empty()) route.tls_report = &report;
#if SMTPIPE_SEND_MTA_STS
  // MTA-STS for MX routing (not for a relay host): policies over HTTPS checked with --ca-file
  // (or the system's CAs), and the policy's MX hosts verified for their names with the same.
  std::optional<smtpipe::mta_sts_client> sts;
  if (o.mta_sts && !o.server_given) {
    smtpipe::mta_sts_options mo;
    mo.port = static_cast<std::uint16_t>(std::stoul(o.mta_sts_port));
    mo.ca_file = o.ca_file;
    mo.timeout = std::chrono::milliseconds(
        static_cast<long long>(std::max(1000.0, 30000.0 * o.timeout_scale)));
    sts.emplace(mo);
    smtpipe::tls_settings pkix;
    pkix.verify = smtpipe::tls_verify::host;
    pkix.ca_file = o.ca_file;
    pkix.cert_file = o.cert_file;
    pkix.key_file = o.key_file;
    if (o.ca_file.empty() && o.cert_file.empty())  // the system's CAs: only when first used
      sts->pkix_tls = std::make_shared<lazy_openssl_provider>(std::move(pkix));
    else if (auto ec = smtpipe::make_openssl_provider(pkix, sts->pkix_tls))
      throw std::runtime_error("cannot set up TLS for MTA-STS: " + ec.message());
    route.mta_sts = &*sts;
  }
#endif
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
  if (!o.tlsrpt_file.empty()) {
    smtpipe::tlsrpt_meta meta;
    meta.organization_name = o.helo;
    meta.contact_info = "postmaster@" + o.helo;
    meta.start = started;
    meta.end = std::chrono::system_clock::now();
    meta.report_id = smtpipe::tls_report::datetime(meta.start) + "_" + o.helo;
    std::ofstream file(o.tlsrpt_file, std::ios::binary | std::ios::trunc);
    file << report.json(meta) << '\n';
    if (!file.flush()) std::cerr << "smtpipe-send: cannot write " << o.tlsrpt_file << '\n';
  }
  if (o.json) {
    // One line per domain: who took it, how the connection was authenticated, who was left.
    for (const auto& d : routed.domains) {
      std::cout << "{\"domain\":" << json_string(d.domain)
                << ",\"host\":" << (d.host.empty() ? "null" : json_string(d.host))
                << ",\"address\":" << (d.address.empty() ? "null" : json_string(d.address))
                << ",\"authentication\":"
                << (d.authentication.empty() ? "null" : json_string(d.authentication))
                << ",\"mta_sts\":" << (d.mta_sts.empty() ? "null" : json_string(d.mta_sts))
                << ",\"tried\":[";
      for (std::size_t i = 0; i < d.tried.size(); ++i) {
        const auto& t = d.tried[i];
        std::cout << (i ? "," : "") << "{\"host\":" << json_string(t.host)
                  << ",\"address\":" << (t.address.empty() ? "null" : json_string(t.address))
                  << ",\"decided\":" << (t.decided ? "true" : "false")
                  << ",\"reason\":" << json_string(t.reason) << "}";
      }
      std::cout << "]}\n";
    }
    std::cout.flush();
  }
  smtpipe::session_result result;
  for (auto& d : routed.domains) {
    if (d.error)
      std::cerr << "smtpipe-send: " << d.domain << ": "
                << (d.route.text.empty() ? d.error.message() : d.route.text) << '\n';
    for (const auto& t : d.tried)
      if (!t.decided) refused_hosts().push_back({d.domain, t.host, t.address, t.reason});
    if (result.greeting.empty() && !d.session.greeting.empty()) result = std::move(d.session);
  }
  result.messages = std::move(routed.messages);
  result.error = {};
  return result;
}

}  // namespace smtpipe_cli
#endif  // SMTPIPE_SEND_ROUTING

#endif  // !SMTPIPE_CLI_ROUTING_HPP
