// benchmarks/dispatch.cpp - The cost of one state transition, four ways, same conversation.
//
// The conversation: banner, ehlo, then M times mail, rcpt, data, rset (rset jumps back to mail
// while messages remain), then quit, which closes. Each state is a coroutine that does no I/O:
// it counts itself and returns `next()`, `jump(mail)` or `close()`. The "+10" variants insert
// ten pass-through states after rcpt, so that every message goes through 14 states.
//
// - static:  smtpipe's real runner loop (`detail::run_states`) over `detail::static_table<P>`;
// - runtime: the same loop over `detail::runtime_table` (a `state_machine` built from P);
// - switch:  a hand-written coroutine with a `switch` over the state number;
// - virtual: a chain of objects with a virtual `run`, indexed by position.
// The states are the same types in all four. The session the runner needs is a real
// `smtpipe::session` over an unconnected socket: nothing is read or written.
// SPDX-License-Identifier: BSL-1.0
#include <smtpipe.hpp>

#include <benchmark/benchmark.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <memory>
#include <vector>

namespace {

using smtpipe::transition;

struct conversation {
  long messages = 100;  // M
  long left = 0;
  long transitions = 0;
  int mail_target = 0;  // what rset jumps to: an ID (smtpipe) or a position (hand-written)
};
conversation conv;

#define BENCH_PASS_STATE(type)                           \
  struct type {                                          \
    static constexpr std::string_view name = #type;      \
    asio::awaitable<transition> run(smtpipe::session&) { \
      ++conv.transitions;                                \
      co_return transition::next();                      \
    }                                                    \
  };
BENCH_PASS_STATE(x_banner)
BENCH_PASS_STATE(x_ehlo)
BENCH_PASS_STATE(x_mail)
BENCH_PASS_STATE(x_rcpt)
BENCH_PASS_STATE(x_data)
BENCH_PASS_STATE(p0)
BENCH_PASS_STATE(p1)
BENCH_PASS_STATE(p2)
BENCH_PASS_STATE(p3)
BENCH_PASS_STATE(p4)
BENCH_PASS_STATE(p5)
BENCH_PASS_STATE(p6)
BENCH_PASS_STATE(p7)
BENCH_PASS_STATE(p8)
BENCH_PASS_STATE(p9)
#undef BENCH_PASS_STATE

struct x_rset {
  static constexpr std::string_view name = "x_rset";
  asio::awaitable<transition> run(smtpipe::session&) {
    ++conv.transitions;
    if (--conv.left > 0) co_return transition::jump(conv.mail_target);
    co_return transition::next();
  }
};
struct x_quit {
  static constexpr std::string_view name = "x_quit";
  asio::awaitable<transition> run(smtpipe::session&) {
    ++conv.transitions;
    co_return transition::close();
  }
};

using namespace smtpipe;
using P0 = pipeline<
    insert_after<state_id::head, group<x_banner, x_ehlo, x_mail, x_rcpt, x_data, x_rset, x_quit>>>;
using P10 = pipeline<insert_after<
    state_id::head, group<x_banner, x_ehlo, x_mail, x_rcpt,
                          group<p0, p1, p2, p3, p4, p5, p6, p7, p8, p9>, x_data, x_rset, x_quit>>>;

// ---- the hand-written switch -----------------------------------------------------------------

template <bool Ten>
asio::awaitable<void> run_switch(session& s) {
  x_banner banner;
  x_ehlo ehlo;
  x_mail mail;
  x_rcpt rcpt;
  x_data data;
  x_rset rset;
  x_quit quit;
  p0 a0;
  p1 a1;
  p2 a2;
  p3 a3;
  p4 a4;
  p5 a5;
  p6 a6;
  p7 a7;
  p8 a8;
  p9 a9;
  enum : int {
    s_banner,
    s_ehlo,
    s_mail,
    s_rcpt,
    s_p0,
    s_p1,
    s_p2,
    s_p3,
    s_p4,
    s_p5,
    s_p6,
    s_p7,
    s_p8,
    s_p9,
    s_data,
    s_rset,
    s_quit
  };
  int st = s_banner;
  for (;;) {
    transition t = transition::next();
    switch (st) {
      case s_banner: t = co_await banner.run(s); break;
      case s_ehlo: t = co_await ehlo.run(s); break;
      case s_mail: t = co_await mail.run(s); break;
      case s_rcpt:
        t = co_await rcpt.run(s);
        if (!Ten) st = s_p9;
        break;
      case s_p0: t = co_await a0.run(s); break;
      case s_p1: t = co_await a1.run(s); break;
      case s_p2: t = co_await a2.run(s); break;
      case s_p3: t = co_await a3.run(s); break;
      case s_p4: t = co_await a4.run(s); break;
      case s_p5: t = co_await a5.run(s); break;
      case s_p6: t = co_await a6.run(s); break;
      case s_p7: t = co_await a7.run(s); break;
      case s_p8: t = co_await a8.run(s); break;
      case s_p9: t = co_await a9.run(s); break;
      case s_data: t = co_await data.run(s); break;
      case s_rset: t = co_await rset.run(s); break;
      case s_quit: t = co_await quit.run(s); break;
    }
    switch (t.what()) {
      case transition::kind::next: ++st; break;
      case transition::kind::jump: st = t.target(); break;
      default: co_return;
    }
  }
}

// ---- the virtual-call chain --------------------------------------------------------------------

struct vstate {
  virtual ~vstate() = default;
  virtual asio::awaitable<transition> run(session& s) = 0;
};
template <class S>
struct vimpl final : vstate {
  S st;
  asio::awaitable<transition> run(session& s) override { return st.run(s); }
};
template <class... S>
std::vector<std::unique_ptr<vstate>> make_chain() {
  std::vector<std::unique_ptr<vstate>> chain;
  (chain.push_back(std::make_unique<vimpl<S>>()), ...);
  return chain;
}

asio::awaitable<void> run_virtual(session& s, const std::vector<std::unique_ptr<vstate>>& chain) {
  std::size_t position = 0;
  while (position < chain.size()) {
    const transition t = co_await chain[position]->run(s);
    switch (t.what()) {
      case transition::kind::next: ++position; break;
      case transition::kind::jump: position = static_cast<std::size_t>(t.target()); break;
      default: co_return;
    }
  }
}

// ---- the harness -------------------------------------------------------------------------------

// One session for all the conversations of a benchmark: a real smtpipe::session over a
// socket that is never connected.
struct harness {
  asio::io_context io{1};
  transport t{asio::ip::tcp::socket(io, asio::ip::tcp::v4())};
  session_options options;
  session s{t, options, std::span<const message>{}};
};

template <class Run>
void measure(benchmark::State& state, int mail_target, Run run) {
  harness h;
  conv.messages = state.range(0);
  conv.mail_target = mail_target;
  conv.transitions = 0;
  asio::co_spawn(
      h.io,
      [&]() -> asio::awaitable<void> {
        for (auto _ : state) {
          conv.left = conv.messages;
          co_await run(h.s);
        }
      },
      asio::detached);
  h.io.run();
  // Per iteration (one conversation), and the CPU time of one transition.
  state.counters["transitions_per_iteration"] =
      static_cast<double>(conv.transitions) / static_cast<double>(state.iterations());
  state.counters["per_transition"] =
      benchmark::Counter(static_cast<double>(conv.transitions),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <class P>
void bm_static(benchmark::State& state) {
  const detail::static_table<P> table;
  measure(state, P::template id_of<x_mail>(),
          [&](session& s) { return detail::run_states(s, table); });
}
template <class P>
void bm_runtime(benchmark::State& state) {
  const state_machine machine{P{}};
  const detail::runtime_table table(machine.current());
  measure(state, P::template id_of<x_mail>(),
          [&](session& s) { return detail::run_states(s, table); });
}
template <bool Ten>
void bm_switch(benchmark::State& state) {
  measure(state, 2, [](session& s) { return run_switch<Ten>(s); });
}
template <bool Ten>
void bm_virtual(benchmark::State& state) {
  const auto chain = Ten ? make_chain<x_banner, x_ehlo, x_mail, x_rcpt, p0, p1, p2, p3, p4, p5, p6,
                                      p7, p8, p9, x_data, x_rset, x_quit>()
                         : make_chain<x_banner, x_ehlo, x_mail, x_rcpt, x_data, x_rset, x_quit>();
  measure(state, 2, [&](session& s) { return run_virtual(s, chain); });
}

}  // namespace

BENCHMARK(bm_static<P0>)->Name("dispatch/static/+0")->Arg(100);
BENCHMARK(bm_runtime<P0>)->Name("dispatch/runtime/+0")->Arg(100);
BENCHMARK(bm_switch<false>)->Name("dispatch/switch/+0")->Arg(100);
BENCHMARK(bm_virtual<false>)->Name("dispatch/virtual/+0")->Arg(100);
BENCHMARK(bm_static<P10>)->Name("dispatch/static/+10")->Arg(100);
BENCHMARK(bm_runtime<P10>)->Name("dispatch/runtime/+10")->Arg(100);
BENCHMARK(bm_switch<true>)->Name("dispatch/switch/+10")->Arg(100);
BENCHMARK(bm_virtual<true>)->Name("dispatch/virtual/+10")->Arg(100);

BENCHMARK_MAIN();
