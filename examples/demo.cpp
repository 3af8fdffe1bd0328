// demo - smtpipe's pipeline of states at work, against a server started on loopback.
// SPDX-License-Identifier: BSL-1.0
//
// The client is the ten built-in states plus two custom ones:
//  - `proxy_header` (examples/support/proxy_header.hpp), registered *statically*: a
//    `pipeline<insert_after<state_id::head, ...>>` type, checked and ordered at compile time.
//    It writes a PROXY protocol v1 line before the server's greeting is read.
//  - `xclient` (examples/support/xclient.hpp), registered *at runtime* on a `state_machine`
//    built from that pipeline, Momentum style. After EHLO it sends XCLIENT when offered,
//    expects 220, and jumps back to EHLO, which the server requires after XCLIENT.
// One message goes to two recipients; the server refuses one, so the results differ per
// recipient. The program prints the conversation and the results, checks them, and exits 0
// when everything went as expected.
#include "support/demo_sink.hpp"
#include "support/proxy_header.hpp"
#include "support/xclient.hpp"

#include <smtpipe.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

namespace ex = smtpipe_examples;

/// The client the PROXY header speaks for: an address from TEST-NET-1 (RFC 5737).
struct original_client {
  static asio::ip::tcp::endpoint source(smtpipe::session&) {
    return {asio::ip::make_address("192.0.2.10"), 40123};
  }
};

/// The static part: the built-in states and the PROXY header before the banner.
//! [demo-static]
using demo_pipeline = smtpipe::pipeline<
    smtpipe::insert_after<smtpipe::state_id::head, ex::proxy_header<original_client>>>;
static_assert(demo_pipeline::order()[0] == smtpipe::state_id::first_custom);
//! [demo-static]

constexpr std::string_view body =
    "From: Demo Sender <sender@example.org>\n"
    "To: alice@example.net, nobody@example.net\n"
    "Subject: smtpipe demo\n"
    "\n"
    "Hello from the pipeline.\n"
    ".A line that starts with a dot is stuffed on the wire and restored by the server.\n";

void print_order(const smtpipe::state_machine& machine) {
  std::cout << "pipeline:";
  for (int id : machine.order())
    std::cout << ' ' << machine.get_state(id)->name << '(' << id << ')';
  std::cout << "\n\n";
}

smtpipe::session_result run(asio::io_context& io, const smtpipe::state_machine& machine,
                            unsigned short port, const std::vector<smtpipe::message>& messages,
                            smtpipe::session_observer& observer) {
  smtpipe::session_options options;
  options.helo_name = "relay.example.org";
  options.timeouts = options.timeouts.scaled(0.05);  // seconds, not minutes, on loopback
  options.observer = &observer;
  smtpipe::session_result result;
  bool done = false;
  asio::co_spawn(io,
                 smtpipe::deliver("127.0.0.1", std::to_string(port), machine, messages, options),
                 [&](std::exception_ptr e, smtpipe::session_result r) {
                   if (e) std::rethrow_exception(e);
                   result = std::move(r);
                   done = true;
                 });
  io.run_for(std::chrono::seconds(30));
  if (!done) throw std::runtime_error("the session did not finish in 30 s");
  return result;
}

void print_results(const smtpipe::session_result& result) {
  std::cout << "\nresults:\n";
  for (const auto& r : result.messages.at(0).recipients) {
    std::cout << "  " << r.address << ": " << smtpipe::to_string(r.status) << ", " << r.code << ' '
              << r.enhanced.to_string() << " \"" << r.text << "\" (decided in " << r.state << ")\n";
  }
}

int failures = 0;
void expect(bool ok, const std::string& what) {
  std::cout << (ok ? "  ok:     " : "  FAILED: ") << what << '\n';
  if (!ok) ++failures;
}

}  // namespace

int main() try {
  asio::io_context io;
  ex::sink_config config;
  config.expect_proxy = true;
  config.refuse = {"nobody@example.net"};
  config.log = &std::cout;
  ex::demo_sink sink(io, config);
  sink.start();

  // The runtime part: XCLIENT after EHLO, registered on a machine that starts as the
  // static pipeline. `attributes` must outlive the registration: it is kept by pointer.
  //! [demo-runtime]
  smtpipe::state_machine machine{demo_pipeline{}};
  static const ex::xclient_config attributes{
      {{"NAME", "client.example.org"}, {"ADDR", "192.0.2.10"}}};
  const smtpipe::smtp_state xclient = ex::xclient_state(&attributes);
  if (machine.register_state(xclient, smtpipe::state_id::ehlo) < 0) {
    std::cerr << "demo: " << machine.last_error() << '\n';
    return 1;
  }
  //! [demo-runtime]
  print_order(machine);

  std::vector<smtpipe::message> messages(1);
  messages[0].sender = "sender@example.org";
  messages[0].recipients = {"alice@example.net", "nobody@example.net"};
  messages[0].body = smtpipe::body_source::view(body);

  smtpipe::transcript transcript(std::cout);
  const smtpipe::session_result result = run(io, machine, sink.port(), messages, transcript);
  print_results(result);

  std::cout << "\nchecks:\n";
  const auto& rs = result.messages.at(0).recipients;
  const auto& seen = sink.record();
  expect(!result.error, "the session ended without error");
  expect(rs.at(0).status == smtpipe::delivery_status::delivered && rs.at(0).state == "data",
         "alice@example.net delivered, decided by the reply to the final \".\"");
  expect(rs.at(1).status == smtpipe::delivery_status::permanent && rs.at(1).code == 550 &&
             rs.at(1).state == "rcpt",
         "nobody@example.net refused for good (550) by its RCPT");
  expect(seen.proxy_lines.size() == 1 &&
             seen.proxy_lines[0] ==
                 "PROXY TCP4 192.0.2.10 127.0.0.1 40123 " + std::to_string(sink.port()),
         "one PROXY header, before the greeting, naming 192.0.2.10:40123");
  expect(seen.xclient_lines.size() == 1 &&
             seen.xclient_lines[0] == "XCLIENT NAME=client.example.org ADDR=192.0.2.10",
         "XCLIENT sent exactly once");
  expect(seen.ehlo_count == 2, "EHLO sent again after XCLIENT");
  std::string canonical;
  for (char c : body) canonical += c == '\n' ? std::string("\r\n") : std::string(1, c);
  expect(seen.messages.size() == 1 && seen.messages[0].data == canonical,
         "the server received the body exactly, in canonical form");
  std::cout << (failures ? "\ndemo: unexpected outcome\n" : "\ndemo: all as expected\n");
  return failures ? 1 : 0;
} catch (const std::exception& e) {
  std::cerr << "demo: " << e.what() << '\n';
  return 1;
}
