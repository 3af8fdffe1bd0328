// Custom states in a real conversation: static and runtime registration give the same wire
// and the same results; Momentum's transitions, closures, local state and stage codes; states
// that throw or jump nowhere; snapshots; the transcript and its AUTH redaction.
#include "smtpipe/client/next_state.hpp"
#include "smtpipe/session/transcript.hpp"
#include "support/conversation.hpp"
#include "support/run.hpp"
#include "support/script_server.hpp"
#include "support/wire.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <stdexcept>

using namespace smtpipe;
using namespace std::chrono_literals;
using test::ehlo_line;
using test::ehlo_pipelining;
using test::greeting;
using test::script_server;

namespace {

std::error_code fixed(std::string& out, std::string_view line) {
  out.append(line);
  out += "\r\n";
  return {};
}

/// Records the states entered, as "id:name".
struct state_log : session_observer {
  std::vector<std::string> entered;
  void state_entered(const session&, int id, std::string_view name) override {
    entered.push_back(std::to_string(id) + ":" + std::string(name));
  }
};

std::vector<message> two_recipients() {
  return {test::make_message("a@example.org", {"b@example.org", "c@example.org"}, "hello\r\n")};
}

// ---- XCLIENT (Postfix): a custom command whose 220 reply asks for a new EHLO ----------------

/// Runs when EHLO offers XCLIENT; the server then greets again, so the state jumps back to
/// ehlo (which no longer offers XCLIENT: the state is skipped the second time).
struct xclient {
  static constexpr std::string_view name = "xclient";
  static constexpr smtpipe::stage stage = smtpipe::stage::during_xclient;
  static bool applies(const session& s) { return s.server_capabilities().has("XCLIENT"); }
  asio::awaitable<transition> run(session& s) {
    if (auto ec = co_await s.exchange(command_kind::custom, [](std::string& out) {
          return fixed(out, "XCLIENT NAME=client.example.org ADDR=192.0.2.1");
        }))
      co_return s.fail_session(ec);
    if (s.last_reply().code != 220)
      co_return s.fail_session(s.last_reply(), errc::unexpected_reply);
    co_return transition::jump(state_id::ehlo);
  }
};

using xclient_pipeline = pipeline<insert_after<state_id::ehlo, xclient>>;
static_assert(xclient_pipeline::id_of<xclient>() == state_id::first_custom);

template <class Pipeline>
session_result xclient_conversation(const Pipeline& p, std::string& wire,
                                    std::vector<std::string>& entered) {
  asio::io_context io;
  script_server srv(io);
  srv.send(greeting)
      .expect("EHLO localhost")
      .send("250-mx.example.org\r\n250-PIPELINING\r\n250 XCLIENT NAME ADDR\r\n")
      .expect("XCLIENT NAME=client.example.org ADDR=192.0.2.1")
      .send("220 mx.example.org ESMTP again\r\n")
      .expect("EHLO localhost")
      .send(ehlo_pipelining)
      .expect("MAIL")
      .expect("RCPT TO:<b@")
      .expect("RCPT TO:<c@")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n550 5.1.1 no c\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 2.0.0 queued\r\n221 bye\r\n");
  state_log log;
  auto options = test::fast_options(0.01);
  options.observer = &log;
  auto r = test::start_and_deliver(io, srv, two_recipients(), options, p);
  CHECK(srv.failures().empty());
  wire = srv.received();
  entered = log.entered;
  return r;
}

}  // namespace

TEST_CASE(
    "a static custom state sends its command, jumps back to EHLO, and the session goes on "
    "[smtpipe]") {
  std::string wire;
  std::vector<std::string> entered;
  auto r = xclient_conversation(xclient_pipeline{}, wire, entered);
  CHECK_FALSE(r.error);
  CHECK(wire ==
        ehlo_line + "XCLIENT NAME=client.example.org ADDR=192.0.2.1\r\n" + ehlo_line +
            "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\n"
            "DATA\r\nhello\r\n.\r\nQUIT\r\n");
  const std::vector<std::string> expected{"0:banner", "1:ehlo", "10:xclient", "1:ehlo", "5:mail",
                                          "6:rcpt",   "7:data", "8:rset",     "9:quit"};
  CHECK(entered == expected);
  const auto& rs = r.messages.at(0).recipients;
  CHECK(rs.at(0).status == delivery_status::delivered);
  CHECK(rs.at(1).status == delivery_status::permanent);
}

