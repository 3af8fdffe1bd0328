// smtpipe/client/runner.hpp - Runs a flattened pipeline (static or runtime) over a session.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLIENT_RUNNER_HPP
#define SMTPIPE_CLIENT_RUNNER_HPP

#include "smtpipe/client/make_state.hpp"
#include "smtpipe/client/smtp_state.hpp"
#include "smtpipe/client/state_machine.hpp"
#include "smtpipe/config.hpp"
#include "smtpipe/pipeline/pipeline.hpp"
#include "smtpipe/pipeline/state.hpp"
#include "smtpipe/session/detail/session_control.hpp"
#include "smtpipe/session/session.hpp"
#include "smtpipe/states/builtin_states.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>

#include <array>
#include <exception>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

namespace detail {

// ---- static states ----------------------------------------------------------------------------

// A state type with data gets its closure on the coroutine frame of `run_static`, for the
// time the state runs. An empty one has nothing per connection: one shared instance serves
// every session (as `make_state` does), and its `run` coroutine is returned as is, so that a
// transition costs one coroutine frame, not two.
template <class S>
asio::awaitable<transition> run_static(session& s, const void*) {
  S closure = make_closure<S>(s);
  session_control::set_closure(s, &closure);
  co_return co_await closure.run(s);
}
template <class S>
asio::awaitable<transition> run_static_shared(session& s, const void*) {
  session_control::set_closure(s, &shared_instance<S>);
  return shared_instance<S>.run(s);
}
template <class S>
bool applies_static(const session& s, const void*) {
  return state_applies<S>(s);
}

template <class S>
constexpr state_entry static_entry(int id) {
  static_assert(check_state<S>::value);
  return {id,
          S::name,
          state_init_local_state<S>(),
          state_default_stage<S>(),
          has_applies<S> ? &applies_static<S> : nullptr,  // none: always entered
          shared_closure<S> ? &run_static_shared<S> : &run_static<S>,
          nullptr,  // the stage is `S::stage` until the state sets another
          &default_tostring,
          nullptr};
}

/// The dispatch table of a static pipeline: a constexpr array of entries in execution
/// order, each calling its state type directly (no virtual call, no type erasure).
template <class P>
struct static_table {
  template <class... B, class... C>
  static constexpr std::array<state_entry, P::size> entries_by_id(type_list<B...>,
                                                                  type_list<C...>) {
    int id = 0;
    return {static_entry<B>(id++)..., static_entry<C>(id++)...};
  }
  static constexpr std::array<state_entry, P::size> by_id =
      entries_by_id(states::builtin{}, typename P::custom_states{});
  static constexpr std::array<int, P::size> order = P::order();
  static constexpr std::array<int, P::size> positions = [] {
    std::array<int, P::size> p{};
    for (std::size_t i = 0; i < P::size; ++i)
      p[static_cast<std::size_t>(order[i])] = static_cast<int>(i);
    return p;
  }();

