// benchmarks/peers/common.hpp - What the C++ clients of the benchmarks share: the command line
// (--port P --count N --sessions C --body FILE) and one thread per session, each sending its
// share of the messages.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_BENCHMARKS_PEERS_COMMON_HPP
#define SMTPIPE_BENCHMARKS_PEERS_COMMON_HPP

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace peer {

struct options {
  int port = 0;
  long count = 1;
  long sessions = 1;
  bool nagle = false;  // --nagle: leave TCP_NODELAY off (where the client offers it)
  std::string body;    // the file's bytes, as they are
};

/// Parses the command line and reads the body file. On a missing port or file, or fewer than
/// one session, prints the usage (with `more_usage` after it) and returns false.
inline bool parse(int argc, char** argv, options& o, const char* more_usage = "") {
  std::string body_path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--nagle") {
      o.nagle = true;
      continue;
    }
    const char* v = ++i < argc ? argv[i] : "";  // every other option takes a value
    if (a == "--port") o.port = std::atoi(v);
    if (a == "--count") o.count = std::atol(v);
    if (a == "--sessions") o.sessions = std::atol(v);
    if (a == "--body") body_path = v;
  }
  std::ifstream f(body_path, std::ios::binary);
  if (!o.port || !f || o.sessions < 1) {
    std::fprintf(stderr, "usage: %s --port P --count N --sessions C --body FILE%s\n", argv[0],
                 more_usage);
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  o.body = ss.str();
  return true;
}

/// Runs `session(n)` on one thread per session, n being that session's share of the messages
/// (the first ones send one more when they do not divide evenly), and waits for all of them.
template <class Session>
void run_sessions(const options& o, Session session) {
  std::vector<std::thread> threads;
  for (long s = 0; s < o.sessions; ++s)
    threads.emplace_back(session, o.count / o.sessions + (s < o.count % o.sessions ? 1 : 0));
  for (auto& t : threads) t.join();
}

}  // namespace peer

#endif  // !SMTPIPE_BENCHMARKS_PEERS_COMMON_HPP
