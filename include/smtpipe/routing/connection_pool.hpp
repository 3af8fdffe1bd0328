// smtpipe/routing/connection_pool.hpp - SMTP connections kept open and reused across deliveries.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_CONNECTION_POOL_HPP
#define SMTPIPE_ROUTING_CONNECTION_POOL_HPP

#include "smtpipe/client/runner.hpp"
#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/routing/pool_options.hpp"
#include "smtpipe/routing/pool_stats.hpp"
#include "smtpipe/session/detail/session_control.hpp"
#include "smtpipe/session/session.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

class connection_pool;

namespace detail {

/// One pooled connection: the session running on it (a coroutine of the pool) and the
/// hand-over between that session and the delivery using it.
struct pooled_connection {
  explicit pooled_connection(const asio::any_io_executor& ex)
      : idle(ex, asio::steady_timer::time_point::max()),
        done(ex, asio::steady_timer::time_point::max()) {}

  enum class order { none, run, close };

  std::string key;             // its destination
  std::string host, address;   // the MX host and address it is connected to
  std::string authentication;  // how its server was authenticated (domain_result's words)
  std::string tls_auth;        // what its recipients are told (empty without TLS)
  asio::steady_timer idle;     // the held session waits here for an order or its idle timeout
  asio::steady_timer done;     // the delivery waits here for its result
  session* held = nullptr;     // the session, while it waits between deliveries
  std::span<const message> batch;
  session_result result;
  bool awaiting = false;  // a delivery waits for `result`
  bool has_result = false;
  order next = order::none;
  std::size_t messages = 0;  // messages given to this connection
  bool busy = true;          // a delivery holds it (else idle in the pool, or ended)
  bool counted = true;       // holds a place in the pool's limits
  bool ended = false;        // its session is over
};

}  // namespace detail

/// The right to use one place of a destination: an open connection (`reused()`) or the
/// permission to open one. Given by `connection_pool::acquire`, handed back with `release`.
struct pool_lease {
  std::string key;
  std::shared_ptr<detail::pooled_connection> connection;
  bool place = false;  // a place of the limits is held (with or without a connection)

  bool reused() const noexcept { return connection != nullptr; }
  /// The connection's MX host and address (empty without a connection).
  std::string host() const { return connection ? connection->host : std::string(); }
  std::string address() const { return connection ? connection->address : std::string(); }
};

/// Keeps SMTP sessions open between deliveries and shares them among deliveries to the same
/// destination (MX host set, source address, TLS mode, port, TLS level, MTA-STS mode): see
/// `route_options::pool`.
///
/// A session that has delivered its messages does not send QUIT: it waits in the pool, its
/// reader still watching the socket, for the next delivery to the same destination (which
/// then starts with MAIL, or with RSET when the last transaction was left unfinished), until
/// `pool_options::idle_timeout`, `max_messages_per_connection`, or `close()`, which end it
/// with QUIT. Before an idle connection is reused its socket is checked without sending a
/// command: a 421 sent while idle, or a close, makes it unusable, and a fresh connection is
/// used. Deliveries that find their destination (or the pool) at its limit wait in turn: first
/// come first served per destination, destinations served round-robin.
///
/// Not thread-safe: use one pool from one thread (or strand). `co_await close()` before the
/// pool is destroyed; pipelines given to `open` must outlive it.
class connection_pool {
 public:
  using executor_type = asio::any_io_executor;

  explicit connection_pool(executor_type executor, pool_options options = {})
      : executor_(std::move(executor)),
        options_(std::move(options)),
        all_ended_(executor_, asio::steady_timer::time_point::max()) {}
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  executor_type get_executor() const noexcept { return executor_; }
  const pool_options& options() const noexcept { return options_; }
  const pool_stats& stats() const noexcept { return stats_; }
  /// Connections open (busy or idle) and places being opened.
  std::size_t open_connections() const noexcept { return open_; }
  std::size_t idle_connections() const noexcept {
    std::size_t n = 0;
    for (const auto& [k, d] : destinations_) n += d.idle.size();
    return n;
  }

