// tests/interop/xclient_send.cpp - Delivers a file through the demo's custom states, for the
// interoperability tests: the XCLIENT state (registered at runtime) and, with --proxy, the PROXY
// protocol v1 header state (registered statically).
// SPDX-License-Identifier: BSL-1.0
//
//   interop-xclient-send [--xclient ATTR=VALUE]... [--proxy ADDR:PORT] [--helo NAME]
//                        HOST PORT SENDER RECIPIENT FILE
//
// Writes the transcript to stderr and one line per recipient to stdout:
// "<address> <status> <code> <state> <text>". Exits 0 when every recipient was delivered,
// 1 when not, 2 on bad arguments.
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

// The client the PROXY header speaks for, from --proxy.
asio::ip::tcp::endpoint proxied_client;
struct configured_origin {
  static asio::ip::tcp::endpoint source(smtpipe::session&) { return proxied_client; }
};
using proxy_pipeline = smtpipe::pipeline<
    smtpipe::insert_after<smtpipe::state_id::head, ex::proxy_header<configured_origin>>>;

struct arguments {
  std::vector<std::string> positional;
  ex::xclient_config xclient;
  bool proxy = false;
  std::string helo = "relay.example.org";
};

bool parse(int argc, char** argv, arguments& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--xclient" || arg == "--proxy" || arg == "--helo") && i + 1 == argc) return false;
    if (arg == "--xclient") {
      const std::string v = argv[++i];
      const auto eq = v.find('=');
      if (eq == v.npos) return false;
      a.xclient.attributes.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else if (arg == "--proxy") {
      const std::string v = argv[++i];
      const auto colon = v.rfind(':');
      if (colon == v.npos) return false;
      std::error_code ec;
      proxied_client = {asio::ip::make_address(v.substr(0, colon), ec),
                        static_cast<unsigned short>(std::stoul(v.substr(colon + 1)))};
      if (ec) return false;
      a.proxy = true;
    } else if (arg == "--helo") {
      a.helo = argv[++i];
    } else {
      a.positional.push_back(arg);
    }
  }
  return a.positional.size() == 5;
}

}  // namespace

int main(int argc, char** argv) try {
  arguments args;
  if (!parse(argc, argv, args)) {
    std::cerr << "usage: interop-xclient-send [--xclient ATTR=VALUE]... [--proxy ADDR:PORT] "
                 "[--helo NAME] HOST PORT SENDER RECIPIENT FILE\n";
    return 2;
  }
  // Static part: the PROXY header only when asked for. Runtime part: XCLIENT after EHLO.
  smtpipe::state_machine machine =
      args.proxy ? smtpipe::state_machine{proxy_pipeline{}} : smtpipe::state_machine{};
  if (!args.xclient.attributes.empty()) {
    const smtpipe::smtp_state st = ex::xclient_state(&args.xclient);
    if (machine.register_state(st, smtpipe::state_id::ehlo) < 0) {
      std::cerr << machine.last_error() << '\n';
      return 2;
    }
  }

  std::vector<smtpipe::message> messages(1);
  messages[0].sender = args.positional[2];
  messages[0].recipients = {args.positional[3]};
  messages[0].body = smtpipe::body_source::file(args.positional[4]);
  smtpipe::transcript transcript(std::cerr);
  smtpipe::session_options options;
  options.helo_name = args.helo;
  options.timeouts = options.timeouts.scaled(0.1);
  options.observer = &transcript;

  asio::io_context io;
  smtpipe::session_result result;
  bool done = false;
  asio::co_spawn(
      io, smtpipe::deliver(args.positional[0], args.positional[1], machine, messages, options),
      [&](std::exception_ptr e, smtpipe::session_result r) {
        if (e) std::rethrow_exception(e);
        result = std::move(r);
        done = true;
      });
  io.run_for(std::chrono::seconds(60));
  if (!done) {
    std::cerr << "interop-xclient-send: the session did not finish\n";
    return 1;
  }
  for (const auto& r : result.messages.at(0).recipients)
    std::cout << r.address << ' ' << smtpipe::to_string(r.status) << ' ' << r.code << ' '
              << (r.state.empty() ? "-" : r.state) << ' ' << r.text << '\n';
  if (result.error) std::cerr << "session error: " << result.error.message() << '\n';
  return result.all_delivered() ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "interop-xclient-send: " << e.what() << '\n';
  return 2;
}
