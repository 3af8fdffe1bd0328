// smtpipe/client/state_machine.hpp - The runtime pipeline: states registered while running.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLIENT_STATE_MACHINE_HPP
#define SMTPIPE_CLIENT_STATE_MACHINE_HPP

#include "smtpipe/client/make_state.hpp"
#include "smtpipe/client/smtp_state.hpp"
#include "smtpipe/config.hpp"
#include "smtpipe/pipeline/pipeline.hpp"
#include "smtpipe/pipeline/state_id.hpp"
#include "smtpipe/states/builtin_states.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpipe {

/// A client state machine built at runtime: it starts with the ten built-in states (or a
/// static `pipeline`'s states) and takes further registrations with Momentum's semantics:
/// the new state gets the next free ID and goes right after `insert_after` (-1: first), so a
/// later registration after X lands before earlier ones after X.
///
/// Registration is thread-safe. Each one publishes a new immutable snapshot; a session runs
/// on the snapshot current when it started, and pointers returned by `get_state` and
/// `head` stay valid for the machine's lifetime.
class state_machine {
 public:
  /// The states as one immutable, linked and indexed set.
  struct snapshot {
    std::vector<smtp_state> states;  ///< Indexed by ID; `next` links the order.
    std::vector<int> order;          ///< IDs in execution order.
    std::vector<int> position;       ///< Position in `order` of each ID.
  };

  /// The ten built-in states, IDs 0-9 in default order.
  state_machine() { publish(builtin_snapshot()); }

  /// The states of a static pipeline, with the same IDs and order; runtime registrations
  /// then continue the numbering.
  template <class... Registrations>
  explicit state_machine(pipeline<Registrations...>) {
    using P = pipeline<Registrations...>;
    snapshot s = builtin_snapshot();
    add_custom(s, typename P::custom_states{}, std::make_index_sequence<P::custom_count>{},
               [](std::size_t k) { return P::anchor_of(k); });
    publish(std::move(s));
  }

  state_machine(const state_machine& other) {
    snapshot copy = *other.current();
    relink(copy);
    publish(std::move(copy));
  }
  state_machine& operator=(const state_machine&) = delete;

  /// Registers a copy of `st` (its `closure` pointer kept as is) after `insert_after`.
  /// Returns the new ID, or -1 without consuming an ID when `callback`, `tostage` or
  /// `tostring` is missing, the name is empty or taken, or `insert_after` is unknown;
  /// `last_error()` then says why.
  int register_state(const smtp_state& st, int insert_after) {
    std::lock_guard lock(mutex_);
    snapshot next = *current_;
    if (!st.callback || !st.tostage || !st.tostring) {
      return refuse("state '" + st.name + "': callback, tostage and tostring must be defined");
    }
    if (st.name.empty()) return refuse("a state needs a non-empty name");
    for (const auto& existing : next.states)
      if (existing.name == st.name) return refuse("state name '" + st.name + "' is already used");
    if (insert_after != state_id::head &&
        (insert_after < 0 || static_cast<std::size_t>(insert_after) >= next.states.size())) {
      return refuse("state " + std::to_string(insert_after) + " not found (registering '" +
                    st.name + "')");
    }
    const int id = link(next, st, insert_after);
    publish(std::move(next));
    last_error_.clear();
    return id;
  }

  /// IDs in execution order.
  std::vector<int> order() const { return current()->order; }
  /// The state with `id`, or nullptr.
  const smtp_state* get_state(int id) const {
    auto s = current();
    return id >= 0 && static_cast<std::size_t>(id) < s->states.size() ? &s->states[id] : nullptr;
  }
  /// The state named `name`, or nullptr.
  const smtp_state* get_state(std::string_view name) const {
    auto s = current();
    for (const auto& st : s->states)
      if (st.name == name) return &st;
    return nullptr;
  }
  /// The first state; walk the machine with `next`.
  const smtp_state* head() const {
    auto s = current();
    return &s->states[s->order.front()];
  }
  /// Why the last refused registration was refused; empty after a success.
  std::string last_error() const {
    std::lock_guard lock(mutex_);
    return last_error_;
  }
  /// The current snapshot, as a session takes it when it starts.
  std::shared_ptr<const snapshot> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  static snapshot builtin_snapshot() {
    snapshot s;
    add_builtin(s, states::builtin{});
    return s;
  }
  template <class... S>
  static void add_builtin(snapshot& s, detail::type_list<S...>) {
    (link(s, make_state<S>(), s.states.empty() ? state_id::head : s.order.back()), ...);
  }
  template <class... S, std::size_t... K, class AnchorOf>
  static void add_custom(snapshot& s, detail::type_list<S...>, std::index_sequence<K...>,
                         AnchorOf anchor_of) {
    (link(s, make_state<S>(), anchor_of(K)), ...);
  }

  // Appends `st` with the next ID and splices it after `insert_after`; relinks `next`.
  static int link(snapshot& s, const smtp_state& st, int insert_after) {
    const int id = static_cast<int>(s.states.size());
    s.states.push_back(st);
    s.states.back().id = id;
    const auto at = insert_after == state_id::head
                        ? s.order.begin()
                        : s.order.begin() + s.position[static_cast<std::size_t>(insert_after)] + 1;
    s.order.insert(at, id);
    relink(s);
    return id;
  }

  // Recomputes positions and `next` pointers (they point into this snapshot's own vector).
  static void relink(snapshot& s) {
    s.position.assign(s.states.size(), 0);
    for (std::size_t p = 0; p < s.order.size(); ++p) {
      const auto i = static_cast<std::size_t>(s.order[p]);
      s.position[i] = static_cast<int>(p);
      s.states[i].next = p + 1 < s.order.size() ? &s.states[s.order[p + 1]] : nullptr;
    }
  }

  void publish(snapshot&& s) {
    auto shared = std::make_shared<const snapshot>(std::move(s));
    history_.push_back(shared);
    current_ = std::move(shared);
  }
  int refuse(std::string why) {
    last_error_ = std::move(why);
    return -1;
  }

  mutable std::mutex mutex_;
  std::shared_ptr<const snapshot> current_;
  std::vector<std::shared_ptr<const snapshot>> history_;  // keeps handed-out pointers valid
  std::string last_error_;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_CLIENT_STATE_MACHINE_HPP
