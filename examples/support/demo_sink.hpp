// examples/support/demo_sink.hpp - A small SMTP server on loopback for the demo and examples.
// SPDX-License-Identifier: BSL-1.0
//
// Enough of a server to show the client at work without a network: it reads an optional
// PROXY protocol v1 line before its greeting, advertises PIPELINING and XCLIENT, takes
// XCLIENT (then wants a new EHLO), MAIL, RCPT (refusing the addresses it is told to), DATA,
// RSET, NOOP and QUIT, prints what it receives, and records it for the examples to check.
// One Asio coroutine per connection; input is read line by line from one buffer, so
// pipelined commands are answered in order. Not a real server: no limits beyond a line cap.
#ifndef SMTPIPE_EXAMPLES_DEMO_SINK_HPP
#define SMTPIPE_EXAMPLES_DEMO_SINK_HPP

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace smtpipe_examples {

struct sink_config {
  bool expect_proxy = false;        ///< Read a PROXY v1 line before sending the greeting.
  bool pipelining = true;           ///< Advertise PIPELINING.
  bool xclient = true;              ///< Advertise and accept XCLIENT.
  std::vector<std::string> refuse;  ///< RCPT addresses answered 550 5.1.1.
  std::ostream* log = nullptr;      ///< Where to print what arrives; null: silent.
  std::size_t connections = 1;      ///< Connections to serve before the sink stops.
};

/// What the sink received, for the examples to check.
struct sink_record {
  struct mail {
    std::string from;
    std::vector<std::string> to;  ///< Accepted recipients only.
    std::string data;             ///< The message as received, dot-unstuffed, CRLF line ends.
  };
  std::vector<std::string> proxy_lines;    ///< PROXY headers, without CRLF.
  std::vector<std::string> xclient_lines;  ///< XCLIENT commands.
  std::size_t ehlo_count = 0;
  std::vector<std::string> commands;  ///< Every command line, in order.
  std::vector<mail> messages;         ///< Messages accepted with 250.
};

class demo_sink {
 public:
  using tcp = asio::ip::tcp;

  demo_sink(asio::io_context& io, sink_config config)
      : config_(std::move(config)),
        acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}),
        port_(acceptor_.local_endpoint().port()) {}

  unsigned short port() const { return port_; }
  const sink_record& record() const { return record_; }

  /// Serves `config.connections` connections, one after the other, then closes.
  void start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached); }

 private:
  static constexpr std::size_t max_line = 64 * 1024;

  struct connection {
    tcp::socket socket;
    std::string in;  // bytes read, not yet consumed
    bool ehlo = false;
    std::optional<sink_record::mail> tx;
  };

  asio::awaitable<void> accept_loop() {
    using asio::experimental::as_tuple;
    for (std::size_t served = 0; served < config_.connections; ++served) {
      auto [ec, socket] = co_await acceptor_.async_accept(as_tuple(asio::use_awaitable));
      if (ec) break;
      connection c{std::move(socket), {}, false, std::nullopt};
      co_await serve(c);
    }
    std::error_code ignored;
    acceptor_.close(ignored);
  }

  void print(std::string_view what) {
    if (config_.log) *config_.log << "  [sink] " << what << '\n';
  }

  asio::awaitable<std::optional<std::string>> read_line(connection& c) {
    using asio::experimental::as_tuple;
    auto [ec, n] = co_await asio::async_read_until(c.socket, asio::dynamic_buffer(c.in, max_line),
                                                   "\r\n", as_tuple(asio::use_awaitable));
    if (ec) co_return std::nullopt;
    std::string line = c.in.substr(0, n - 2);  // without CRLF
    c.in.erase(0, n);
    co_return line;
  }

  asio::awaitable<bool> reply(connection& c, std::string text) {
    using asio::experimental::as_tuple;
    auto [ec, n] =
        co_await asio::async_write(c.socket, asio::buffer(text), as_tuple(asio::use_awaitable));
    co_return !ec;
  }

  static std::string upper(std::string_view s) {
    std::string u(s);
    std::transform(u.begin(), u.end(), u.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
    return u;
  }
  // The address between angle brackets after "FROM:" / "TO:".
  static std::string path_of(std::string_view line) {
    const auto open = line.find('<'), close = line.find('>');
    if (open == line.npos || close == line.npos || close < open) return {};
    return std::string(line.substr(open + 1, close - open - 1));
  }

  asio::awaitable<void> serve(connection& c) {
    if (config_.expect_proxy) {
      auto header = co_await read_line(c);
      if (!header || !header->starts_with("PROXY ")) {
        print("no PROXY header: closing");
        co_return;
      }
      record_.proxy_lines.push_back(*header);
      print("received " + *header);
    }
    if (!co_await reply(c, "220 demo-sink ESMTP ready\r\n")) co_return;
    for (;;) {
      auto line = co_await read_line(c);
      if (!line) co_return;
      record_.commands.push_back(*line);
      const std::string verb = upper(std::string_view(*line).substr(0, line->find(' ')));
      std::string answer;
      if (verb == "EHLO") {
        ++record_.ehlo_count;
        c.ehlo = true;
        c.tx.reset();
        answer = "250-demo-sink\r\n";
        if (config_.pipelining) answer += "250-PIPELINING\r\n";
        if (config_.xclient) answer += "250-XCLIENT NAME ADDR HELO\r\n";
        answer += "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n";
      } else if (verb == "HELO") {
        c.ehlo = true;
        answer = "250 demo-sink\r\n";
      } else if (verb == "XCLIENT" && config_.xclient) {  // like Postfix: offered again after
        record_.xclient_lines.push_back(*line);
        print("received " + *line + " (a new EHLO is due)");
        c.ehlo = false;  // XCLIENT starts the session over
        c.tx.reset();
        answer = "220 demo-sink ESMTP ready (XCLIENT accepted)\r\n";
      } else if (!c.ehlo && (verb == "MAIL" || verb == "RCPT" || verb == "DATA")) {
        answer = "503 5.5.1 Error: send EHLO first\r\n";
      } else if (verb == "MAIL") {
        c.tx = sink_record::mail{path_of(*line), {}, {}};
        answer = "250 2.1.0 Ok\r\n";
      } else if (verb == "RCPT") {
        const std::string to = path_of(*line);
        if (!c.tx) {
          answer = "503 5.5.1 Error: need MAIL command\r\n";
        } else if (std::find(config_.refuse.begin(), config_.refuse.end(), to) !=
                   config_.refuse.end()) {
          print("refusing recipient <" + to + ">");
          answer = "550 5.1.1 <" + to + ">: Recipient address rejected: no such user\r\n";
        } else {
          c.tx->to.push_back(to);
          answer = "250 2.1.5 Ok\r\n";
        }
      } else if (verb == "DATA") {
        if (!c.tx || c.tx->to.empty()) {
          answer = "554 5.5.1 Error: no valid recipients\r\n";
        } else {
          if (!co_await reply(c, "354 End data with <CR><LF>.<CR><LF>\r\n")) co_return;
          if (!co_await read_data(c)) co_return;
          record_.messages.push_back(std::move(*c.tx));
          const auto& m = record_.messages.back();
          std::string to;
          for (const auto& r : m.to) to += " <" + r + ">";
          print("message " + std::to_string(record_.messages.size()) + " from <" + m.from + "> to" +
                to + ": " + std::to_string(m.data.size()) + " octets");
          c.tx.reset();
          answer =
              "250 2.0.0 Ok: queued as DEMO" + std::to_string(record_.messages.size()) + "\r\n";
        }
      } else if (verb == "RSET") {
        c.tx.reset();
        answer = "250 2.0.0 Ok\r\n";
      } else if (verb == "NOOP") {
        answer = "250 2.0.0 Ok\r\n";
      } else if (verb == "QUIT") {
        (void)co_await reply(c, "221 2.0.0 Bye\r\n");
        co_return;
      } else {
        answer = "502 5.5.2 Error: command not recognized\r\n";
      }
      if (!co_await reply(c, std::move(answer))) co_return;
    }
  }

  // Reads message data up to the lone ".", undoing the dot-stuffing.
  asio::awaitable<bool> read_data(connection& c) {
    for (;;) {
      auto line = co_await read_line(c);
      if (!line) co_return false;
      if (*line == ".") co_return true;
      c.tx->data += std::string_view(*line).substr(line->starts_with('.') ? 1 : 0);
      c.tx->data += "\r\n";
    }
  }

  sink_config config_;
  tcp::acceptor acceptor_;
  unsigned short port_;
  sink_record record_;
};

}  // namespace smtpipe_examples

#endif  // !SMTPIPE_EXAMPLES_DEMO_SINK_HPP