TEST_CASE(
    "the same state registered at runtime behaves identically: same wire, same results [smtpipe]") {
  std::string static_wire, runtime_wire;
  std::vector<std::string> static_entered, runtime_entered;
  auto s = xclient_conversation(xclient_pipeline{}, static_wire, static_entered);
  state_machine m;
  REQUIRE(m.register_state(make_state<xclient>(), state_id::ehlo) == state_id::first_custom);
  auto r = xclient_conversation(m, runtime_wire, runtime_entered);
  CHECK(runtime_wire == static_wire);
  CHECK(runtime_entered == static_entered);
  CHECK(test::describe(r) == test::describe(s));
}

// ---- Momentum's runtime API: smtp_next_state, setup/free/closure, local state, stages -----------

namespace {

asio::awaitable<transition> hop_to_quit(session& s, void* closure) {
  const auto* machine = static_cast<const state_machine*>(closure);
  smtp_next_state(s, machine->get_state(state_id::quit));
  co_return transition::next();
}
int unknown_stage(const session&, void*) { return int(stage::unknown); }

/// A runtime state that runs `callback` with `closure`, in no particular stage.
smtp_state runtime_state(std::string name, smtp_state::callback_fn callback,
                         void* closure = nullptr) {
  smtp_state st;
  st.name = std::move(name);
  st.callback = callback;
  st.tostage = &unknown_stage;
  st.tostring = &default_tostring;
  st.closure = closure;
  return st;
}

}  // namespace

TEST_CASE("smtp_next_state in a runtime state replaces the default next state [smtpipe]") {
  state_machine m;
  REQUIRE(m.register_state(runtime_state("hop", &hop_to_quit, &m), state_id::ehlo) ==
          state_id::first_custom);
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_pipelining).quit();
  auto r = test::start_and_deliver(io, srv, two_recipients(), test::fast_options(0.01), m);
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(srv.received() == ehlo_line + "QUIT\r\n");
  for (const auto& rr : r.messages.at(0).recipients) {
    CHECK(rr.status == delivery_status::transient);
    CHECK(rr.error == errc::not_attempted);
  }
}

namespace {

struct probe_data {
  int setups = 0, callbacks = 0, frees = 0;
  std::vector<void*> made, seen, freed;
  std::vector<int> local_on_entry;
  std::vector<int> stage_codes;
  std::vector<std::string> stage_texts;
  std::vector<session::clock::time_point> entered_at;
  bool wrong_registration_closure = false;
  bool fail = false;  // throw from the callback
};

void* probe_setup(session&, void* closure) {
  auto* d = static_cast<probe_data*>(closure);
  ++d->setups;
  d->made.push_back(new int(d->setups));
  return d->made.back();
}
asio::awaitable<transition> probe_callback(session& s, void* closure) {
  auto* d = static_cast<probe_data*>(closure);
  ++d->callbacks;
  d->seen.push_back(s.state_closure());
  d->local_on_entry.push_back(s.local_state());
  d->stage_codes.push_back(s.stage_code());
  d->stage_texts.push_back(s.stage_string());
  d->entered_at.push_back(s.state_entered_at());
  s.local_state() = 99;  // must not leak into the next entry
  if (d->fail) throw std::runtime_error("probe exploded");
  smtp_next_state(s, nullptr);  // keeps the default next state
  co_return transition::next();
}
void probe_free(session&, void* state_closure, void* closure) {
  auto* d = static_cast<probe_data*>(closure);
  ++d->frees;
  d->freed.push_back(state_closure);
  delete static_cast<int*>(state_closure);
}
int probe_tostage(const session& s, void*) { return s.local_state(); }

smtp_state probe_state(probe_data& d) {
  smtp_state st = runtime_state("probe", &probe_callback, &d);
  st.init_local_state = int(stage::during_data);
  st.setup = &probe_setup;
  st.free = &probe_free;
  st.tostage = &probe_tostage;
  return st;
}

}  // namespace

