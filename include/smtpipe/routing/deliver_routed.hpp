// smtpipe/routing/deliver_routed.hpp - Deliver messages to their recipients' domains through MX.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_DELIVER_ROUTED_HPP
#define SMTPIPE_ROUTING_DELIVER_ROUTED_HPP

#include "smtpipe/client/deliver.hpp"
#include "smtpipe/client/runner.hpp"
#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/routing/connection_pool.hpp"
#include "smtpipe/routing/dns_resolver.hpp"
#include "smtpipe/routing/host_tls_plan.hpp"
#include "smtpipe/routing/mta_sts_route.hpp"
#include "smtpipe/routing/mta_sts_source.hpp"
#include "smtpipe/routing/resolve_route.hpp"
#include "smtpipe/routing/routed_result.hpp"
#include "smtpipe/routing/tls_required_no.hpp"

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

namespace detail {

/// The domain of a mailbox, lower-cased; empty when there is none.
inline std::string recipient_domain(std::string_view mailbox) {
  const auto at = mailbox.rfind('@');
  if (at == std::string_view::npos || at + 1 >= mailbox.size()) return {};
  return dns_lower(mailbox.substr(at + 1));
}

/// The recipients of one domain: a copy of each message that has some, with only those.
struct domain_group {
  std::string domain;
  std::vector<message> messages;
  std::vector<std::size_t> message_index;                 // into the caller's messages
  std::vector<std::vector<std::size_t>> recipient_index;  // into that message's recipients
  /// The messages carry `TLS-Required: No` and not REQUIRETLS (RFC 8689 §5): the domain's TLS
  /// policy is not enforced for them. Such messages travel in groups of their own.
  bool tls_optional = false;
};

/// RFC 8689 §5: `TLS-Required: No` asks that TLS policies be ignored; with the REQUIRETLS
/// parameter the header field is ignored (REQUIRETLS wins).
inline bool tls_optional(const message& m) {
  return !m.params.requiretls && has_tls_required_no(m);
}

/// `levels`: TLS security levels apply, so `TLS-Required: No` matters (the header sections are
/// read only then).
inline std::vector<domain_group> group_by_domain(std::span<const message> messages, bool levels) {
  std::vector<domain_group> groups;
  for (std::size_t m = 0; m < messages.size(); ++m) {
    const bool optional = levels && tls_optional(messages[m]);
    for (std::size_t r = 0; r < messages[m].recipients.size(); ++r) {
      const std::string d = recipient_domain(messages[m].recipients[r].address);
      if (d.empty()) continue;
      auto g = std::find_if(groups.begin(), groups.end(), [&](const domain_group& x) {
        return x.domain == d && x.tls_optional == optional;
      });
      if (g == groups.end()) {
        groups.push_back({d, {}, {}, {}, optional});
        g = groups.end() - 1;
      }
      if (g->message_index.empty() || g->message_index.back() != m) {
        message copy = messages[m];
        copy.recipients.clear();
        g->messages.push_back(std::move(copy));
        g->message_index.push_back(m);
        g->recipient_index.emplace_back();
      }
      g->messages.back().recipients.push_back(messages[m].recipients[r]);
      g->recipient_index.back().push_back(r);
    }
  }
  return groups;
}

/// Connects `socket` to `to` within `timeout`, bound first to `source` when given.
inline asio::awaitable<std::error_code> connect_from(asio::ip::tcp::socket& socket,
                                                     asio::ip::tcp::endpoint to,
                                                     std::optional<asio::ip::address> source,
                                                     std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  using asio::experimental::as_tuple;
  std::error_code ec;
  socket.open(to.protocol(), ec);
  if (ec) co_return ec;
  if (source) {
    socket.bind(asio::ip::tcp::endpoint(*source, 0), ec);
    if (ec) co_return ec;
  }
  asio::steady_timer timer(socket.get_executor());
  timer.expires_after(timeout);
  auto outcome = co_await (socket.async_connect(to, as_tuple(asio::use_awaitable)) ||
                           timer.async_wait(as_tuple(asio::use_awaitable)));
  if (outcome.index() == 1) co_return make_error_code(errc::timeout);
  co_return std::get<0>(std::get<0>(outcome));
}

/// True when the session decided nothing: every recipient is still transient, left by the
/// greeting, EHLO/HELO, STARTTLS or AUTH (or never tried), or refused for REQUIRETLS, and no
/// message was refused by validation. Only then is the next address or MX host tried (RFC 5321
/// §5.1): a reply to MAIL, RCPT or DATA is this host's answer.
inline bool nothing_decided(const session_result& r) {
  for (const auto& m : r.messages) {
    // RFC 8689 §4.2.1: a host that cannot take a REQUIRETLS message (no authenticated TLS,
    // no REQUIRETLS) is left like one that failed TLS; the last one's 5.7.30 stands.
    if (m.error && m.error != errc::requiretls_not_possible) return false;
    for (const auto& rr : m.recipients) {
      if (rr.error == errc::requiretls_not_possible) continue;
      if (rr.status != delivery_status::transient) return false;
      const std::string_view s = rr.state;
      if (!(s.empty() || s == "banner" || s == "ehlo" || s == "helo" || s == "starttls" ||
            s == "auth"))
        return false;
    }
  }
  return true;
}

inline void route_failure_results(routed_result& out, const domain_group& g, const domain_result& d,
                                  const session_options& options) {
  const bounce_classifier& classifier =
      options.bounce_classifier ? *options.bounce_classifier : bounce_classifier::builtin();
  for (std::size_t i = 0; i < g.messages.size(); ++i) {
    auto& target = out.messages[g.message_index[i]].recipients;
    for (std::size_t k = 0; k < g.recipient_index[i].size(); ++k) {
      recipient_result& rr = target[g.recipient_index[i][k]];
      rr.status = d.route.permanent ? delivery_status::permanent : delivery_status::transient;
      rr.code = 0;
      rr.enhanced = d.route.status;
      rr.text = d.route.text;
      rr.state = "routing";
      rr.state_id = -1;
      rr.error = d.error;
      classify_recipient(rr, classifier);
    }
  }
}

// How the connection that decided was authenticated: "dane-ee" or "dane-ta" (the TLSA records
// did), "mta-sts" (an enforced policy's PKIX check did), "pkix", or "none".
inline std::string connection_authentication(const tls_status& tls, bool sts_enforced) {
  if (!tls.active) return "none";
  if (tls.authentication == "dane-ee" || tls.authentication == "dane-ta") return tls.authentication;
  if (!tls.verified) return "none";
  return sts_enforced ? "mta-sts" : "pkix";
}

// The TLSRPT policy of a host that DANE authenticates (RFC 8460 §4.4: policy type "tlsa").
inline tlsrpt_policy dane_report_policy(const std::string& domain, const std::string& host,
                                        std::vector<std::string> records = {}) {
  tlsrpt_policy p;
  p.type = tlsrpt_policy_type::tlsa;
  p.domain = domain;
  p.mx_host = {host};
  p.policy_string = std::move(records);
  return p;
}

inline void session_results(routed_result& out, const domain_group& g, const domain_result& d) {
  for (std::size_t i = 0; i < g.messages.size() && i < d.session.messages.size(); ++i) {
    const message_result& got = d.session.messages[i];
    message_result& target = out.messages[g.message_index[i]];
    if (got.error && !target.error) target.error = got.error;
    target.transactions += got.transactions;
    for (std::size_t k = 0; k < g.recipient_index[i].size() && k < got.recipients.size(); ++k) {
      recipient_result& rr = target.recipients[g.recipient_index[i][k]];
      rr = got.recipients[k];  // host, address and tls_auth: stamped by `try_hosts`
      if (rr.host.empty()) rr.host = d.host;
      if (rr.host_address.empty()) rr.host_address = d.address;
    }
  }
}

/// A domain's MTA-STS policy (RFC 8461) and TLS reporting (RFC 8460) state, looked up once
/// before its hosts are tried (helpers in mta_sts_route.hpp).
struct domain_security {
  std::optional<tls_level> level;  // the domain's TLS security level, if one is set
  std::optional<mta_sts_policy> sts;
  tlsrpt_policy report_policy;
  bool count_sessions = false;
};

inline asio::awaitable<domain_security> domain_security_of(dns_resolver& resolver,
                                                           const domain_group& g,
                                                           const route_options& ropts,
                                                           domain_result& d) {
  domain_security sec;
  sec.level = level_of(ropts, g.domain);
  // TLS-Required: No (RFC 8689 §5): STARTTLS when offered, the certificate unchecked,
  // plaintext when TLS fails; no DANE or other policy (MTA-STS either) can refuse a host.
  if (g.tls_optional && sec.level && *sec.level != tls_level::none) sec.level = tls_level::may;
  sec.report_policy = detail::sts_report_policy(g.domain, std::nullopt);
  sec.count_sessions = ropts.tls_report != nullptr;
  if (ropts.mta_sts && ropts.relay_host.empty() && !g.tls_optional) {
    mta_sts_lookup found = co_await ropts.mta_sts->lookup(resolver, g.domain);
    if (found.policy && found.policy->mode != mta_sts_mode::none) sec.sts = found.policy;
    sec.report_policy = detail::sts_report_policy(g.domain, sec.sts);
    if (found.error) {
      route_note(ropts, g.domain, "MTA-STS: " + found.reason);
      if (ropts.tls_report && !sec.sts) {
        // The policy the TXT record announced is not there: this delivery's one failure.
        tlsrpt_policy p = sec.report_policy;
        p.type = tlsrpt_policy_type::sts;
        tlsrpt_failure f;
        f.result = detail::sts_lookup_failure(found);
        f.additional_information = found.reason;
        ropts.tls_report->failure(p, f);
        sec.count_sessions = false;
      }
    }
    if (sec.sts) {
      d.mta_sts = std::string(to_string(sec.sts->mode));
      route_note(ropts, g.domain,
                 "MTA-STS policy in " + d.mta_sts + " mode" +
                     (found.from_cache ? " (cached)" : " (fetched)") + ", id " + sec.sts->id);
    }
  }
  co_return sec;
}

/// What the host loop learnt over its calls for one domain.
struct host_loop_state {
  bool had_session = false;  // some session ran (else the route failure decides)
  std::error_code last_error;
};

/// Sets each recipient's host and address (unless the session named them) and tls_auth.
inline void stamp_results(session_result& r, const std::string& host, const std::string& address,
                          const std::string& tls_auth) {
  for (auto& m : r.messages)
    for (auto& rr : m.recipients) {
      if (rr.host.empty()) rr.host = host;
      if (rr.host_address.empty()) rr.host_address = address;
      rr.tls_auth = tls_auth;
    }
}

/// The per-host loop of a domain: each MX host in turn (its TLS plan under a TLS level, the
/// MTA-STS policy's mx patterns and PKIX check, TLS reporting), each address of it, connected
/// here and handed to `open(socket, options, host, address)`, which runs a session on it with
/// the messages its caller chose; opportunistic TLS failures and MTA-STS testing failures are
/// tried again on a fresh connection. True when a session decided the recipients; `out` is
/// the deciding session's result (or the last one's), stamped with host, address and tls_auth.
template <class Open>
asio::awaitable<bool> try_hosts(dns_resolver& resolver, const domain_group& g,
                                const session_options& options, const route_options& ropts,
                                const domain_security& sec, domain_result& d, host_loop_state& st,
                                session_result& out, Open open) {
  auto executor = co_await asio::this_coro::executor;
  const std::optional<mta_sts_policy>& sts = sec.sts;
  for (const mx_host& host : d.route.hosts) {
    // TLS security level (DANE, RFC 7672): decided per host before connecting.
    std::optional<host_tls_plan> plan;
    if (sec.level) {
      plan = co_await plan_host_tls(resolver, *sec.level, d.route, host, ropts.port, options);
      if (plan->refuse) {
        if (ropts.tls_report && plan->refuse != errc::tls_not_available) {
          tlsrpt_failure f;  // RFC 8460 §4.3.2: DANE's own failure types
          f.result = plan->refuse == errc::dane_required ? tlsrpt_result::dane_required
                                                         : tlsrpt_result::dnssec_invalid;
          f.receiving_mx_hostname = host.name;
          f.additional_information = plan->reason;
          ropts.tls_report->failure(detail::dane_report_policy(g.domain, host.name), f);
        }
        host_attempt refused{host.name, {}, plan->refuse, plan->reason, false};
        st.last_error = plan->refuse;
        route_note(ropts, g.domain, "not using " + host.name + ": " + plan->reason);
        d.tried.push_back(std::move(refused));
        continue;
      }
      if (plan->dane)
        route_note(ropts, g.domain, host.name + ": usable TLSA records, TLS authenticated by DANE");
      else if (!plan->reason.empty()) route_note(ropts, g.domain, host.name + ": " + plan->reason);
    }
    // DANE takes precedence over MTA-STS (RFC 8461 §2): a host that usable TLSA records
    // authenticate is subject to neither the policy's mx patterns nor its PKIX check.
    const bool dane = plan && plan->dane;
    const bool sts_listed = !sts || dane || mta_sts_mx_allowed(*sts, host.name);
    if (!sts_listed) {
      if (ropts.tls_report) {
        tlsrpt_failure f;
        f.result = tlsrpt_result::validation_failure;
        f.receiving_mx_hostname = host.name;
        f.additional_information = "MX host matches no mx pattern of the MTA-STS policy";
        f.failure_reason_code = "mx-mismatch";
        ropts.tls_report->failure(sec.report_policy, f);
      }
      if (sts->mode == mta_sts_mode::enforce) {
        host_attempt skipped{host.name,
                             {},
                             make_error_code(errc::mta_sts_mx_mismatch),
                             "not allowed by the MTA-STS policy",
                             false};
        route_note(ropts, g.domain, "skipping " + host.name + ": " + skipped.reason);
        st.last_error = skipped.error;
        d.tried.push_back(std::move(skipped));
        continue;
      }
      route_note(ropts, g.domain, host.name + " not in the MTA-STS policy (testing: used)");
    }
    const bool sts_applies = sts && sts_listed && !dane;
    const bool sts_enforced = sts_applies && sts->mode == mta_sts_mode::enforce;
    for (const asio::ip::address& address : host.addresses) {
      host_attempt attempt{host.name, address.to_string(), {}, {}, false};
      if (ropts.source_address && ropts.source_address->is_v4() != address.is_v4()) {
        attempt.error = make_error_code(std::errc::address_family_not_supported);
        attempt.reason = "the source address is of the other family";
        route_note(ropts, g.domain,
                   "skipping " + host.name + " [" + attempt.address + "]: " + attempt.reason);
        d.tried.push_back(std::move(attempt));
        continue;
      }
      const asio::ip::tcp::endpoint to(address, ropts.port);
      session_options here = options;
      // SNI and certificate name: the MX host, unless the caller named one.
      if (here.tls_server_name.empty()) here.tls_server_name = host.name;
      if (plan) {
        here.tls = plan->mode;
        if (plan->provider) here.tls_provider = plan->provider;
      }
      if (sts_applies) {
        // The certificate must be valid (PKIX) for the MX host name; enforce: never plaintext.
        if (ropts.mta_sts->pkix_tls) here.tls_provider = ropts.mta_sts->pkix_tls;
        here.tls_server_name = host.name;
        if (sts_enforced && here.tls != tls_mode::implicit) here.tls = tls_mode::required;
      }
      asio::ip::tcp::socket socket(executor);
      route_note(ropts, g.domain,
                 "connecting to " + host.name + " [" + attempt.address +
                     "]:" + std::to_string(ropts.port) +
                     (ropts.source_address ? " from " + ropts.source_address->to_string() : ""));
      if (auto ec =
              co_await connect_from(socket, to, ropts.source_address, options.timeouts.connect)) {
        attempt.error = ec;
        attempt.reason = "connect: " + ec.message();
        st.last_error = ec;
        route_note(ropts, g.domain, host.name + " [" + attempt.address + "]: " + attempt.reason);
        d.tried.push_back(std::move(attempt));
        continue;
      }
      session_result result = co_await open(std::move(socket), here, host.name, attempt.address);
      const tls_status handshake = result.tls;
      if (sts_applies && !sts_enforced && here.tls == tls_mode::opportunistic &&
          result.tls_fallback_reason && options.tls_provider &&
          here.tls_provider != options.tls_provider) {
        // MTA-STS testing: the policy's check failed (reported); delivery proceeds as without
        // a policy, with the caller's own TLS settings on a fresh connection.
        route_note(ropts, g.domain,
                   host.name + ": MTA-STS check failed (" + result.tls_fallback_reason.message() +
                       "), again with the usual TLS settings");
        here.tls_provider = options.tls_provider;
        here.tls_server_name =
            options.tls_server_name.empty() ? host.name : options.tls_server_name;
        asio::ip::tcp::socket again(executor);
        const std::error_code ec =
            co_await connect_from(again, to, ropts.source_address, options.timeouts.connect);
        if (!ec) result = co_await open(std::move(again), here, host.name, attempt.address);
      }
      if (here.tls == tls_mode::opportunistic && result.tls_fallback_reason) {
        // Opportunistic TLS failed before any message byte: a fresh plaintext connection to
        // the same address, never the one on which TLS failed (as `deliver` does).
        const std::error_code why = result.tls_fallback_reason;
        route_note(ropts, g.domain,
                   host.name + ": TLS failed (" + why.message() + "), again without TLS");
        here.tls = tls_mode::none;
        asio::ip::tcp::socket plain(executor);
        if (auto ec =
                co_await connect_from(plain, to, ropts.source_address, options.timeouts.connect)) {
          attempt.error = ec;
          attempt.reason = "connect (plaintext after TLS failure): " + ec.message();
          st.last_error = ec;
          d.tried.push_back(std::move(attempt));
          continue;
        }
        result = co_await open(std::move(plain), here, host.name, attempt.address);
        result.tls_fallback_reason = why;
      }
      st.had_session = true;
      d.host = host.name;
      d.address = attempt.address;
      d.authentication = detail::connection_authentication(result.tls, sts_enforced);
      stamp_results(result, d.host, d.address, result.tls.active ? d.authentication : "");
      if (sec.count_sessions)
        detail::report_session(
            *ropts.tls_report,
            dane ? detail::dane_report_policy(g.domain, host.name, plan->tlsa) : sec.report_policy,
            sts_applies, handshake, result, nothing_decided(result), host.name, attempt.address,
            ropts.source_address);
      if (nothing_decided(result)) {
        // No answer, a 4xx/421 or 5xx greeting, EHLO or STARTTLS (under a policy requiring
        // TLS) failed: the next address or host may do better (RFC 5321 §5.1).
        const recipient_result* first = nullptr;
        for (const auto& m : result.messages)
          if (!m.recipients.empty() && !first) first = &m.recipients.front();
        attempt.error = result.error ? result.error
                        : first      ? first->error
                                     : make_error_code(errc::not_attempted);
        if (!attempt.error) attempt.error = make_error_code(errc::service_not_available);
        attempt.reason = (first && first->code ? std::to_string(first->code) + " " + first->text
                                               : attempt.error.message()) +
                         (result.error_state.empty() ? "" : " in " + result.error_state) +
                         (result.error_text.empty() ? "" : ": " + result.error_text);
        st.last_error = attempt.error;
        route_note(ropts, g.domain,
                   host.name + " [" + attempt.address + "] left: " + attempt.reason);
        d.tried.push_back(std::move(attempt));
        out = std::move(result);
        continue;
      }
      attempt.decided = true;
      attempt.error = result.error;
      attempt.reason = result.error ? result.error.message() : "session completed";
      route_note(ropts, g.domain, host.name + " [" + attempt.address + "] decided the recipients");
      d.tried.push_back(std::move(attempt));
      out = std::move(result);
      co_return true;
    }
  }
  co_return false;
}

/// No host of the domain could be used and no session ran: the route's transient failure.
inline void no_host_reached(domain_result& d, const domain_group& g, const host_loop_state& st) {
  d.route.permanent = false;
  d.route.status = {4, 4, 1};
  d.route.text = "no MX host of " + g.domain + " could be reached" +
                 (st.last_error ? ": " + st.last_error.message() : std::string());
  if (!d.tried.empty() &&
      (st.last_error == errc::tlsa_lookup_failed || st.last_error == errc::dane_required ||
       st.last_error == errc::mta_sts_mx_mismatch)) {
    // As Postfix reports a TLSA lookup error or a DANE policy not met (and an enforced
    // MTA-STS policy no MX host matches): 4.7.5.
    d.route.status = {4, 7, 5};
    d.route.text =
        "no MX host of " + g.domain + " could be used securely: " + d.tried.back().reason;
  }
}

/// `try_hosts`' session runner without a pool: one session over the connected socket.
template <class Pipeline>
struct direct_sessions {
  const Pipeline* pipeline;
  std::span<const message> messages;
  asio::awaitable<session_result> operator()(asio::ip::tcp::socket socket, session_options here,
                                             const std::string&, const std::string&) const {
    return run_session(std::move(socket), *pipeline, messages, std::move(here));
  }
};

/// `try_hosts`' session runner through a pool: the session is kept in `lease` (a session an
/// earlier attempt of the same lease left open is ended first: its place is reused).
template <class Pipeline>
struct pooled_sessions {
  connection_pool* pool;
  pool_lease* lease;
  const Pipeline* pipeline;
  std::span<const message> batch;
  asio::awaitable<session_result> operator()(asio::ip::tcp::socket socket, session_options here,
                                             const std::string& host,
                                             const std::string& address) const {
    pool->discard(*lease);
    return pool->open(*lease, std::move(socket), *pipeline, batch, std::move(here), host, address);
  }
};

// Resolves the domain's route and its transport security (level, MTA-STS policy); nothing
// when the route failed (`d` then says why).
inline asio::awaitable<std::optional<domain_security>> start_domain(dns_resolver& resolver,
                                                                    const domain_group& g,
                                                                    const route_options& ropts,
                                                                    domain_result& d) {
  d.domain = g.domain;
  d.route = co_await resolve_route_impl(resolver, g.domain, ropts);
  d.tried = d.route.skipped;
  if (d.route.error) {
    d.error = d.route.error;
    co_return std::nullopt;
  }
  co_return co_await domain_security_of(resolver, g, ropts, d);
}

template <class Pipeline>
asio::awaitable<void> deliver_domain(dns_resolver& resolver, const Pipeline& pipeline,
                                     const domain_group& g, session_options options,
                                     route_options ropts, domain_result& d) {
  const std::optional<domain_security> started = co_await start_domain(resolver, g, ropts, d);
  if (!started) co_return;
  const domain_security& sec = *started;
  host_loop_state st;
  if (co_await try_hosts(
          resolver, g, options, ropts, sec, d, st, d.session,
          direct_sessions<Pipeline>{&pipeline, std::span<const message>(g.messages)})) {
    d.error = {};
    co_return;
  }
  d.error = make_error_code(errc::all_hosts_failed);
  if (!st.had_session) no_host_reached(d, g, st);
}

/// The pool's destination of a route: everything that changes how a connection is made or
/// which messages it may carry: its MX host set (in any order), source address, TLS mode,
/// port, the domain's TLS level (for `secure` with the domain, which the certificate must
/// name; for DANE whether the MX records are signed) and the MTA-STS policy's mode and mx
/// patterns when one applies.
inline std::string pool_key(const route& r, const route_options& ropts,
                            const session_options& options, const domain_security& sec) {
  std::vector<std::string> names;
  for (const auto& h : r.hosts) names.push_back(h.name);
  std::sort(names.begin(), names.end());
  std::string key;
  for (const auto& n : names) key += n + ",";
  key += "|" + (ropts.source_address ? ropts.source_address->to_string() : std::string()) + "|" +
         std::to_string(static_cast<int>(options.tls)) + "|" + std::to_string(ropts.port) + "|";
  key += sec.level ? std::string(to_string(*sec.level)) : std::string("-");
  if (sec.level == tls_level::secure) key += ":" + r.domain;
  if (sec.level == tls_level::dane || sec.level == tls_level::dane_only)
    key += r.security == dns_security::secure ? ":signed" : ":unsigned";  // DANE applies?
  key += "|";
  if (sec.sts) {
    std::vector<std::string> mx = sec.sts->mx;
    std::sort(mx.begin(), mx.end());
    key += std::string(to_string(sec.sts->mode)) + ":";
    for (const auto& p : mx) key += p + ",";
  } else {
    key += "-";
  }
  return key;
}

/// A reused connection broke before any reply decided a recipient (a 421 or a close as the
/// next delivery began): nothing was accepted and no final "." went out, so the messages
/// may go again on a fresh connection.
inline bool broke_before_deciding(const session_result& r) {
  if (!r.error) return false;
  for (const auto& m : r.messages) {
    if (m.error) return false;
    for (const auto& rr : m.recipients)
      if (rr.status != delivery_status::transient || (rr.code != 0 && rr.code != 421)) return false;
  }
  return true;
}

/// Copies a batch's (stamped) results into `out` from message `first` on.
inline void take_batch_results(session_result& out, std::size_t first, session_result& batch) {
  for (std::size_t i = 0; i < batch.messages.size() && first + i < out.messages.size(); ++i)
    out.messages[first + i] = std::move(batch.messages[i]);
  out.transactions += batch.transactions;
  if (batch.error && !out.error) {
    out.error = batch.error;
    out.error_state = batch.error_state;
    out.error_stage = batch.error_stage;
    out.error_text = batch.error_text;
  }
  if (out.greeting.empty()) {
    out.greeting = batch.greeting;
    out.esmtp = batch.esmtp;
    out.pipelining = batch.pipelining;
    out.tls = batch.tls;
    out.tls_fallback_reason = batch.tls_fallback_reason;
    out.authenticated = batch.authenticated;
  }
}

/// `deliver_domain` through `ropts.pool`: the domain's messages go over pooled connections
/// of its destination (a reused one when one is idle and alive, else a new one opened by
/// `try_hosts`, with the same per-host decisions as without a pool), in batches of at most
/// the pool's messages per connection.
template <class Pipeline>
asio::awaitable<void> deliver_domain_pooled(dns_resolver& resolver, const Pipeline& pipeline,
                                            const domain_group& g, session_options options,
                                            route_options ropts, domain_result& d) {
  connection_pool& pool = *ropts.pool;
  const std::optional<domain_security> started = co_await start_domain(resolver, g, ropts, d);
  if (!started) co_return;
  const domain_security& sec = *started;
  const std::string key = pool_key(d.route, ropts, options, sec);
  const std::span<const message> all(g.messages);
  session_result merged;
  merged.messages.resize(all.size());
  for (std::size_t i = 0; i < all.size(); ++i)
    for (const auto& r : all[i].recipients) {
      recipient_result rr;
      rr.address = r.address;
      rr.error = make_error_code(errc::not_attempted);
      rr.text = rr.error.message();
      merged.messages[i].recipients.push_back(std::move(rr));
    }
  std::size_t done = 0, decided_batches = 0;
  std::size_t fresh_tries = 0;  // reused connections found broken: bounded
  bool failed = false;
  host_loop_state st;
  while (done < all.size() && !failed) {
    pool_lease lease = co_await pool.acquire(key);
    const std::size_t count =
        std::min(all.size() - done, std::max<std::size_t>(1, pool.room(lease)));
    const std::span<const message> batch = all.subspan(done, count);
    if (lease.reused()) {
      const std::string host = lease.host(), address = lease.address();
      const std::string auth = lease.connection->authentication,
                        tls_auth = lease.connection->tls_auth;
      route_note(ropts, g.domain, "reusing the connection to " + host + " [" + address + "]");
      session_result r = co_await pool.run(lease, batch);
      pool.release(lease);
      if (broke_before_deciding(r) && ++fresh_tries <= 3) {
        route_note(ropts, g.domain,
                   host + " [" + address + "]: reused connection lost (" + r.error.message() +
                       "), again on another");
        continue;
      }
      st.had_session = true;
      d.host = host;
      d.address = address;
      d.authentication = auth;
      d.tried.push_back({host, address, r.error, "reused connection", true});
      stamp_results(r, host, address, tls_auth);
      take_batch_results(merged, done, r);
      done += count;
      ++decided_batches;
      continue;
    }
    // A new connection: the route's hosts and addresses in turn, as without a pool.
    session_result got;
    const bool decided =
        co_await try_hosts(resolver, g, options, ropts, sec, d, st, got,
                           pooled_sessions<Pipeline>{&pool, &lease, &pipeline, batch});
    if (decided && lease.connection) {
      // What a reused connection's recipients are told of it.
      lease.connection->authentication = d.authentication;
      lease.connection->tls_auth = got.tls.active ? d.authentication : "";
    }
    if (!decided) pool.discard(lease);
    pool.release(lease);
    if (!got.messages.empty()) {
      take_batch_results(merged, done, got);  // the deciding (or last) session's answers
      done += count;
    }
    if (decided) ++decided_batches;
    else failed = true;
  }
  if (failed) {
    // No host took the rest: those recipients are transient, with the reason.
    const std::string text = "no MX host of " + g.domain + " could be reached" +
                             (st.last_error ? ": " + st.last_error.message() : std::string());
    for (std::size_t i = done; i < merged.messages.size(); ++i)
      for (auto& rr : merged.messages[i].recipients) {
        rr.status = delivery_status::transient;
        rr.error = make_error_code(errc::all_hosts_failed);
        rr.enhanced = {4, 4, 1};
        rr.text = text;
        rr.state = "routing";
        classify_recipient(rr, options.bounce_classifier ? *options.bounce_classifier
                                                         : bounce_classifier::builtin());
      }
    if (decided_batches == 0) {
      d.error = make_error_code(errc::all_hosts_failed);
      if (!st.had_session) {
        no_host_reached(d, g, st);
        co_return;  // the route failure decides them all
      }
    }
  }
  d.session = std::move(merged);
}

/// Delivers the domains of `groups` from `next` on, one after another, until none is left:
/// through `ropts.pool` when there is one.
template <class Pipeline>
asio::awaitable<void> domain_worker(dns_resolver& resolver, const Pipeline& pipeline,
                                    const std::vector<domain_group>& groups,
                                    std::vector<domain_result>& results, std::size_t& next,
                                    const session_options& options, const route_options& ropts) {
  while (next < groups.size()) {
    const std::size_t i = next++;
    if (ropts.pool)
      co_await deliver_domain_pooled(resolver, pipeline, groups[i], options, ropts, results[i]);
    else co_await deliver_domain(resolver, pipeline, groups[i], options, ropts, results[i]);
  }
}

template <class Pipeline>
asio::awaitable<routed_result> deliver_routed_impl(dns_resolver& resolver, const Pipeline& pipeline,
                                                   std::span<const message> messages,
                                                   session_options options, route_options ropts) {
  routed_result out;
  out.messages.resize(messages.size());
  for (std::size_t m = 0; m < messages.size(); ++m) {
    for (const auto& r : messages[m].recipients) {
      recipient_result rr;
      rr.address = r.address;
      rr.status = delivery_status::transient;
      rr.error = make_error_code(errc::not_attempted);
      if (recipient_domain(r.address).empty()) {
        rr.status = delivery_status::permanent;
        rr.error = make_error_code(errc::invalid_address);
        rr.text = "no domain to route to";
        rr.state = "routing";
        classify_recipient(rr, options.bounce_classifier ? *options.bounce_classifier
                                                         : bounce_classifier::builtin());
      }
      out.messages[m].recipients.push_back(std::move(rr));
    }
  }
  const std::vector<domain_group> groups =
      group_by_domain(messages, ropts.tls_level.has_value() || !ropts.tls_levels.empty() ||
                                    ropts.mta_sts != nullptr);
  std::vector<domain_result> results(groups.size());
  std::size_t next = 0;
  const std::size_t workers =
      std::min(groups.size(), std::max<std::size_t>(1, ropts.parallel_domains));
  if (workers <= 1) {
    co_await domain_worker(resolver, pipeline, groups, results, next, options, ropts);
  } else {
    // Each worker takes the next domain until none is left; this coroutine waits for all of
    // them (they use its frame), passing a cancellation on to each.
    auto executor = co_await asio::this_coro::executor;
    std::size_t running = workers;
    std::exception_ptr failure;
    asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
    std::vector<asio::cancellation_signal> signals(workers);
    for (std::size_t w = 0; w < workers; ++w) {
      asio::co_spawn(executor,
                     domain_worker(resolver, pipeline, groups, results, next, options, ropts),
                     asio::bind_cancellation_slot(signals[w].slot(), [&](std::exception_ptr e) {
                       if (e && !failure) failure = e;
                       if (--running == 0) all_done.cancel();
                     }));
    }
    co_await asio::this_coro::throw_if_cancelled(false);
    while (running > 0) {
      auto [ec] = co_await all_done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      if (running > 0 && ec == asio::error::operation_aborted) {
        for (auto& signal : signals) signal.emit(asio::cancellation_type::terminal);
        co_await asio::this_coro::reset_cancellation_state();
      }
    }
    if (failure) std::rethrow_exception(failure);
  }
  for (std::size_t i = 0; i < groups.size(); ++i) {
    domain_result& d = results[i];
    if (d.route.error || (d.error && d.session.messages.empty()))
      route_failure_results(out, groups[i], d, options);
    else session_results(out, groups[i], d);
    out.domains.push_back(std::move(d));
  }
  co_return out;
}

}  // namespace detail

