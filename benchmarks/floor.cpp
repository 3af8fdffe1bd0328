// benchmarks/floor.cpp - The floor: the smallest pipelined SMTP client over blocking sockets.
//
//   smtpipe-bench-floor --port P --count N --sessions C --body FILE
//
// One thread per connection. After EHLO, the first MAIL, RCPT and DATA leave in one write;
// then, in steady state, each message is ONE write: its body (already canonical, CRLF lines,
// no line starting with "."), its ".", and the next message's MAIL, RCPT and DATA (or QUIT),
// as RFC 2920 allows; the replies of that group are read together. No validation, no
// dot-stuffing, no result bookkeeping: the least work a client can do on the wire, against
// which every other client is measured. Exits 1 if any reply is not what it expects.
// SPDX-License-Identifier: BSL-1.0
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <string_view>

#include "peers/common.hpp"

namespace {

std::atomic<bool> failed{false};

void fail(const char* what) {
  std::fprintf(stderr, "floor: %s\n", what);
  failed = true;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t w = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (w <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(w));
  }
  return true;
}

// Reads until `count` complete replies arrived; checks the first digit of each against
// `expect` (one char per reply). Multi-line replies count once (their last line).
bool read_replies(int fd, std::string& buf, std::string_view expect) {
  std::size_t done = 0, pos = 0;
  buf.clear();
  char chunk[4096];
  while (done < expect.size()) {
    const std::size_t nl = buf.find('\n', pos);
    if (nl == std::string::npos) {
      const ssize_t r = recv(fd, chunk, sizeof chunk, 0);
      if (r <= 0) return false;
      buf.append(chunk, static_cast<std::size_t>(r));
      continue;
    }
    if (nl - pos >= 4 && buf[pos + 3] == ' ') {
      if (buf[pos] != expect[done]) return false;
      ++done;
    }
    pos = nl + 1;
  }
  return true;
}

void session(int port, long count, const std::string& body) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail("connect");
  std::string in;
  const std::string envelope =
      "MAIL FROM:<sender@example.org>\r\nRCPT TO:<rcpt@example.net>\r\nDATA\r\n";
  if (!read_replies(fd, in, "2")) return fail("greeting");
  if (!write_all(fd, "EHLO floor.example.org\r\n") || !read_replies(fd, in, "2"))
    return fail("EHLO");
  if (count > 0 && (!write_all(fd, envelope) || !read_replies(fd, in, "223")))
    return fail("envelope");
  std::string out;
  for (long i = 0; i < count; ++i) {
    out.assign(body);
    out += ".\r\n";
    const bool last = i + 1 == count;
    out += last ? std::string_view("QUIT\r\n") : std::string_view(envelope);
    if (!write_all(fd, out) || !read_replies(fd, in, last ? "22" : "2223")) return fail("message");
  }
  if (count == 0 && (!write_all(fd, "QUIT\r\n") || !read_replies(fd, in, "2"))) return fail("QUIT");
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  peer::options o;
  if (!peer::parse(argc, argv, o)) return 64;
  // o.body is canonical: CRLF lines, ending in CRLF, none starting with ".".
  peer::run_sessions(o, [&](long n) { session(o.port, n, o.body); });
  return failed ? 1 : 0;
}