TEST_CASE("a runtime state's setup, free, closure, local state, entry time and stage [smtpipe]") {
  probe_data d;
  state_machine m;
  REQUIRE(m.register_state(probe_state(d), state_id::rcpt) == state_id::first_custom);
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_pipelining)
      .expect_group()
      .send("250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect_group()
      .send("250 queued\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
  srv.start();
  const auto before = session::clock::now();
  auto r = test::deliver_to(io, srv.port(),
                            {test::make_message("a@example.org", {"b@example.org"}, "one\r\n"),
                             test::make_message("a@example.org", {"c@example.org"}, "two\r\n")},
                            test::fast_options(0.01), m);
  const auto after = session::clock::now();
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(r.all_delivered());
  // Entered once per transaction; free once per entry, with what that entry's setup made.
  CHECK(d.setups == 2);
  CHECK(d.callbacks == 2);
  CHECK(d.frees == 2);
  CHECK(d.seen == d.made);
  CHECK(d.freed == d.made);
  CHECK(d.local_on_entry == std::vector<int>{6, 6});
  CHECK(d.stage_codes == std::vector<int>{6, 6});
  CHECK(d.stage_texts == std::vector<std::string>{"during DATA", "during DATA"});
  REQUIRE(d.entered_at.size() == 2);
  CHECK(before <= d.entered_at[0]);
  CHECK(d.entered_at[0] < d.entered_at[1]);
  CHECK(d.entered_at[1] <= after);
}

// ---- failures of custom states ----------------------------------------------------------------

namespace {
struct thrower {
  static constexpr std::string_view name = "thrower";
  asio::awaitable<transition> run(session&) {
    throw std::runtime_error("thrower exploded");
    co_return transition::next();
  }
};
struct lost {
  static constexpr std::string_view name = "lost";
  asio::awaitable<transition> run(session&) { co_return transition::jump(42); }
};

template <class Pipeline>
session_result after_ehlo(const Pipeline& p, std::string& wire) {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_pipelining).quit();
  auto r = test::start_and_deliver(io, srv, two_recipients(), test::fast_options(0.01), p);
  CHECK(srv.failures().empty());
  wire = srv.received();
  return r;
}
}  // namespace

TEST_CASE("a state that throws ends the session with errc::state_failed, politely [smtpipe]") {
  std::string wire;
  auto r = after_ehlo(pipeline<insert_after<state_id::ehlo, thrower>>{}, wire);
  CHECK(r.error == errc::state_failed);
  CHECK(r.error_state == "thrower");
  CHECK(r.error_text == "thrower exploded");
  CHECK(wire == ehlo_line + "QUIT\r\n");
  for (const auto& rr : r.messages.at(0).recipients) CHECK(rr.status == delivery_status::transient);
}

TEST_CASE("a runtime state that throws is freed once, and fails the session [smtpipe]") {
  probe_data d;
  d.fail = true;
  state_machine m;
  REQUIRE(m.register_state(probe_state(d), state_id::ehlo) == state_id::first_custom);
  std::string wire;
  auto r = after_ehlo(m, wire);
  CHECK(r.error == errc::state_failed);
  CHECK(r.error_state == "probe");
  CHECK(r.error_text == "probe exploded");
  CHECK(d.setups == 1);
  CHECK(d.frees == 1);
  CHECK(d.freed == d.made);
  CHECK(wire == ehlo_line + "QUIT\r\n");
}

TEST_CASE("a jump to an unknown state ID ends the session with errc::unknown_state [smtpipe]") {
  std::string wire;
  auto r = after_ehlo(pipeline<insert_after<state_id::ehlo, lost>>{}, wire);
  CHECK(r.error == errc::unknown_state);
  CHECK(r.error_state == "lost");
  CHECK(r.error_text == "jump to state 42");
  CHECK(wire == ehlo_line + "QUIT\r\n");
  CHECK(r.count(delivery_status::delivered) == 0);
}

// ---- snapshots ----------------------------------------------------------------------------------

namespace {
asio::awaitable<transition> send_noop(session& s, void*) {
  if (auto ec = co_await s.exchange(command_kind::noop,
                                    [](std::string& out) { return fixed(out, "NOOP"); }))
    co_return s.fail_session(ec);
  co_return transition::next();
}

// The pipelined transaction of two_recipients(), both accepted, then QUIT.
script_server& deliver_two(script_server& srv) {
  return srv.expect("MAIL")
      .expect("RCPT")
      .expect("RCPT")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
}
}  // namespace

TEST_CASE(
    "a session keeps the snapshot it started with when a state is registered meanwhile [smtpipe]") {
  state_machine m;
  const smtp_state late = runtime_state("late", &send_noop);
  int id = -1;
  {
    asio::io_context io;
    script_server srv(io);
    srv.call([&] { id = m.register_state(late, state_id::ehlo); });  // the session has started
    deliver_two(srv.send(greeting).expect("EHLO").send(ehlo_pipelining));
    auto r = test::start_and_deliver(io, srv, two_recipients(), test::fast_options(0.01), m);
    CHECK(srv.failures().empty());
    CHECK(id == state_id::first_custom);
    CHECK_FALSE(test::contains(srv.received(), "NOOP"));
    CHECK(r.all_delivered());
  }
  {  // the next session takes the new snapshot
    asio::io_context io;
    script_server srv(io);
    deliver_two(srv.greet(greeting, ehlo_pipelining).expect("NOOP").send("250 ok\r\n"));
    auto r = test::start_and_deliver(io, srv, two_recipients(), test::fast_options(0.01), m);
    CHECK(srv.failures().empty());
    CHECK(r.all_delivered());
  }
}

