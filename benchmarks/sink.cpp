// benchmarks/sink.cpp - A minimal SMTP sink for the concurrency benchmark: one thread, epoll,
// thousands of connections, PIPELINING, and a "hold" mode that greets nobody until SIGUSR1,
// so that every client session can be counted idle before any of them becomes active.
//
//   smtpipe-bench-sink [--hold] [--port-file FILE] [--backlog N] PORT
//
// PORT 0 picks a free port (written to --port-file). Replies are batched: all the replies to
// the commands of one read leave in one write. Bodies are discarded as they stream by.
// SPDX-License-Identifier: BSL-1.0
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct connection {
  int fd = -1;
  bool greeted = false;
  bool in_data = false;
  int dot_match = 2;  // progress in "\r\n.\r\n"; 2 = just after a CRLF (start of the body)
  std::string line;   // a partial command line
  std::string out;    // replies not yet written (only when the socket was full)
};

constexpr std::string_view greeting = "220 sink.bench ESMTP\r\n";
constexpr std::string_view ehlo_reply =
    "250-sink.bench\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n";
constexpr std::string_view ok = "250 2.0.0 Ok\r\n";
constexpr std::string_view go_ahead = "354 End data with <CR><LF>.<CR><LF>\r\n";
constexpr std::string_view queued = "250 2.0.0 Ok: queued\r\n";
constexpr std::string_view bye = "221 2.0.0 Bye\r\n";
constexpr std::string_view unknown = "502 5.5.2 Error: command not recognized\r\n";

