// smtpipe/routing/dns_resolver.hpp - Asynchronous DNS lookups on libunbound, driven by Asio.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_DNS_RESOLVER_HPP
#define SMTPIPE_ROUTING_DNS_RESOLVER_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/routing/default_trust_anchor.hpp"
#include "smtpipe/routing/dns_answer.hpp"
#include "smtpipe/routing/dns_type.hpp"
#include "smtpipe/routing/resolver_options.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <unbound.h>

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

namespace detail {

/// "IP", "IP@PORT", "IP:PORT" (one colon), "[IPv6]:PORT" or "[IPv6]" as libunbound's "IP@PORT".
inline std::string unbound_forwarder(std::string_view spec) {
  if (spec.find('@') != std::string_view::npos) return std::string(spec);
  if (!spec.empty() && spec.front() == '[') {
    const auto close = spec.find(']');
    if (close == std::string_view::npos) return std::string(spec);
    std::string out(spec.substr(1, close - 1));
    const auto rest = spec.substr(close + 1);
    if (rest.size() > 1 && rest.front() == ':') out += "@" + std::string(rest.substr(1));
    return out;
  }
  const auto colon = spec.find(':');
  if (colon != std::string_view::npos && spec.find(':', colon + 1) == std::string_view::npos)
    return std::string(spec.substr(0, colon)) + "@" + std::string(spec.substr(colon + 1));
  return std::string(spec);
}

class dns_core;

// One lookup in flight: filled by libunbound's callback (inside ub_process), which then
// wakes the waiting coroutine by cancelling `wake`.
struct dns_pending {
  explicit dns_pending(const asio::any_io_executor& ex, dns_core* c) : wake(ex), core(c) {}
  asio::steady_timer wake;
  dns_core* core;
  bool done = false;
  int error = 0;  // libunbound's error code (UB_*), 0 when an answer came
  dns_answer answer;
};

// The libunbound context and the descriptor it signals answers on. Shared by the resolver
// and every lookup in flight, so it outlives whichever ends last.
class dns_core : public std::enable_shared_from_this<dns_core> {
 public:
  dns_core(asio::any_io_executor ex, const resolver_options& options)
      : descriptor_(ex), timeout_(options.timeout) {
    ctx_ = ub_ctx_create();
    if (!ctx_) {
      setup_ = make_error_code(errc::resolver_setup);
      setup_text_ = "ub_ctx_create failed";
      return;
    }
    // One background thread per context (not one per query) does the network work; answers
    // come back through ub_fd(), watched by Asio.
    check(ub_ctx_async(ctx_, 1), "ub_ctx_async");
    check(ub_ctx_set_option(ctx_, "do-not-query-localhost:", "no"), "do-not-query-localhost");
    // libunbound answers names under "test." (RFC 6761) NXDOMAIN by itself; ask the server
    // instead, so that test zones (ours included) can be served.
    check(ub_ctx_set_option(ctx_, "local-zone:", "test. transparent"), "local-zone test.");
    if (!options.forwarder.empty()) {
      const std::string fwd = unbound_forwarder(options.forwarder);
      check(ub_ctx_set_fwd(ctx_, fwd.c_str()), "forwarder " + fwd);
    } else {
      check(ub_ctx_resolvconf(ctx_,
                              options.resolv_conf.empty() ? nullptr : options.resolv_conf.c_str()),
            "resolv.conf");
    }
    const bool system_anchor = options.dnssec && options.trust_anchor_file.empty();
    const std::string anchor = !options.dnssec ? std::string()
                               : system_anchor ? default_trust_anchor_file()
                                               : options.trust_anchor_file;
    if (!anchor.empty()) {
      // "test." (RFC 6761) is not in the public DNS: under the real root key its names are
      // unsigned, not bogus (an anchor given for a test zone of its own overrides this).
      if (system_anchor)
        check(ub_ctx_set_option(ctx_, "domain-insecure:", "test."), "domain-insecure test.");
      check(ub_ctx_add_ta_file(ctx_, anchor.c_str()), "trust anchor " + anchor);
    }
    if (setup_) return;
    std::error_code ec;
    descriptor_.assign(ub_fd(ctx_), ec);
    if (ec) {
      setup_ = ec;
      setup_text_ = "ub_fd: " + ec.message();
    }
  }

