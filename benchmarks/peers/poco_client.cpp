// benchmarks/peers/poco_client.cpp - Poco::Net::SMTPClientSession as a peer.
//
//   smtpipe-bench-poco --port P --count N --sessions C --body FILE
//
// One thread per connection; each sends its share of N messages over one SMTPClientSession
// (login = EHLO, sendAddresses = MAIL and RCPT, sendCommand("DATA"), sendMessage(stream) = the
// body as is and the final "."), lock-step, as Poco does. TCP_NODELAY is set on the socket:
// without it a body over ~1 KiB stalls on Nagle's algorithm and delayed ACKs (40 ms a message).
// SPDX-License-Identifier: BSL-1.0
#include <Poco/Net/SMTPClientSession.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

std::atomic<long> delivered{0};

void session(int port, long count, const std::string& body, bool nodelay) {
  try {
    Poco::Net::StreamSocket socket;
    socket.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
    socket.setNoDelay(nodelay);
    Poco::Net::SMTPClientSession smtp(socket);
    smtp.login("poco.example.org");
    Poco::Net::SMTPClientSession::Recipients rcpts{"rcpt@example.net"};
    std::string response;
    for (long i = 0; i < count; ++i) {
      smtp.sendAddresses("sender@example.org", rcpts);
      const int status = smtp.sendCommand("DATA", response);
      if (status != 354) throw std::runtime_error("DATA: " + response);
      std::istringstream in(body);
      smtp.sendMessage(in);
      ++delivered;
    }
    smtp.close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "poco: %s\n", e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  long count = 1, sessions = 1;
  bool nodelay = true;
  std::string body_path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--port") port = std::atoi(v), ++i;
    else if (a == "--count") count = std::atol(v), ++i;
    else if (a == "--sessions") sessions = std::atol(v), ++i;
    else if (a == "--body") body_path = v, ++i;
    else if (a == "--nagle") nodelay = false;
  }
  std::ifstream f(body_path, std::ios::binary);
  if (!port || !f || sessions < 1) {
    std::fprintf(stderr, "usage: %s --port P --count N --sessions C --body FILE [--nagle]\n", argv[0]);
    return 64;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string body = ss.str();
  std::vector<std::thread> threads;
  for (long s = 0; s < sessions; ++s)
    threads.emplace_back(session, port, count / sessions + (s < count % sessions ? 1 : 0),
                         std::cref(body), nodelay);
  for (auto& t : threads) t.join();
  return delivered == count ? 0 : 1;
}
