// custom_state - One state type, used in a static pipeline and registered at runtime.
// SPDX-License-Identifier: BSL-1.0
//
// A state is a type with a `name` and a coroutine `run(session&)` returning a transition.
// This one, `noop_probe`, goes after EHLO and checks with NOOP that the server still answers
// before the first transaction (a 250 goes on, anything else ends the session).
//
//  - statically: `pipeline<insert_after<state_id::ehlo, noop_probe>>` is a type; the order
//    and the IDs are computed and checked at compile time.
//  - at runtime: `make_state<noop_probe>()` turns the same type into Momentum's
//    `smtp_state`, and `register_smtp_client_state` adds it to the process-wide machine that
//    `deliver` runs when it is given no pipeline.
// Both sessions hold the same conversation with the sink on loopback.
#include "support/demo_sink.hpp"

#include <smtpipe.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

//! [noop-probe]
struct noop_probe {
  static constexpr std::string_view name = "noop_probe";
  static constexpr smtpipe::stage stage = smtpipe::stage::after_ehlo;

  static bool applies(const smtpipe::session& s) { return s.esmtp(); }  // after a good EHLO

  asio::awaitable<smtpipe::transition> run(smtpipe::session& s) {
    if (auto ec = co_await s.exchange(smtpipe::command_kind::noop, smtpipe::format_noop))
      co_return s.fail_session(ec);
    const smtpipe::reply& r = s.last_reply();
    if (r.code != 250) co_return s.fail_session(r, smtpipe::errc::unexpected_reply);
    co_return smtpipe::transition::next();
  }
};
//! [noop-probe]

//! [static]
using static_pipeline =
    smtpipe::pipeline<smtpipe::insert_after<smtpipe::state_id::ehlo, noop_probe>>;
static_assert(static_pipeline::id_of<noop_probe>() == smtpipe::state_id::first_custom);
//! [static]

// Runs one delivery to completion; `Deliver` makes the awaitable.
template <class Deliver>
smtpipe::session_result run(asio::io_context& io, Deliver deliver) {
  smtpipe::session_result result;
  bool done = false;
  asio::co_spawn(io, deliver(), [&](std::exception_ptr e, smtpipe::session_result r) {
    if (e) std::rethrow_exception(e);
    result = std::move(r);
    done = true;
  });
  // The sink keeps waiting for its next connection: run until this delivery is done.
  io.restart();
  while (!done && io.run_one_for(std::chrono::seconds(20)) > 0) {}
  return result;
}

}  // namespace

int main() {
  asio::io_context io;
  smtpipe_examples::sink_config config;
  config.connections = 2;
  smtpipe_examples::demo_sink sink(io, config);
  sink.start();
  const std::string port = std::to_string(sink.port());

  std::vector<smtpipe::message> messages(1);
  messages[0].sender = "sender@example.org";
  messages[0].recipients = {"alice@example.net"};
  messages[0].body = smtpipe::body_source::view("Subject: one state, two pipelines\r\n\r\nHi.\r\n");
  smtpipe::transcript transcript(std::cout);
  smtpipe::session_options options;
  options.timeouts = options.timeouts.scaled(0.05);
  options.observer = &transcript;

  std::cout << "-- static pipeline<insert_after<state_id::ehlo, noop_probe>>\n";
  const static_pipeline pipeline;
  const auto r1 =
      run(io, [&] { return smtpipe::deliver("127.0.0.1", port, pipeline, messages, options); });

  std::cout << "\n-- register_smtp_client_state(make_state<noop_probe>(), state_id::ehlo)\n";
  //! [runtime]
  const smtpipe::smtp_state probe = smtpipe::make_state<noop_probe>();
  const int id = smtpipe::register_smtp_client_state(&probe, smtpipe::state_id::ehlo);
  //! [runtime]
  std::cout << "registered as state " << id << '\n';
  const auto r2 = run(io, [&] { return smtpipe::deliver("127.0.0.1", port, messages, options); });

  // Same conversation twice: EHLO, NOOP, then the transaction.
  const auto& commands = sink.record().commands;
  std::size_t noops = 0;
  for (std::size_t i = 1; i < commands.size(); ++i)
    if (commands[i] == "NOOP" && commands[i - 1].starts_with("EHLO")) ++noops;
  const bool ok = id == smtpipe::state_id::first_custom && r1.all_delivered() &&
                  r2.all_delivered() && noops == 2 && sink.record().messages.size() == 2;
  std::cout << '\n'
            << (ok ? "as expected: NOOP right after EHLO in both sessions\n"
                   : "unexpected outcome\n");
  return ok ? 0 : 1;
}