bool starts_with_ci(std::string_view line, std::string_view word) {
  if (line.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if ((line[i] | 0x20) != (word[i] | 0x20)) return false;
  return true;
}

// Feeds received bytes; appends replies to `out`. Returns false when the client said QUIT.
bool feed(connection& c, const char* p, std::size_t n, std::string& out) {
  static constexpr char terminator[] = "\r\n.\r\n";
  std::size_t i = 0;
  while (i < n) {
    if (c.in_data) {
      // Scan for CRLF.CRLF, keeping the match progress across reads.
      for (; i < n; ++i) {
        const char ch = p[i];
        if (ch == terminator[c.dot_match]) {
          if (++c.dot_match == 5) {
            ++i;
            c.in_data = false;
            c.dot_match = 2;
            out += queued;
            break;
          }
        } else {
          c.dot_match = ch == '\r' ? 1 : 0;
        }
      }
      continue;
    }
    const char* nl = static_cast<const char*>(std::memchr(p + i, '\n', n - i));
    if (!nl) {
      c.line.append(p + i, n - i);
      if (c.line.size() > 4096) c.line.clear();
      break;
    }
    std::string_view line;
    const std::size_t end = static_cast<std::size_t>(nl - p);
    if (c.line.empty()) {
      line = std::string_view(p + i, end - i);
    } else {
      c.line.append(p + i, end - i);
      line = c.line;
    }
    i = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (starts_with_ci(line, "EHLO") || starts_with_ci(line, "HELO")) {
      out += starts_with_ci(line, "EHLO") ? ehlo_reply : ok;
    } else if (starts_with_ci(line, "MAIL") || starts_with_ci(line, "RCPT") ||
               starts_with_ci(line, "RSET") || starts_with_ci(line, "NOOP")) {
      out += ok;
    } else if (starts_with_ci(line, "DATA")) {
      out += go_ahead;
      c.in_data = true;
      c.dot_match = 2;
    } else if (starts_with_ci(line, "QUIT")) {
      out += bye;
      c.line.clear();
      return false;
    } else {
      out += unknown;
    }
    c.line.clear();
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool hold = false;
  const char* port_file = nullptr;
  int backlog = 4096;
  int port = -1;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--hold") hold = true;
    else if (a == "--port-file" && i + 1 < argc) port_file = argv[++i];
    else if (a == "--backlog" && i + 1 < argc) backlog = std::atoi(argv[++i]);
    else port = std::atoi(argv[i]);
  }
  if (port < 0) {
    std::fprintf(stderr, "usage: %s [--hold] [--port-file FILE] [--backlog N] PORT\n", argv[0]);
    return 64;
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  const int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(lfd, backlog) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (port_file) {
    std::FILE* f = std::fopen(port_file, "w");
    if (f) {
      std::fprintf(f, "%d\n", ntohs(addr.sin_port));
      std::fclose(f);
    }
  }

  const int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = ~std::uint64_t{0};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  ev.data.u64 = ~std::uint64_t{0} - 1;
  epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);

  std::vector<std::unique_ptr<connection>> conns;  // by fd
  std::vector<int> held;
  std::vector<char> buffer(256 * 1024);
  std::vector<epoll_event> events(1024);
  std::string out;

  auto close_conn = [&](connection& c) {
    close(c.fd);
    conns[static_cast<std::size_t>(c.fd)].reset();
  };
  auto send_out = [&](connection& c, std::string_view data) -> bool {
    if (!c.out.empty()) {
      c.out.append(data);
      return true;
    }
    while (!data.empty()) {
      ssize_t w = send(c.fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c.out.assign(data);
        epoll_event e{};
        e.events = EPOLLIN | EPOLLOUT;
        e.data.u64 = static_cast<std::uint64_t>(c.fd);
        epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &e);
        return true;
      }
      if (w < 0) return false;
      data.remove_prefix(static_cast<std::size_t>(w));
    }
    return true;
  };

  for (;;) {
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("epoll_wait");
      return 1;
    }
    for (int k = 0; k < n; ++k) {
      const std::uint64_t tag = events[static_cast<std::size_t>(k)].data.u64;
      if (tag == ~std::uint64_t{0}) {
        for (;;) {
          const int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          if (conns.size() <= static_cast<std::size_t>(fd))
            conns.resize(static_cast<std::size_t>(fd) + 1024);
          auto& c = conns[static_cast<std::size_t>(fd)];
          c = std::make_unique<connection>();
          c->fd = fd;
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.u64 = static_cast<std::uint64_t>(fd);
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
          if (hold) {
            held.push_back(fd);
          } else {
            c->greeted = true;
            if (!send_out(*c, greeting)) close_conn(*c);
          }
        }
        continue;
      }
      if (tag == ~std::uint64_t{0} - 1) {
        signalfd_siginfo si{};
        while (read(sfd, &si, sizeof si) == sizeof si) {
          if (si.ssi_signo != SIGUSR1) return 0;
          hold = false;
          for (int fd : held) {
            auto& c = conns[static_cast<std::size_t>(fd)];
            if (!c) continue;
            c->greeted = true;
            if (!send_out(*c, greeting)) close_conn(*c);
          }
          held.clear();
          held.shrink_to_fit();
        }
        continue;
      }
      const int fd = static_cast<int>(tag);
      auto& cp = conns[static_cast<std::size_t>(fd)];
      if (!cp) continue;
      connection& c = *cp;
      if (events[static_cast<std::size_t>(k)].events & EPOLLOUT) {
        std::string pending = std::move(c.out);
        c.out.clear();
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.u64 = static_cast<std::uint64_t>(fd);
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
        if (!send_out(c, pending)) {
          close_conn(c);
          continue;
        }
      }
      if (!(events[static_cast<std::size_t>(k)].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      const ssize_t r = recv(fd, buffer.data(), buffer.size(), 0);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) {
        close_conn(c);
        continue;
      }
      out.clear();
      const bool go_on = feed(c, buffer.data(), static_cast<std::size_t>(r), out);
      if (!out.empty() && !c.greeted) out.clear();  // bytes before the greeting: ignored
      if ((!out.empty() && !send_out(c, out)) || !go_on) close_conn(c);
    }
  }
}
