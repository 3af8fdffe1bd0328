// Examples quoted by docs/pipeline.md: compiled and run by the test suite.
#include "smtpipe/client/registry.hpp"
#include "smtpipe/pipeline/pipeline.hpp"
#include "smtpipe/protocol/body_encoder.hpp"
#include "smtpipe/protocol/command.hpp"
#include "smtpipe/protocol/reply_parser.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

//! [state-type]
// A state type: a unique name and a coroutine that runs inside the SMTP conversation.
struct xclient {
  static constexpr std::string_view name = "xclient";
  asio::awaitable<smtpipe::transition> run(smtpipe::session&) {
    co_return smtpipe::transition::next();
  }
};
struct proxy_header {
  static constexpr std::string_view name = "proxy_header";
  asio::awaitable<smtpipe::transition> run(smtpipe::session&) {
    co_return smtpipe::transition::next();
  }
};
struct audit {
  static constexpr std::string_view name = "audit";
  asio::awaitable<smtpipe::transition> run(smtpipe::session&) {
    co_return smtpipe::transition::next();
  }
};
//! [state-type]

//! [momentum-callbacks]
// Momentum-style callbacks: plain functions and a closure pointer.
asio::awaitable<smtpipe::transition> log_callback(smtpipe::session&, void* closure) {
  ++*static_cast<int*>(closure);  // e.g. count the connections that reached this state
  co_return smtpipe::transition::next();
}
int log_tostage(const smtpipe::session&, void*) { return int(smtpipe::stage::after_ehlo); }
//! [momentum-callbacks]

struct other {
  static constexpr std::string_view name = "other";
  asio::awaitable<smtpipe::transition> run(smtpipe::session&) {
    co_return smtpipe::transition::next();
  }
};

}  // namespace

TEST_CASE("docs: static and runtime registration side by side [smtpipe]") {
  using namespace smtpipe;
  //! [static]
  using P = pipeline<insert_after<state_id::ehlo, xclient>,       // ID 10
                     insert_after<state_id::head, proxy_header>,  // ID 11, before banner
                     insert_after<state_id::ehlo, audit>>;        // ID 12, lands before xclient
  static_assert(P::id_of<xclient>() == 10);
  static_assert(P::id_of<audit>() == 12);
  // proxy_header, banner, ehlo, audit, xclient, helo, starttls, auth, mail, ...
  static_assert(P::order()[0] == 11 && P::order()[3] == 12 && P::order()[4] == 10);
  //! [static]

  //! [runtime]
  state_machine m;                                                             // the ten built-ins
  const int x = m.register_state(make_state<xclient>(), state_id::ehlo);       // 10
  const int p = m.register_state(make_state<proxy_header>(), state_id::head);  // 11
  const int a = m.register_state(make_state<audit>(), state_id::ehlo);         // 12
  //! [runtime]
  CHECK(x == P::id_of<xclient>());
  CHECK(p == P::id_of<proxy_header>());
  CHECK(a == P::id_of<audit>());
  const auto order = P::order();
  CHECK(m.order() == std::vector<int>(order.begin(), order.end()));

  //! [from-static]
  state_machine continued{P{}};  // same IDs and order as P
  const int next = continued.register_state(make_state<other>(), state_id::data);
  //! [from-static]
  (void)next;
}

TEST_CASE("docs: groups [smtpipe]") {
  using namespace smtpipe;
  //! [group]
  // group<A, B, C> after ID is A after ID, B after A, C after B: one contiguous block.
  using G = pipeline<insert_after<state_id::rcpt, group<xclient, audit, proxy_header>>>;
  using S = pipeline<insert_after<state_id::rcpt, xclient>, insert_after<10, audit>,
                     insert_after<11, proxy_header>>;
  static_assert(G::order() == S::order());
  //! [group]
}

TEST_CASE("docs: Momentum's C-style API [smtpipe]") {
  using namespace smtpipe;
  //! [facade]
  static int reached = 0;
  smtp_state st;  // may die right after registration: every field but closure is copied
  st.name = "connection_log";
  st.callback = &log_callback;
  st.tostage = &log_tostage;
  st.tostring = &default_tostring;  // Momentum's stage texts
  st.closure = &reached;            // kept by pointer
  const int id = register_smtp_client_state(&st, state_id::ehlo);
  const smtp_state* registered = smtp_get_state(id);
  // smtp_get_state_machine() is the head; walk the order with ->next.
  //! [facade]
  REQUIRE(registered);
  CHECK(registered->name == "connection_log");
  CHECK(registered->closure == &reached);
  CHECK(smtp_get_state(state_id::ehlo)->next == registered);
  CHECK(register_smtp_client_state(&st, state_id::ehlo) == -1);  // the name is taken now
}

TEST_CASE("docs: refused registrations [smtpipe]") {
  using namespace smtpipe;
  //! [refused]
  state_machine m;
  smtp_state incomplete = make_state<xclient>();
  incomplete.tostage = nullptr;
  CHECK(m.register_state(incomplete, state_id::ehlo) == -1);  // mandatory callback missing
  CHECK(m.register_state(make_state<xclient>(), 42) == -1);   // no state 42
  CHECK(m.register_state(make_state<xclient>(), state_id::ehlo) == 10);  // no ID was consumed
  CHECK(m.register_state(make_state<xclient>(), state_id::ehlo) == -1);  // the name is taken
  //! [refused]
}

TEST_CASE("docs: the protocol core [smtpipe]") {
  using namespace smtpipe;
  //! [parser]
  reply_parser parser;
  std::string_view wire = "250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n";
  auto res = parser.parse(wire);  // or byte by byte: the result is the same
  CHECK(res.st == reply_parser::status::done);
  CHECK(parser.get().code == 250);
  CHECK(parser.get().line_count == 3);
  //! [parser]

  //! [command]
  std::string out;
  mail_parameters params;
  params.size = 12345;
  CHECK(format_mail_from(out, "bounce@example.org", params) == std::error_code{});
  CHECK(out == "MAIL FROM:<bounce@example.org> SIZE=12345\r\n");
  // A refused argument is an error code and adds no byte.
  CHECK(format_rcpt_to(out, "victim@example.org>\r\nDATA") == errc::control_character_in_argument);
  CHECK(out == "MAIL FROM:<bounce@example.org> SIZE=12345\r\n");
  //! [command]

  //! [encoder]
  body_encoder encoder;  // DATA: canonical line ends, dot-stuffing, one terminator
  std::string wire_body;
  CHECK(!encoder.encode("a\n.\nb", wire_body));  // a bare-LF smuggling attempt
  CHECK(!encoder.finish(wire_body));
  CHECK(wire_body == "a\r\n..\r\nb\r\n.\r\n");
  //! [encoder]
}