  /// Ends every idle session with QUIT, and every busy one with QUIT once its delivery
  /// releases it; completes when all have ended.
  asio::awaitable<void> close() {
    closing_ = true;
    for (auto& [k, d] : destinations_)
      while (!d.idle.empty()) retire(*d.idle.front());
    while (serving_ > 0) {
      all_ended_.expires_at(asio::steady_timer::time_point::max());
      co_await all_ended_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    }
  }

  // ---- The building blocks of routed delivery (deliver_routed uses them) ------------------

  /// Waits for a place of destination `key`: a live idle connection, or the right to open one.
  asio::awaitable<pool_lease> acquire(std::string key) {
    destination& d = destinations_[key];
    pool_lease lease;
    lease.key = key;
    if (d.waiters.empty() && try_grant(d, lease)) co_return lease;
    waiter w(executor_);
    d.waiters.push_back(&w);
    if (std::find(ring_.begin(), ring_.end(), key) == ring_.end()) ring_.push_back(key);
    while (!w.granted)
      co_await w.timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    co_return std::move(w.lease);
  }

  /// How many more messages the lease's connection (or a new one) may start.
  std::size_t room(const pool_lease& lease) const noexcept {
    const std::size_t limit = options_.max_messages_per_connection;
    if (!limit) return static_cast<std::size_t>(-1);
    const std::size_t used = lease.connection ? lease.connection->messages : 0;
    return used < limit ? limit - used : 0;
  }

  /// Starts a session on `socket` (connected by the caller to `host` at `address`) with
  /// `batch` as its first messages, keeps it in the lease, and returns the batch's result. If
  /// the session ended, the lease keeps its place without a connection (try another address).
  template <class Pipeline>
  asio::awaitable<session_result> open(pool_lease& lease, asio::ip::tcp::socket socket,
                                       const Pipeline& pipeline, std::span<const message> batch,
                                       session_options options, std::string host,
                                       std::string address) {
    auto c = std::make_shared<detail::pooled_connection>(executor_);
    c->key = lease.key;
    c->host = std::move(host);
    c->address = std::move(address);
    c->batch = batch;
    c->messages = batch.size();
    c->awaiting = true;
    lease.connection = c;
    ++stats_.connections_opened;
    ++serving_;
    auto table = detail::make_table(pipeline);
    asio::co_spawn(executor_, serve(c, std::move(socket), std::move(table), std::move(options)),
                   [this, c](std::exception_ptr failure) { ended(c, failure); });
    co_return co_await wait_result(lease);
  }

  /// Runs `batch` on the lease's (reused) connection and returns its result. When the
  /// connection ended during it, the lease keeps its place without a connection.
  asio::awaitable<session_result> run(pool_lease& lease, std::span<const message> batch) {
    detail::pooled_connection& c = *lease.connection;
    c.batch = batch;
    c.messages += batch.size();
    c.awaiting = true;
    c.next = detail::pooled_connection::order::run;
    c.idle.cancel();
    co_return co_await wait_result(lease);
  }

  /// Ends the lease's connection, if it has one (QUIT, or nothing when its session is over),
  /// and keeps the place in the lease for a new connection: a session that decided nothing.
  void discard(pool_lease& lease) {
    auto c = std::move(lease.connection);
    if (!c) return;
    c->counted = false;  // the place stays with the lease
    unlist(*c);
    if (!c->ended) {
      c->next = detail::pooled_connection::order::close;
      c->idle.cancel();
    }
  }