// ---- the transcript -----------------------------------------------------------------------------

namespace {
/// AUTH LOGIN refused, then AUTH PLAIN, every line queued as command_kind::auth.
struct login {
  static constexpr std::string_view name = "login";
  asio::awaitable<transition> run(session& s) {
    for (std::string_view line :
         {"AUTH LOGIN", "YWxpY2U=", "czNjcmV0", "AUTH PLAIN AGFsaWNlAHMzY3JldA=="}) {
      if (auto ec = co_await s.exchange(command_kind::auth,
                                        [line](std::string& out) { return fixed(out, line); }))
        co_return s.fail_session(ec);
    }
    if (s.last_reply().code != 235)
      co_return s.fail_session(s.last_reply(), errc::auth_not_available);
    co_return transition::next();
  }
};
}  // namespace

TEST_CASE("the transcript shows every line in wire order, AUTH payloads redacted [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, "250-mx.example.org\r\n250-PIPELINING\r\n250 AUTH LOGIN PLAIN\r\n")
      .expect("AUTH LOGIN")
      .send("334 VXNlcm5hbWU6\r\n")
      .expect("YWxpY2U=")
      .send("334 UGFzc3dvcmQ6\r\n")
      .expect("czNjcmV0")
      .send("535 5.7.8 bad credentials\r\n")
      .expect("AUTH PLAIN AGFsaWNlAHMzY3JldA==")
      .send("235 2.7.0 ok\r\n")
      .expect("MAIL")
      .expect("RCPT")
      .expect("RCPT")
      .expect("DATA")
      .send("250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n")
      .expect_data()
      .expect("QUIT")
      .send("250 queued\r\n221 bye\r\n");
  std::ostringstream out;
  transcript t(out);
  auto options = test::fast_options(0.01);
  options.observer = &t;
  auto r = test::start_and_deliver(io, srv, two_recipients(), options,
                                   pipeline<insert_after<state_id::ehlo, login>>{});
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  CHECK(out.str() ==
        "S: 220 mx.example.org ESMTP\n"
        "C: EHLO localhost\n"
        "S: 250-mx.example.org\n"
        "S: 250-PIPELINING\n"
        "S: 250 AUTH LOGIN PLAIN\n"
        "C: AUTH LOGIN\n"
        "S: 334 VXNlcm5hbWU6\n"
        "C: <redacted>\n"
        "S: 334 UGFzc3dvcmQ6\n"
        "C: <redacted>\n"
        "S: 535 5.7.8 bad credentials\n"
        "C: AUTH PLAIN <redacted>\n"
        "S: 235 2.7.0 ok\n"
        "C: MAIL FROM:<a@example.org>\n"
        "C: RCPT TO:<b@example.org>\n"
        "C: RCPT TO:<c@example.org>\n"
        "C: DATA\n"
        "S: 250 ok\n"
        "S: 250 ok\n"
        "S: 550 no\n"
        "S: 354 go\n"
        "C: <7 octets of message data>\n"
        "C: .\n"
        "C: QUIT\n"
        "S: 250 queued\n"
        "S: 221 bye\n");
  // The server got the secrets; the transcript never did.
  for (const char* secret : {"YWxpY2U=", "czNjcmV0", "AGFsaWNlAHMzY3JldA=="}) {
    CHECK(test::contains(srv.received(), secret));
    CHECK_FALSE(test::contains(out.str(), secret));
  }
}

// ---- Entry time and an abandoned io_context ------------------------------------------------

namespace {

std::chrono::steady_clock::duration waited_in_state{};

/// Sends NOOP, then measures how long ago it was entered (the server answers late).
struct late_noop {
  static constexpr std::string_view name = "late_noop";
  asio::awaitable<transition> run(session& s) {
    if (auto ec = co_await s.exchange(command_kind::noop, format_noop))
      co_return s.fail_session(ec);
    waited_in_state = std::chrono::steady_clock::now() - s.state_entered_at();
    co_return transition::next();
  }
};

}  // namespace