  dns_core(const dns_core&) = delete;
  dns_core& operator=(const dns_core&) = delete;

  ~dns_core() {
    if (descriptor_.is_open()) descriptor_.release();  // libunbound owns the descriptor
    if (ctx_) ub_ctx_delete(ctx_);
  }

  const std::error_code& setup_error() const noexcept { return setup_; }
  const std::string& setup_text() const noexcept { return setup_text_; }

  // Static, with the core as a shared_ptr argument: the coroutine keeps it alive from its
  // creation on, even when the resolver goes first.
  static asio::awaitable<std::pair<std::error_code, dns_answer>> query(
      std::shared_ptr<dns_core> self, std::string name, int type) {
    return self->run_query(self, std::move(name), type);
  }

 private:
  asio::awaitable<std::pair<std::error_code, dns_answer>> run_query(std::shared_ptr<dns_core>,
                                                                    std::string name, int type) {
    using asio::experimental::as_tuple;
    if (setup_) co_return std::pair{setup_, dns_answer{}};
    dns_pending pending(descriptor_.get_executor(), this);
    pending.wake.expires_after(timeout_);
    int id = 0;
    ++outstanding_;
    const int rc =
        ub_resolve_async(ctx_, name.c_str(), type, 1 /* IN */, &pending, &dns_core::answered, &id);
    if (rc != 0) {
      if (!pending.done) finished();
      co_return std::pair{make_error_code(errc::dns_failure), dns_answer{}};
    }
    pump();
    std::error_code waited;
    if (!pending.done)
      std::tie(waited) = co_await pending.wake.async_wait(as_tuple(asio::use_awaitable));
    if (!pending.done) {
      // Timed out or cancelled: libunbound must forget the query (and `pending`) now.
      ub_cancel(ctx_, id);
      finished();
      co_return std::pair{waited == asio::error::operation_aborted
                              ? std::error_code(asio::error::operation_aborted)
                              : make_error_code(errc::dns_timeout),
                          dns_answer{}};
    }
    if (pending.error != 0) co_return std::pair{make_error_code(errc::dns_failure), dns_answer{}};
    co_return std::pair{std::error_code{}, std::move(pending.answer)};
  }

  void check(int rc, const std::string& what) {
    if (rc == 0 || setup_) return;
    setup_ = make_error_code(errc::resolver_setup);
    setup_text_ = what + ": " + ub_strerror(rc);
  }

  void finished() {
    if (--outstanding_ == 0) descriptor_.cancel();  // the pump stops waiting
  }

  static void answered(void* arg, int err, ub_result* result) {
    auto* p = static_cast<dns_pending*>(arg);
    p->done = true;
    p->error = err;
    if (result) {
      dns_answer& a = p->answer;
      a.name = result->qname ? result->qname : "";
      a.type = result->qtype;
      a.canonical_name = result->canonname ? result->canonname : "";
      a.rcode = result->rcode;
      a.nxdomain = result->nxdomain != 0;
      if (result->havedata)
        for (int i = 0; result->data[i]; ++i)
          a.records.emplace_back(result->data[i], static_cast<std::size_t>(result->len[i]));
      a.ttl = result->ttl > 0 ? static_cast<std::uint32_t>(result->ttl) : 0;
      a.security = result->bogus    ? dns_security::bogus
                   : result->secure ? dns_security::secure
                                    : dns_security::insecure;
      if (result->why_bogus) a.why_bogus = result->why_bogus;
      ub_resolve_free(result);
    }
    p->core->finished();
    p->wake.cancel();
  }

  // Waits for the descriptor while lookups are in flight and lets libunbound run their
  // callbacks. Asio's reactor reports edges: ub_poll catches answers that arrived before the
  // wait was registered.
  void pump() {
    if (pumping_) return;
    pumping_ = true;
    asio::co_spawn(descriptor_.get_executor(), pump_loop(shared_from_this()), asio::detached);
  }

