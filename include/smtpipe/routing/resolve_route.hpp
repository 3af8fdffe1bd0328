// smtpipe/routing/resolve_route.hpp - MX resolution of one domain (RFC 5321 §5.1, RFC 7505).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_RESOLVE_ROUTE_HPP
#define SMTPIPE_ROUTING_RESOLVE_ROUTE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/routing/dns_resolver.hpp"
#include "smtpipe/routing/mx_record.hpp"
#include "smtpipe/routing/route.hpp"
#include "smtpipe/routing/route_options.hpp"

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/ip/address.hpp>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

namespace detail {

inline std::string dns_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  while (out.size() > 1 && out.back() == '.') out.pop_back();
  return out;
}

/// The address of an RFC 5321 address literal, "[192.0.2.1]" or "[IPv6:2001:db8::1]".
inline std::optional<asio::ip::address> address_literal(std::string_view domain) {
  if (domain.size() < 3 || domain.front() != '[' || domain.back() != ']') return std::nullopt;
  std::string inner(domain.substr(1, domain.size() - 2));
  const bool v6 = inner.size() > 5 && dns_lower(inner.substr(0, 5)) == "ipv6:";
  if (v6) inner.erase(0, 5);
  std::error_code ec;
  const auto a = asio::ip::make_address(inner, ec);
  if (ec || a.is_v6() != v6) return std::nullopt;
  return a;
}

inline void route_note(const route_options& o, std::string_view domain, const std::string& text) {
  if (o.observer) o.observer->note(domain, text);
}

/// The addresses of one host, in the order `family` asks for.
struct address_lookup {
  std::vector<asio::ip::address> addresses;
  std::error_code error;  ///< Set when a lookup failed (transient): timeout, SERVFAIL, bogus.
  bool nxdomain = false;  ///< The host name does not exist.
  std::string cname;      ///< The canonical name when the host is an alias.
  dns_security security = dns_security::secure;
};

inline asio::awaitable<address_lookup> lookup_addresses(dns_resolver& resolver, std::string host,
                                                        address_preference family) {
  address_lookup out;
  std::vector<dns_type> types;
  switch (family) {
    case address_preference::ipv6_first: types = {dns_type::aaaa, dns_type::a}; break;
    case address_preference::ipv4_first: types = {dns_type::a, dns_type::aaaa}; break;
    case address_preference::ipv4_only: types = {dns_type::a}; break;
    case address_preference::ipv6_only: types = {dns_type::aaaa}; break;
  }
  std::size_t nx = 0;
  for (const dns_type t : types) {
    std::pair<std::error_code, dns_answer> outcome = co_await resolver.query(host, t);
    const std::error_code ec = outcome.first;
    dns_answer& answer = outcome.second;
    if (ec) {
      out.error = ec;
      continue;
    }
    if (answer.security == dns_security::bogus) {
      out.error = make_error_code(errc::dns_bogus);
      continue;
    }
    if (answer.security == dns_security::insecure) out.security = dns_security::insecure;
    if (answer.nxdomain) {
      ++nx;
      continue;
    }
    if (answer.rcode != 0) {
      out.error = make_error_code(errc::dns_failure);
      continue;
    }
    const std::string canon = dns_lower(answer.canonical_name);
    if (!canon.empty() && canon != dns_lower(host)) out.cname = canon;
    for (const auto& r : answer.records) {
      if (t == dns_type::a && r.size() == 4) {
        asio::ip::address_v4::bytes_type b;
        std::copy(r.begin(), r.end(), b.begin());
        out.addresses.emplace_back(asio::ip::address_v4(b));
      } else if (t == dns_type::aaaa && r.size() == 16) {
        asio::ip::address_v6::bytes_type b;
        std::copy(r.begin(), r.end(), b.begin());
        out.addresses.emplace_back(asio::ip::address_v6(b));
      }
    }
  }
  out.nxdomain = nx == types.size();
  co_return out;
}

inline std::mt19937& route_random() {
  thread_local std::mt19937 engine{std::random_device{}()};
  return engine;
}

inline void route_failed(route& r, errc e, bool permanent, int subject, int detail,
                         std::string text) {
  r.error = make_error_code(e);
  r.permanent = permanent;
  r.status.cls = permanent ? 5 : 4;
  r.status.subject = static_cast<std::uint16_t>(subject);
  r.status.detail = static_cast<std::uint16_t>(detail);
  r.text = std::move(text);
  r.hosts.clear();
}