TEST_CASE(
    "state_entered_at is taken before the state's first wait on the session, static and runtime "
    "[smtpipe]") {
  state_machine m;
  REQUIRE(m.register_state(make_state<late_noop>(), state_id::ehlo) == state_id::first_custom);
  for (int runtime = 0; runtime < 2; ++runtime) {
    CAPTURE(runtime);
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_pipelining).expect("NOOP").sleep(150ms).send("250 ok\r\n").quit();
    srv.start();
    waited_in_state = {};
    auto r = runtime ? test::deliver_to(io, srv.port(), {}, {}, m)
                     : test::deliver_to(io, srv.port(), {}, {},
                                        pipeline<insert_after<state_id::ehlo, late_noop>>{});
    CHECK(srv.failures().empty());
    CHECK_FALSE(r.error);
    CHECK(waited_in_state >= 150ms);
  }
}

namespace {

int live_closures = 0;

/// A state with data (a closure per connection) that waits for a reply that never comes.
struct stuck_with_data {
  static constexpr std::string_view name = "stuck_with_data";
  struct counted {
    counted() { ++live_closures; }
    counted(const counted&) { ++live_closures; }
    ~counted() { --live_closures; }
  } token;
  asio::awaitable<transition> run(session& s) {
    (void)co_await s.exchange(command_kind::noop, format_noop);
    co_return transition::next();
  }
};

}  // namespace

TEST_CASE(
    "a session left waiting when its io_context is destroyed is destroyed with it [smtpipe]") {
  live_closures = 0;
  {
    asio::io_context io;
    script_server srv(io);
    srv.greet(greeting, ehlo_pipelining).expect("NOOP").sleep(60s);
    srv.start();
    bool finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          (void)co_await deliver("127.0.0.1", std::to_string(srv.port()),
                                 pipeline<insert_after<state_id::ehlo, stuck_with_data>>{},
                                 std::vector<message>{}, session_options{});
          finished = true;
        },
        asio::detached);
    io.run_for(500ms);
    CHECK_FALSE(finished);
    CHECK(live_closures == 1);
  }
  CHECK(live_closures == 0);  // the waiting states' frames went with the io_context
}

namespace {

struct note_log : session_observer {
  std::vector<std::string> notes;
  void note(const session&, std::string_view text) override { notes.emplace_back(text); }
};

void* leaky_setup(session&, void*) {
  static int made = 0;
  return &made;
}
asio::awaitable<transition> pass(session&, void*) { co_return transition::next(); }
int none_stage(const session&, void*) { return int(stage::unknown); }

}  // namespace

TEST_CASE(
    "Momentum's warning for a closure nothing frees; none for make_state's shared instance "
    "[smtpipe]") {
  state_machine m;
  smtp_state leaky;
  leaky.name = "leaky";
  leaky.setup = &leaky_setup;
  leaky.callback = &pass;
  leaky.tostage = &none_stage;
  leaky.tostring = &default_tostring;
  REQUIRE(m.register_state(leaky, state_id::ehlo) == state_id::first_custom);
  REQUIRE(m.register_state(make_state<late_noop>(), state_id::first_custom) ==
          state_id::first_custom + 1);
  asio::io_context io;
  script_server srv(io);
  srv.greet(greeting, ehlo_pipelining).expect("NOOP").send("250 ok\r\n").quit();
  srv.start();
  note_log log;
  session_options options;
  options.observer = &log;
  auto r = test::deliver_to(io, srv.port(), {}, options, m);
  CHECK(srv.failures().empty());
  CHECK_FALSE(r.error);
  const std::vector<std::string> expected{
      "state_closure defined but free func not defined for state 10 name leaky which causes a "
      "leak"};
  CHECK(log.notes == expected);
}

// ---- SASL: the AUTH state chooses among the mechanisms the program compiled in ---------------

TEST_CASE(
    "AUTH without <smtpipe/openssl.hpp>: SCRAM-SHA-256 and CRAM-MD5 are not compiled in, "
    "so PLAIN [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  srv.greet("220 mx.example.org ESMTP\r\n",
            "250-mx.example.org\r\n250 AUTH SCRAM-SHA-256 CRAM-MD5 PLAIN\r\n")
      .expect("AUTH PLAIN AGFsaWNlAHMzY3JldA==")  // \0alice\0s3cret
      .send("235 2.7.0 ok\r\n")
      .lockstep_message("250 queued\r\n")
      .quit();
  auto options = test::fast_options(0.01);
  options.auth.emplace();
  options.auth->credentials.user = "alice";
  options.auth->credentials.secret = "s3cret";
  options.auth->allow_plaintext = true;
  std::vector<message> one{test::make_message("a@example.org", {"b@example.org"}, "hello\r\n")};
  auto r = test::start_and_deliver(io, srv, one, options);
  CHECK(srv.failures().empty());
  CHECK(r.authenticated);
  CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
}