  static constexpr std::size_t size() noexcept { return P::size; }
  static constexpr const state_entry& at(std::size_t position) noexcept {
    return by_id[static_cast<std::size_t>(order[position])];
  }
  static constexpr int position_of(int id) noexcept {
    return id >= 0 && static_cast<std::size_t>(id) < P::size
               ? positions[static_cast<std::size_t>(id)]
               : -1;
  }
  static constexpr std::array<std::string_view, P::size> names_by_id = [] {
    std::array<std::string_view, P::size> n{};
    for (std::size_t i = 0; i < P::size; ++i) n[i] = by_id[i].name;
    return n;
  }();
  std::span<const std::string_view> names() const noexcept { return names_by_id; }
};

// ---- runtime states ---------------------------------------------------------------------------

// A state with `free` runs inside a coroutine that releases its closure however it ends.
inline asio::awaitable<transition> run_runtime_freed(session& s, const smtp_state* st) {
  void* closure = st->setup ? st->setup(s, st->closure) : nullptr;
  session_control::set_closure(s, closure);
  std::exception_ptr failure;
  transition t = transition::next();
  try {
    t = co_await st->callback(s, st->closure);
  } catch (...) {
    failure = std::current_exception();
  }
  st->free(s, closure, st->closure);
  if (failure) std::rethrow_exception(failure);
  co_return t;
}
// Without `free` there is nothing to do after the callback: its coroutine is returned as is.
inline asio::awaitable<transition> run_runtime(session& s, const void* context) {
  const auto* st = static_cast<const smtp_state*>(context);
  if (st->free) return run_runtime_freed(s, st);
  void* closure = st->setup ? st->setup(s, st->closure) : nullptr;
  session_control::set_closure(s, closure);
  if (closure && st->setup != &closure_as_state)  // Momentum's warning, given on entry
    session_control::note(s, "state_closure defined but free func not defined for state " +
                                 std::to_string(st->id) + " name " + st->name +
                                 " which causes a leak");
  return st->callback(s, st->closure);
}
inline bool applies_runtime(const session& s, const void* context) {
  const auto* st = static_cast<const smtp_state*>(context);
  return !st->applies || st->applies(s, st->closure);
}
inline int tostage_runtime(const session& s, const void* context) {
  const auto* st = static_cast<const smtp_state*>(context);
  return st->tostage(s, st->closure);
}

/// The dispatch table of a runtime machine: the snapshot the session started with and one
/// entry per state calling its registered callbacks.
class runtime_table {
 public:
  explicit runtime_table(std::shared_ptr<const state_machine::snapshot> snapshot)
      : snapshot_(std::move(snapshot)) {
    entries_.reserve(snapshot_->states.size());
    names_.reserve(snapshot_->states.size());
    for (const auto& st : snapshot_->states) {
      entries_.push_back({st.id, st.name, st.init_local_state, int(stage::unknown),
                          &applies_runtime, &run_runtime, &tostage_runtime, st.tostring, &st});
      names_.push_back(st.name);
    }
  }
  std::size_t size() const noexcept { return snapshot_->order.size(); }
  const state_entry& at(std::size_t position) const noexcept {
    return entries_[static_cast<std::size_t>(snapshot_->order[position])];
  }
  int position_of(int id) const noexcept {
    return id >= 0 && static_cast<std::size_t>(id) < entries_.size()
               ? snapshot_->position[static_cast<std::size_t>(id)]
               : -1;
  }
  std::span<const std::string_view> names() const noexcept { return names_; }