/// Looks up each host's addresses; hosts without any go to `skipped`.
inline asio::awaitable<void> fill_addresses(dns_resolver& resolver, route& r,
                                            std::vector<mx_host> candidates,
                                            const route_options& o) {
  for (auto& host : candidates) {
    if (!host.addresses.empty()) {
      r.hosts.push_back(std::move(host));
      continue;
    }
    std::error_code literal_ec;
    (void)asio::ip::make_address(host.name, literal_ec);
    if (!literal_ec && !host.implicit) {
      // RFC 5321 §5.1: an MX names a host, never an address; such a record is not used.
      r.skipped.push_back({host.name,
                           {},
                           make_error_code(errc::invalid_domain),
                           "MX target is an address literal (RFC 5321 §5.1): not used",
                           false});
      route_note(o, r.domain, "skipping MX " + host.name + ": an address, not a host name");
      continue;
    }
    auto found = co_await lookup_addresses(resolver, host.name, o.family);
    if (!found.cname.empty())
      route_note(o, r.domain,
                 "MX " + host.name + " is an alias of " + found.cname +
                     " (RFC 2181 §10.3 says it should not be); its addresses are used");
    host.addresses = std::move(found.addresses);
    host.security = found.security;
    host.canonical_name = found.cname;
    if (host.addresses.empty()) {
      const std::string why = found.error      ? "address lookup failed: " + found.error.message()
                              : found.nxdomain ? "host name does not exist"
                                               : "host has no address";
      r.skipped.push_back({host.name,
                           {},
                           found.error ? found.error : make_error_code(errc::no_mx_address),
                           why,
                           false});
      route_note(o, r.domain, "skipping " + host.name + ": " + why);
      continue;
    }
    r.hosts.push_back(std::move(host));
  }
}

