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
#include <sstream>
#include <stdexcept>
#include <string>

#include "common.hpp"

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
  peer::options o;
  if (!peer::parse(argc, argv, o, " [--nagle]")) return 64;
  peer::run_sessions(o, [&](long n) { session(o.port, n, o.body, !o.nagle); });
  return delivered == o.count ? 0 : 1;
}