 private:
  std::shared_ptr<const state_machine::snapshot> snapshot_;
  std::vector<state_entry> entries_;
  std::vector<std::string_view> names_;
};

template <class... R>
static_table<pipeline<R...>> make_table(const pipeline<R...>&) {
  return {};
}
inline runtime_table make_table(const state_machine& machine) {
  return runtime_table(machine.current());
}

// ---- the loop -------------------------------------------------------------------------------

/// What the runner does when a session's messages are done: nothing, QUIT follows.
struct no_hold {};

/// Runs the states in order from the first, following their transitions, until the end.
/// With a `Hold` other than `no_hold` (a connection pool), a usable session that reaches
/// `quit` first reads every reply still due, then awaits `hold(s)`: `true` means other
/// messages were loaded (`session_control::load`) and the session goes on at `rset` (which
/// resets only a transaction left unfinished), `false` that it ends with QUIT.
template <class Table, class Hold = no_hold>
asio::awaitable<void> run_states(session& s, const Table& table, Hold hold = {}) {
  const std::size_t end = table.size();
  const auto rset_position = static_cast<std::size_t>(table.position_of(state_id::rset));
  const auto quit_position = static_cast<std::size_t>(table.position_of(state_id::quit));
  std::size_t position = 0;
  while (position < end) {
    if constexpr (!std::is_same_v<Hold, no_hold>) {
      if (position == quit_position && s.usable()) {
        (void)co_await s.flush();  // the last final "." may still wait for its reply
        bool more = false;
        if (s.usable()) more = co_await hold(s);
        if (more) {
          position = rset_position;
          continue;
        }
      }
    }
    const state_entry& e = table.at(position);
    if (e.applies && !e.applies(s, e.context)) {
      session_control::skipped(s, e);
      ++position;
      continue;
    }
    session_control::enter(s, e);
    transition t = transition::next();
    try {
      t = co_await e.run(s, e.context);
    } catch (const std::system_error& ex) {
      t = session_control::broken(s, ex.code());
    } catch (const std::exception& ex) {
      t = s.fail_session(errc::state_failed, ex.what());
    }
    t = session_control::leave(s, e, t);
    if (s.error() && t.what() != transition::kind::close) t = session_control::failed();
    switch (t.what()) {
      case transition::kind::next: ++position; break;
      case transition::kind::jump: {
        const int target = table.position_of(t.target());
        if (target < 0) {
          (void)s.fail_session(errc::unknown_state, "jump to state " + std::to_string(t.target()));
          position = quit_position;
        } else {
          position = static_cast<std::size_t>(target);
        }
        break;
      }
      case transition::kind::fail_transaction:
        // From a state after `rset` there is no transaction left to end: go on.
        position = position < rset_position ? rset_position : position + 1;
        break;
      case transition::kind::fail_session:
        position = position < quit_position ? quit_position : position + 1;
        break;
      case transition::kind::close: position = end; break;
    }
  }
}

template <class Table, class Hold>
asio::awaitable<void> run_and_stop(session& s, const Table& table, Hold hold) {
  // Implicit TLS (RFC 8314): the handshake comes before the greeting is read. (A co_await
  // inside a condition is avoided on purpose: g++ 12 miscompiles some of those.)
  std::error_code handshake;
  if (s.options().tls == tls_mode::implicit) handshake = co_await s.start_tls();
  if (!handshake) co_await run_states(s, table, std::move(hold));
  session_control::stop(s);
}

/// Runs the states in this coroutine, the session's reader (spawned) and its watchdog (a
/// timer callback) beside them, then waits until both have ended (`stop()` ends them): the
/// session they reference outlives them. Cheaper than `states && reader && watchdog` (Asio's
/// parallel group: about 3.6 KiB of frames and handlers per session). A cancellation of this
/// coroutine reaches the states' waits; the session then stops, which ends the other two.
template <class Table, class Hold = no_hold>
asio::awaitable<void> run_beside_reader(session& s, const Table& table, Hold hold = {}) {
  auto reader_ended = [&s](std::exception_ptr failure) {
    if (failure) {  // a failure in the reader ends the session
      std::error_code ec = make_error_code(errc::state_failed);
      try {
        std::rethrow_exception(failure);
      } catch (const std::system_error& ex) {
        ec = ex.code();
      } catch (...) {}
      session_control::broken(s, ec);
      session_control::stop(s);
    }
    session_control::helper_ended(s);
  };
  session_control::start_helpers(s, co_await asio::this_coro::executor, reader_ended);
  std::exception_ptr failure;
  try {
    co_await run_and_stop(s, table, std::move(hold));
  } catch (const std::system_error& ex) {
    session_control::broken(s, ex.code());
  } catch (...) {
    failure = std::current_exception();
  }
  session_control::stop(s);
  // Wait for both whatever happens, cancellation included: they reference the session.
  co_await asio::this_coro::reset_cancellation_state();
  co_await asio::this_coro::throw_if_cancelled(false);
  co_await session_control::helpers_ended(s);
  if (failure) std::rethrow_exception(failure);
}

/// Validates, optionally connects (`connect(socket)` returns `awaitable<std::error_code>`),
/// then runs the states beside the session's reader and watchdog (see `run_states` for
/// `hold`).
template <class Table, class Connect, class Hold = no_hold>
asio::awaitable<session_result> run_table(asio::ip::tcp::socket socket, Table table,
                                          std::span<const message> messages,
                                          session_options options, Connect connect,
                                          Hold hold = {}) {
  transport io(std::move(socket));
  session s(io, options, messages);
  session_control::set_names(s, table.names());
  if (auto ec = session_control::prepare(s)) {
    session_control::broken(s, ec);
  } else if (auto cec = co_await connect(io.socket())) {
    session_control::broken(s, cec);
  } else {
    std::error_code ignored;
    io.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    session_control::start(s);
    co_await run_beside_reader(s, table, std::move(hold));
  }
  session_control::stop(s);
  co_return session_control::take_result(s);
}

struct already_connected {
  asio::awaitable<std::error_code> operator()(asio::ip::tcp::socket&) const {
    co_return std::error_code{};
  }
};

}  // namespace detail

/// Runs one session over a connected socket with a pipeline: a static `pipeline<...>` or a
/// runtime `state_machine` (its current snapshot). Delivers every message in order over this
/// one connection and never throws for SMTP, I/O or timeout failures: they are in the
/// result, which holds a result for every recipient. The socket is closed at the end.
template <class Pipeline>
asio::awaitable<session_result> run_session(asio::ip::tcp::socket socket, const Pipeline& pipeline,
                                            std::span<const message> messages,
                                            session_options options = {}) {
  auto table = detail::make_table(pipeline);
  detail::already_connected connect;
  return detail::run_table(std::move(socket), std::move(table), messages, std::move(options),
                           std::move(connect));
}

}  // namespace smtpipe

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_CLIENT_RUNNER_HPP