/// Delivers `messages` to their recipients' domains: each domain's MX hosts in order of
/// preference (RFC 5321 §5.1), each host's addresses in turn, the next one when a host cannot
/// be reached, greets with 4xx/421 (or 5xx), or fails TLS that the policy requires; a reply
/// to MAIL, RCPT or DATA is final. Recipients of one domain share one session (and
/// transactions); domains are delivered one after the other, or `routing.parallel_domains` at
/// once. Null MX and NXDOMAIN fail
/// permanently without any connection; DNS failures and timeouts transiently.
///
/// `resolver`, `pipeline` and `messages` must outlive the operation. An empty
/// `options.tls_server_name` becomes each MX host's name; opportunistic TLS falls back to a fresh
/// plaintext connection to the same address, as `deliver` does.
template <class Pipeline>
asio::awaitable<routed_result> deliver_routed(dns_resolver& resolver, const Pipeline& pipeline,
                                              std::span<const message> messages,
                                              session_options options = {},
                                              route_options routing = {}) {
  return detail::deliver_routed_impl(resolver, pipeline, messages, std::move(options),
                                     std::move(routing));
}

/// Asio initiating function for `deliver_routed`: completes with
/// `void(std::error_code, routed_result)`; the error is set only when the operation itself
/// failed (cancellation, an exception), per-recipient outcomes are in the result.
template <class Pipeline, class CompletionToken>
auto async_deliver_routed(dns_resolver& resolver, const Pipeline& pipeline,
                          std::span<const message> messages, session_options options,
                          route_options routing, CompletionToken&& token) {
  return detail::async_run(resolver.get_executor(),
                           detail::deliver_routed_impl(resolver, pipeline, messages,
                                                       std::move(options), std::move(routing)),
                           std::forward<CompletionToken>(token));
}

}  // namespace smtpipe

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_ROUTING_DELIVER_ROUTED_HPP