  /// Gives the lease back: its connection to the next delivery waiting for the destination,
  /// or idle in the pool, or closed with QUIT (message limit reached, the pool closing, a
  /// place needed by another destination); a place without a connection to whoever waits.
  void release(pool_lease& lease) {
    if (auto c = std::move(lease.connection)) {
      lease.place = false;
      c->busy = false;
      const std::size_t limit = options_.max_messages_per_connection;
      if (closing_ || !alive(*c) || (limit && c->messages >= limit)) {
        if (!c->ended && !closing_ && alive(*c)) ++stats_.retired;
        retire(*c);
        dispatch();
        return;
      }
      destination& d = destinations_[c->key];
      if (!d.waiters.empty()) {
        waiter* w = d.waiters.front();
        d.waiters.pop_front();
        c->busy = true;
        ++stats_.reuses;
        w->lease.key = c->key;
        w->lease.connection = std::move(c);
        w->lease.place = true;
        grant(*w);
        if (d.waiters.empty())
          ring_.erase(std::remove(ring_.begin(), ring_.end(), lease.key), ring_.end());
        return;
      }
      if (place_wanted_elsewhere(lease.key)) {
        ++stats_.retired;
        retire(*c);
        dispatch();
        return;
      }
      d.idle.push_back(std::move(c));
      return;
    }
    if (std::exchange(lease.place, false)) {
      uncount(lease.key);
      dispatch();
    }
  }

 private:
  struct waiter {
    explicit waiter(const executor_type& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    pool_lease lease;
    bool granted = false;
  };
  struct destination {
    std::deque<std::shared_ptr<detail::pooled_connection>> idle;  // oldest first
    std::deque<waiter*> waiters;                                  // first come, first served
    std::size_t open = 0;
  };
  /// The session's side: between two deliveries it waits here.
  struct hold {
    connection_pool* pool;
    detail::pooled_connection* c;
    asio::awaitable<bool> operator()(session& s) const { return pool->held(*c, s); }
  };

  template <class Table>
  asio::awaitable<void> serve(std::shared_ptr<detail::pooled_connection> c,
                              asio::ip::tcp::socket socket, Table table, session_options options) {
    detail::already_connected connected;
    session_result r =
        co_await detail::run_table(std::move(socket), std::move(table), c->batch,
                                   std::move(options), connected, hold{this, c.get()});
    if (c->awaiting) set_result(*c, std::move(r));
  }

  asio::awaitable<bool> held(detail::pooled_connection& c, session& s) {
    using order = detail::pooled_connection::order;
    set_result(c, detail::session_control::take_batch(s));
    c.held = &s;
    if (c.next == order::none) {
      c.idle.expires_after(options_.idle_timeout);
      co_await c.idle.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    }
    c.held = nullptr;
    const order o = std::exchange(c.next, order::none);
    if (o == order::run) {
      (void)detail::session_control::load(s, c.batch);
      co_return true;
    }
    if (o == order::none) {  // the idle timeout
      ++stats_.idle_timeouts;
      detail::session_control::note(s, "connection pool: idle timeout, closing");
      unlist(c);  // its place is free once the session has ended
    }
    co_return false;
  }

  void set_result(detail::pooled_connection& c, session_result r) {
    c.result = std::move(r);
    c.has_result = true;
    c.awaiting = false;
    c.done.cancel();
  }

  asio::awaitable<session_result> wait_result(pool_lease& lease) {
    auto c = lease.connection;
    while (!c->has_result) {
      c->done.expires_at(asio::steady_timer::time_point::max());
      co_await c->done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    }
    c->has_result = false;
    session_result r = std::move(c->result);
    if (c->ended || !alive(*c)) {
      // The session is over (or will be): the place stays with the lease.
      if (!c->ended) {
        c->next = detail::pooled_connection::order::close;
        c->idle.cancel();
      }
      c->counted = false;
      lease.connection.reset();
    }
    co_return r;
  }

  void ended(const std::shared_ptr<detail::pooled_connection>& c, std::exception_ptr failure) {
    c->ended = true;
    c->held = nullptr;
    if (c->awaiting) {
      session_result r;
      r.error = make_error_code(errc::state_failed);
      if (failure) {
        try {
          std::rethrow_exception(failure);
        } catch (const std::system_error& e) {
          r.error = e.code();
        } catch (...) {}
      }
      set_result(*c, std::move(r));
    }
    if (!c->busy) {
      retire(*c);
      dispatch();
    }
    if (--serving_ == 0) all_ended_.cancel();
  }

