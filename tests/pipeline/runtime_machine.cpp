// The runtime state machine and Momentum's facade: registration semantics and refusals.
#include "smtpipe/client/registry.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace smtpipe;

namespace {
struct probe {
  static constexpr std::string_view name = "probe";
  asio::awaitable<transition> run(session&) { co_return transition::next(); }
};

smtp_state named(std::string name) {
  smtp_state st = make_state<probe>();
  st.name = std::move(name);
  return st;
}

std::vector<int> walk(const smtp_state* s) {
  std::vector<int> ids;
  for (; s; s = s->next) ids.push_back(s->id);
  return ids;
}
}  // namespace

TEST_CASE("a new machine holds the ten built-in states in order [smtpipe]") {
  state_machine m;
  CHECK(m.order() == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  for (int id = 0; id < state_id::builtin_count; ++id) {
    const smtp_state* s = m.get_state(id);
    REQUIRE(s);
    CHECK(s->id == id);
    CHECK(s->name == builtin_state_names[static_cast<std::size_t>(id)]);
    CHECK((s->callback != nullptr));
    CHECK((s->tostage != nullptr));
    CHECK((s->tostring != nullptr));
  }
  CHECK(m.get_state("rcpt")->id == state_id::rcpt);
  CHECK(m.get_state(10) == nullptr);
  CHECK(m.get_state(-1) == nullptr);
  CHECK(m.get_state("nope") == nullptr);
  CHECK(m.head()->id == state_id::banner);
  CHECK(walk(m.head()) == m.order());
}

TEST_CASE("registration follows Momentum: dense IDs, linked-list insertion [smtpipe]") {
  state_machine m;
  CHECK(m.register_state(named("x1"), state_id::ehlo) == 10);
  CHECK(m.register_state(named("x2"), state_id::ehlo) == 11);  // lands before x1
  CHECK(m.register_state(named("x3"), state_id::head) == 12);  // before banner: the new head
  CHECK(m.register_state(named("x4"), 12) == 13);              // after a custom state
  CHECK(m.order() == std::vector<int>{12, 13, 0, 1, 11, 10, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(m.head()->name == "x3");
  CHECK(walk(m.head()) == m.order());
  CHECK(m.get_state("x2")->next == m.get_state(10));
}

TEST_CASE("refused registrations return -1, say why and consume no ID [smtpipe]") {
  state_machine m;
  smtp_state st = named("ok");
  st.callback = nullptr;
  CHECK(m.register_state(st, 0) == -1);
  CHECK(m.last_error().find("callback, tostage and tostring must be defined") != std::string::npos);
  st = named("ok");
  st.tostage = nullptr;
  CHECK(m.register_state(st, 0) == -1);
  st = named("ok");
  st.tostring = nullptr;
  CHECK(m.register_state(st, 0) == -1);
  CHECK(m.register_state(named(""), 0) == -1);
  CHECK(m.register_state(named("ehlo"), 0) == -1);  // a built-in's name
  CHECK(m.last_error().find("already used") != std::string::npos);
  CHECK(m.register_state(named("ok"), 10) == -1);  // no state 10 yet
  CHECK(m.last_error().find("state 10 not found") != std::string::npos);
  CHECK(m.register_state(named("ok"), -2) == -1);
  CHECK(m.order().size() == 10);
  CHECK(m.register_state(named("ok"), 0) == 10);  // the first success still gets 10
  CHECK(m.last_error().empty());
  CHECK(m.register_state(named("ok"), 0) == -1);  // now the name is taken
}

TEST_CASE(
    "setup and free are optional; the caller's struct may die; closure is kept by pointer "
    "[smtpipe]") {
  state_machine m;
  int user_data = 42;
  {
    smtp_state st = named("temporary");
    st.setup = nullptr;
    st.free = nullptr;
    st.closure = &user_data;
    CHECK(m.register_state(st, state_id::mail) == 10);
    st.name = "changed after registration";
  }
  const smtp_state* s = m.get_state(10);
  REQUIRE(s);
  CHECK(s->name == "temporary");
  CHECK(s->closure == &user_data);
  CHECK((s->setup == nullptr));
}

TEST_CASE(
    "pointers stay valid and earlier snapshots unchanged after later registrations [smtpipe]") {
  state_machine m;
  const smtp_state* banner = m.get_state(0);
  auto before = m.current();
  CHECK(m.register_state(named("late"), state_id::head) == 10);
  CHECK(banner->name == "banner");    // still readable
  CHECK(before->order.size() == 10);  // a session holding this snapshot sees no change
  CHECK(m.current()->order.size() == 11);
  CHECK(m.head()->name == "late");
}

TEST_CASE("concurrent registrations get unique dense IDs [smtpipe]") {
  state_machine m;
  std::vector<std::thread> threads;
  std::vector<std::vector<int>> ids(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i)
        ids[static_cast<std::size_t>(t)].push_back(m.register_state(
            named("t" + std::to_string(t) + "_" + std::to_string(i)), state_id::rcpt));
    });
  for (auto& th : threads) th.join();
  std::set<int> all;
  for (auto& v : ids) all.insert(v.begin(), v.end());
  CHECK(all.size() == 200);
  CHECK(*all.begin() == 10);
  CHECK(*all.rbegin() == 209);
  CHECK(m.order().size() == 210);
  CHECK(walk(m.head()) == m.order());
}

TEST_CASE("the Momentum facade works on the process-wide machine [smtpipe]") {
  CHECK(register_smtp_client_state(nullptr, 0) == -1);
  const auto base = static_cast<int>(default_state_machine().order().size());
  smtp_state st = named("facade_state");
  const int id = register_smtp_client_state(&st, state_id::head);
  CHECK(id == base);
  CHECK(smtp_get_state(id)->name == "facade_state");
  CHECK(smtp_get_state_machine() == smtp_get_state(id));  // -1 makes it the head
  CHECK(smtp_get_state_machine()->next->id == state_id::banner);
  CHECK(smtp_get_state(id + 1) == nullptr);
  CHECK(register_smtp_client_state(&st, state_id::head) == -1);  // name taken
}

namespace {
struct probe_with_data {
  static constexpr std::string_view name = "probe_with_data";
  int sent = 0;
  asio::awaitable<transition> run(session&) { co_return transition::next(); }
};
}  // namespace

TEST_CASE("make_state carries a static state's name and callbacks [smtpipe]") {
  smtp_state st = make_state<probe>();
  CHECK(st.name == "probe");
  CHECK(st.id == -1);
  CHECK((st.callback != nullptr));
  CHECK((st.tostage != nullptr));
  CHECK((st.tostring != nullptr));
  CHECK(std::string(st.tostring(7)) == "after DATA");
  CHECK((st.applies == nullptr));  // probe has no `applies`: always entered
  SUBCASE("an empty state type: one shared instance is the state closure, nothing to free") {
    CHECK((st.setup != nullptr));
    CHECK((st.free == nullptr));
    CHECK((st.closure != nullptr));
    CHECK((st.closure == make_state<probe>().closure));
  }
  SUBCASE("a state type with data: a closure made and freed per entry") {
    smtp_state d = make_state<probe_with_data>();
    CHECK((d.setup != nullptr));
    CHECK((d.free != nullptr));
    CHECK((d.closure == nullptr));
  }
}

TEST_CASE("stage texts are Momentum's, and unknown codes read as unknown [smtpipe]") {
  CHECK(std::string(stage_text(0)) == "while not connected");
  CHECK(std::string(stage_text(8)) == "while sending BODY");
  CHECK(std::string(stage_text(9)) == "reading confirmation");
  CHECK(std::string(stage_text(12)) == "reading BANNER");
  CHECK(std::string(stage_text(17)) == "handshaking TLS");
  CHECK(std::string(stage_text(21)) == "out of band bounce");
  CHECK(std::string(stage_text(22)) == "in unknown state");
  CHECK(std::string(stage_text(23)) == "in unknown state");
  CHECK(std::string(stage_text(-1)) == "in unknown state");
}