inline asio::awaitable<route> resolve_route_impl(dns_resolver& resolver, std::string domain,
                                                 route_options o) {
  route r;
  r.domain = domain;
  if (auto literal = address_literal(domain)) {
    mx_host h;
    h.name = domain;
    h.addresses.push_back(*literal);
    r.hosts.push_back(std::move(h));
    route_note(o, domain, "address literal: delivering to " + literal->to_string());
    co_return r;
  }
  if (!o.relay_host.empty()) {
    mx_host h;
    h.name = o.relay_host;
    h.implicit = true;
    std::error_code ec;
    const auto a = asio::ip::make_address(o.relay_host, ec);
    if (!ec) h.addresses.push_back(a);
    std::vector<mx_host> relay;
    relay.push_back(std::move(h));
    co_await fill_addresses(resolver, r, std::move(relay), o);
    if (r.hosts.empty())
      route_failed(r, errc::no_mx_address, false, 4, 3,
                   "relay host " + o.relay_host + " has no address");
    co_return r;
  }

  std::pair<std::error_code, dns_answer> outcome = co_await resolver.query(domain, dns_type::mx);
  const std::error_code ec = outcome.first;
  dns_answer& answer = outcome.second;
  r.security = answer.security;
  if (ec) {
    route_failed(r,
                 ec == errc::resolver_setup ? errc::resolver_setup
                 : ec == errc::dns_timeout  ? errc::dns_timeout
                                            : errc::dns_failure,
                 false, 4, 3, "MX lookup for " + domain + ": " + ec.message());
    if (ec == asio::error::operation_aborted) r.error = ec;
    route_note(o, domain, r.text);
    co_return r;
  }
  if (answer.security == dns_security::bogus) {
    route_failed(r, errc::dns_bogus, false, 7, 5,
                 "MX lookup for " + domain + ": DNSSEC bogus: " + answer.why_bogus);
  } else if (answer.nxdomain) {
    route_failed(r, errc::domain_not_found, true, 1, 2,
                 "domain " + domain + " does not exist (NXDOMAIN)");
  } else if (answer.rcode != 0) {
    route_failed(
        r, errc::dns_failure, false, 4, 3,
        "MX lookup for " + domain + " failed (rcode " + std::to_string(answer.rcode) + ")");
  }
  if (r.error) {
    route_note(o, domain, r.text);
    co_return r;
  }

  std::vector<mx_host> candidates;
  if (!answer.has_data()) {
    // RFC 5321 §5.1: no MX record, the domain itself is the one host, preference 0.
    r.implicit = true;
    mx_host h;
    h.name = dns_lower(domain);
    h.implicit = true;
    route_note(o, domain, "no MX record: implicit MX " + h.name);
    candidates.push_back(std::move(h));
  } else {
    std::vector<mx_record> records;
    for (const auto& rdata : answer.records)
      if (auto mx = parse_mx_record(rdata)) records.push_back(std::move(*mx));
    if (std::any_of(records.begin(), records.end(), [](const auto& m) { return m.null(); })) {
      route_failed(r, errc::null_mx, true, 1, 10,
                   "domain " + domain + " accepts no mail (null MX, RFC 7505)");
      route_note(o, domain, r.text);
      co_return r;
    }
    // Lower preference first; equal preferences in random order (RFC 5321 §5.1).
    std::shuffle(records.begin(), records.end(), route_random());
    std::stable_sort(records.begin(), records.end(),
                     [](const auto& a, const auto& b) { return a.preference < b.preference; });
    std::string list;
    for (auto& m : records) {
      list += (list.empty() ? "" : ", ") + m.exchange + " (" + std::to_string(m.preference) + ")";
      mx_host h;
      h.name = std::move(m.exchange);
      h.preference = m.preference;
      candidates.push_back(std::move(h));
    }
    if (candidates.empty()) {
      route_failed(r, errc::dns_failure, false, 4, 3, "malformed MX records for " + domain);
      route_note(o, domain, r.text);
      co_return r;
    }
    route_note(o, domain, "MX hosts in order: " + list);
  }
  if (!o.local_names.empty()) {
    // RFC 5321 §5.1: when this host is an MX of the domain, only more preferred hosts.
    const auto local = std::find_if(candidates.begin(), candidates.end(), [&](const mx_host& h) {
      return std::any_of(o.local_names.begin(), o.local_names.end(),
                         [&](const std::string& n) { return dns_lower(n) == h.name; });
    });
    if (local != candidates.end()) {
      const std::uint16_t limit = local->preference;
      route_note(o, domain,
                 local->name + " is this host: only MX hosts preferred to " +
                     std::to_string(limit) + " are used");
      candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                      [&](const mx_host& h) { return h.preference >= limit; }),
                       candidates.end());
      if (candidates.empty()) {
        route_failed(r, errc::mail_loop, true, 4, 6,
                     "mail for " + domain + " loops back to this host (its best MX)");
        route_note(o, domain, r.text);
        co_return r;
      }
    }
  }
  if (o.max_hosts > 0 && candidates.size() > o.max_hosts) candidates.resize(o.max_hosts);
  co_await fill_addresses(resolver, r, std::move(candidates), o);
  if (r.hosts.empty()) {
    // Permanent only when every lookup answered that there is no address (Postfix bounces
    // "Host not found" with 5.4.4); any failed lookup makes it transient.
    const bool definitive = std::none_of(r.skipped.begin(), r.skipped.end(), [](const auto& s) {
      return s.error != errc::no_mx_address && s.error != errc::invalid_domain;
    });
    route_failed(r, errc::no_mx_address, definitive, 4, 4,
                 "no MX host of " + domain + " has an address");
    route_note(o, domain, r.text);
  }
  co_return r;
}

}  // namespace detail

/// Resolves the route of `domain`: its MX hosts, sorted and shuffled, with their addresses
/// (RFC 5321 §5.1); an implicit MX when there is none; a permanent error for a null MX (RFC
/// 7505, 5.1.10) or NXDOMAIN (5.1.2); a transient one for SERVFAIL, a timeout or a bogus
/// answer. Decisions go to `options.observer`. `resolver` must outlive the operation.
inline asio::awaitable<route> resolve_route(dns_resolver& resolver, std::string domain,
                                            route_options options = {}) {
  return detail::resolve_route_impl(resolver, std::move(domain), std::move(options));
}

/// Asio initiating function for `resolve_route`: completes with `void(std::error_code, route)`,
/// the error being `route::error`.
template <class CompletionToken>
auto async_resolve_route(dns_resolver& resolver, std::string domain, route_options options,
                         CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(std::error_code, route)>(
      [](auto handler, dns_resolver* res, std::string d, route_options o) {
        auto ex = res->get_executor();
        asio::co_spawn(ex, detail::resolve_route_impl(*res, std::move(d), std::move(o)),
                       [h = std::move(handler), ex](std::exception_ptr failure, route r) mutable {
                         std::error_code ec =
                             failure ? make_error_code(errc::dns_failure) : r.error;
                         auto target = asio::get_associated_executor(h, ex);
                         asio::dispatch(target, [h = std::move(h), ec, r = std::move(r)]() mutable {
                           std::move(h)(ec, std::move(r));
                         });
                       });
      },
      token, &resolver, std::move(domain), std::move(options));
}

}  // namespace smtpipe

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_ROUTING_RESOLVE_ROUTE_HPP