  /// Usable for another delivery: its session waits, nothing arrived on the socket since,
  /// and the peer has not closed it. Looked at without sending anything.
  bool alive(detail::pooled_connection& c) const {
    if (c.ended || !c.held || !c.held->usable()) return false;
    if (!options_.liveness_check) return true;
    auto& socket = c.held->io().socket();
    if (!socket.is_open()) return false;
    std::error_code ec;
    if (socket.available(ec) > 0 || ec) return false;
    char byte = 0;
    const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return false;  // closed by the peer
    if (n > 0) return false;   // a reply nobody asked for: a 421 on idle
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }

  /// Takes a connection out of the pool: its session is told to QUIT, and its place is free
  /// once the session has ended (the server then no longer counts it either).
  void retire(detail::pooled_connection& c) {
    unlist(c);
    if (!c.ended && c.held) {
      c.next = detail::pooled_connection::order::close;
      c.idle.cancel();
      return;  // `ended` frees the place
    }
    if (std::exchange(c.counted, false)) uncount(c.key);
  }
  void unlist(detail::pooled_connection& c) {
    auto found = destinations_.find(c.key);
    if (found == destinations_.end()) return;
    auto& idle = found->second.idle;
    idle.erase(
        std::remove_if(idle.begin(), idle.end(), [&](const auto& p) { return p.get() == &c; }),
        idle.end());
  }
  void uncount(const std::string& key) {
    auto& d = destinations_[key];
    if (d.open) --d.open;
    if (open_) --open_;
  }

  bool try_grant(destination& d, pool_lease& lease) {
    while (!d.idle.empty()) {
      auto c = d.idle.front();
      d.idle.pop_front();
      if (alive(*c)) {
        c->busy = true;
        ++stats_.reuses;
        lease.connection = std::move(c);
        lease.place = true;
        return true;
      }
      ++stats_.dead_on_reuse;
      retire(*c);
    }
    if (closing_ || d.open >= std::max<std::size_t>(1, options_.max_per_destination)) return false;
    if (open_ >= std::max<std::size_t>(1, options_.max_connections)) {
      evict_idle();  // its place is free (and this delivery served) once it has ended
      return false;
    }
    ++d.open;
    ++open_;
    stats_.peak_open = std::max(stats_.peak_open, open_);
    lease.place = true;
    return true;
  }
  /// Closes an idle connection (the first destination's oldest) to free a place.
  bool evict_idle() {
    detail::pooled_connection* oldest = nullptr;
    for (auto& [k, d] : destinations_)
      if (!d.idle.empty() && !oldest) oldest = d.idle.front().get();
    if (!oldest) return false;
    ++stats_.retired;
    retire(*oldest);
    return true;
  }
  bool place_wanted_elsewhere(const std::string& key) const {
    if (open_ < std::max<std::size_t>(1, options_.max_connections)) return false;
    for (const auto& k : ring_) {
      if (k == key) continue;
      auto d = destinations_.find(k);
      if (d != destinations_.end() && !d->second.waiters.empty() &&
          d->second.open < std::max<std::size_t>(1, options_.max_per_destination))
        return true;
    }
    return false;
  }
  void grant(waiter& w) {
    w.granted = true;
    w.timer.cancel();
  }
  /// Gives free places to waiting deliveries, one destination after another.
  void dispatch() {
    std::size_t refused = 0;
    while (!ring_.empty() && refused < ring_.size()) {
      std::string key = std::move(ring_.front());
      ring_.pop_front();
      destination& d = destinations_[key];
      if (d.waiters.empty()) continue;
      pool_lease lease;
      lease.key = key;
      if (try_grant(d, lease)) {
        waiter* w = d.waiters.front();
        d.waiters.pop_front();
        w->lease = std::move(lease);
        grant(*w);
        refused = 0;
      } else {
        ++refused;
      }
      if (!d.waiters.empty()) ring_.push_back(std::move(key));
    }
  }

  executor_type executor_;
  pool_options options_;
  pool_stats stats_;
  std::map<std::string, destination> destinations_;
  std::deque<std::string> ring_;  // destinations with waiting deliveries, in turn
  std::size_t open_ = 0;
  std::size_t serving_ = 0;  // session coroutines running
  bool closing_ = false;
  asio::steady_timer all_ended_;
};

}  // namespace smtpipe

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_ROUTING_CONNECTION_POOL_HPP