  static asio::awaitable<void> pump_loop(std::shared_ptr<dns_core> self) {
    using asio::experimental::as_tuple;
    while (self->outstanding_ > 0) {
      if (ub_poll(self->ctx_)) {
        ub_process(self->ctx_);
        continue;
      }
      auto [ec] = co_await self->descriptor_.async_wait(asio::posix::descriptor_base::wait_read,
                                                        as_tuple(asio::use_awaitable));
      if (ec && ec != asio::error::operation_aborted) break;
      if (!ec) ub_process(self->ctx_);
    }
    self->pumping_ = false;
  }

  ub_ctx* ctx_ = nullptr;
  asio::posix::stream_descriptor descriptor_;
  std::chrono::milliseconds timeout_;
  std::size_t outstanding_ = 0;
  bool pumping_ = false;
  std::error_code setup_;
  std::string setup_text_;
};

}  // namespace detail

/// A DNS resolver: libunbound's validating resolver, its answers delivered through Asio (the
/// context's descriptor is watched with `async_wait`, then `ub_process` runs the callbacks;
/// one libunbound worker thread per resolver, none per query). Answers are cached by
/// libunbound within their TTL (negative answers too), for the life of the resolver.
///
/// Use it from one thread (an io_context run by one thread, or a strand). Lookups in flight
/// keep the libunbound context alive after the resolver is destroyed.
class dns_resolver {
 public:
  using executor_type = asio::any_io_executor;

  /// Configures libunbound; a configuration failure (a bad forwarder, an unreadable file) is
  /// `error()`, and every lookup then completes with it.
  dns_resolver(asio::any_io_executor executor, const resolver_options& options = {})
      : executor_(executor), core_(std::make_shared<detail::dns_core>(executor, options)) {}

  executor_type get_executor() const noexcept { return executor_; }

  /// `errc::resolver_setup` when the configuration failed; see `error_text()`.
  const std::error_code& error() const noexcept { return core_->setup_error(); }
  const std::string& error_text() const noexcept { return core_->setup_text(); }

  /// Asks for `type` records of `name` (class IN). The error is set only when no answer came
  /// (`errc::dns_timeout`, `errc::dns_failure`, `errc::resolver_setup`, cancellation);
  /// NXDOMAIN and SERVFAIL are answers: see `dns_answer::rcode`.
  asio::awaitable<std::pair<std::error_code, dns_answer>> query(std::string name, int type) {
    return detail::dns_core::query(core_, std::move(name), type);
  }
  asio::awaitable<std::pair<std::error_code, dns_answer>> query(std::string name, dns_type type) {
    return detail::dns_core::query(core_, std::move(name), static_cast<int>(type));
  }

  /// Asio initiating function for `query`: completes with `void(std::error_code, dns_answer)`.
  template <class CompletionToken>
  auto async_query(std::string name, dns_type type, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, dns_answer)>(
        [](auto handler, std::shared_ptr<detail::dns_core> core, asio::any_io_executor ex,
           std::string n, int t) {
          auto work = detail::dns_core::query(std::move(core), std::move(n), t);
          asio::co_spawn(
              ex, std::move(work),
              [h = std::move(handler), ex](std::exception_ptr failure,
                                           std::pair<std::error_code, dns_answer> outcome) mutable {
                std::error_code ec = outcome.first;
                if (failure) ec = make_error_code(errc::dns_failure);
                auto target = asio::get_associated_executor(h, ex);
                asio::dispatch(target,
                               [h = std::move(h), ec, a = std::move(outcome.second)]() mutable {
                                 std::move(h)(ec, std::move(a));
                               });
              });
        },
        token, core_, executor_, std::move(name), static_cast<int>(type));
  }

 private:
  asio::any_io_executor executor_;
  std::shared_ptr<detail::dns_core> core_;
};

}  // namespace smtpipe

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_ROUTING_DNS_RESOLVER_HPP
