// tests/support/script_server.hpp - A scripted SMTP server on loopback for session tests.
// SPDX-License-Identifier: BSL-1.0
//
// Plays a script of steps against one client connection, in the style of Exim's test
// `server`: send bytes (whole, split into segments, one byte per write, with delays), expect
// a line by prefix, swallow a DATA body up to its terminator, stay silent, close. Every byte
// the client sent is captured, with the size of each read, so tests assert on the wire.
#ifndef SMTPIPE_TESTS_SUPPORT_SCRIPT_SERVER_HPP
#define SMTPIPE_TESTS_SUPPORT_SCRIPT_SERVER_HPP

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpipe::test {

using namespace std::chrono_literals;

class script_server {
 public:
  using duration = std::chrono::milliseconds;

  explicit script_server(asio::io_context& io)
      : io_(io), acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {}

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string port_string() const { return std::to_string(port()); }

  // ---- building the script --------------------------------------------------------------

  /// Sends `bytes`: in one write, or in writes of `segment` bytes `gap` apart.
  script_server& send(std::string bytes, std::size_t segment = 0, duration gap = 0ms) {
    steps_.push_back({step::send, std::move(bytes), segment, gap});
    return *this;
  }
  /// Reads one line (up to LF) and checks that it starts with `prefix` (case-sensitive).
  script_server& expect(std::string prefix) {
    steps_.push_back({step::expect, std::move(prefix), 0, 0ms});
    return *this;
  }
  /// Reads one line like `expect`, then sends what `reply(line)` returns (the line without
  /// its CRLF): a server that computes its answer, e.g. checks a SASL response.
  script_server& answer(std::string prefix, std::function<std::string(const std::string&)> reply) {
    steps_.push_back({step::expect, std::move(prefix), 0, 0ms, {}, {}, std::move(reply)});
    return *this;
  }
  /// Reads message data up to and including "\r\n.\r\n" and keeps it in `bodies()`.
  script_server& expect_data() {
    steps_.push_back({step::expect_data, {}, 0, 0ms});
    return *this;
  }
  // Pieces every conversation repeats.
  /// Sends `greeting`, expects EHLO and answers `ehlo_reply`.
  script_server& greet(std::string greeting, std::string ehlo_reply) {
    return send(std::move(greeting)).expect("EHLO").send(std::move(ehlo_reply));
  }
  /// Expects a pipelined MAIL, RCPT, DATA group (its replies come next).
  script_server& expect_group() { return expect("MAIL").expect("RCPT").expect("DATA"); }
  /// One recipient in lock-step: MAIL, RCPT, DATA each accepted, then the message data,
  /// whose final "." gets `final_reply`.
  script_server& lockstep_message(std::string final_reply) {
    return expect("MAIL")
        .send("250 ok\r\n")
        .expect("RCPT")
        .send("250 ok\r\n")
        .expect("DATA")
        .send("354 go\r\n")
        .expect_data()
        .send(std::move(final_reply));
  }
  /// Expects QUIT and says goodbye.
  script_server& quit() { return expect("QUIT").send("221 bye\r\n"); }
  /// Reads exactly `n` octets (a BDAT chunk) into `bodies()`.
  script_server& expect_octets(std::size_t n) {
    steps_.push_back({step::expect_octets, {}, n, 0ms});
    return *this;
  }
  /// Waits `d` without reading.
  script_server& sleep(duration d) {
    steps_.push_back({step::sleep, {}, 0, d});
    return *this;
  }
  /// Fails if the client sends any byte within `d`.
  script_server& expect_silence(duration d) {
    steps_.push_back({step::silence, {}, 0, d});
    return *this;
  }
  /// Expects the client to close the connection (EOF) within `d`, reading whatever comes.
  script_server& expect_close(duration d = 5000ms) {
    steps_.push_back({step::expect_close, {}, 0, d});
    return *this;
  }
  /// Closes the connection.
  script_server& close() {
    steps_.push_back({step::close, {}, 0, 0ms});
    return *this;
  }
  /// Sends `unit` again and again, up to `limit` octets in all, until the client closes the
  /// connection (which ends the step quietly): an endless reply.
  script_server& flood(std::string unit, std::size_t limit) {
    steps_.push_back({step::flood, std::move(unit), limit, 0ms});
    return *this;
  }
  /// Runs `f()` at this point of the script (e.g. to check the client's state).
  script_server& call(std::function<void()> f) {
    steps_.push_back({step::call, {}, 0, 0ms, std::move(f)});
    return *this;
  }

  /// What the server reads and writes through after `upgrade` (e.g. TLS).
  struct stream {
    using io_result = std::pair<std::error_code, std::size_t>;
    virtual ~stream() = default;
    virtual asio::awaitable<io_result> read_some(asio::mutable_buffer buffer) = 0;
    virtual asio::awaitable<io_result> write(asio::const_buffer buffer) = 0;
  };
  /// Turns the connection into a `stream` (a TLS handshake); null and `error` set on failure.
  using upgrade_fn = std::function<asio::awaitable<std::unique_ptr<stream>>(asio::ip::tcp::socket&,
                                                                            std::string& error)>;
  /// From here on, talks through what `f` makes of the connection (tests/support/tls_server.hpp).
  script_server& upgrade(upgrade_fn f) {
    steps_.push_back({step::upgrade, {}, 0, 0ms, {}, std::move(f)});
    return *this;
  }

  /// An `upgrade` the client must refuse (e.g. a certificate it does not trust): fails the
  /// script if `f` succeeds; otherwise the script goes on (e.g. with `next_connection`).
  script_server& upgrade_refused(upgrade_fn f) {
    steps_.push_back({step::upgrade, {}, 1, 0ms, {}, std::move(f)});
    return *this;
  }

  /// Ends this connection (if still open) and plays the rest of the script on the next one.
  script_server& next_connection() {
    steps_.push_back({step::accept, {}, 0, 0ms});
    return *this;
  }

  /// Caps the receive buffer (and so the TCP window) of the connection still to be accepted,
  /// so that a server that stops reading blocks the client's writes quickly.
  script_server& receive_buffer(int octets) {
    acceptor_.set_option(asio::socket_base::receive_buffer_size(octets));
    return *this;
  }
  /// Stops waiting for a connection (for tests where the client must not connect).
  void stop_accepting() {
    stopped_ = true;
    std::error_code ignored;
    acceptor_.close(ignored);
  }

  // ---- results ----------------------------------------------------------------------------

  /// Every byte the client sent, in order.
  const std::string& received() const { return received_; }
  /// The size of each read that returned data: one client write usually arrives as one read
  /// on loopback, so pipelined groups show up as one large read.
  const std::vector<std::size_t>& reads() const { return reads_; }
  /// Lines received, without their CRLF (message data excluded).
  const std::vector<std::string>& lines() const { return lines_; }
  /// Message data received by `expect_data` (terminator included) and `expect_octets`.
  const std::vector<std::string>& bodies() const { return bodies_; }
  /// Script mismatches; empty when the client behaved as scripted.
  const std::vector<std::string>& failures() const { return failures_; }
  bool finished() const { return finished_; }
  /// Whether a client connected at all.
  bool connected() const { return connected_; }
  /// How many connections the script has served.
  int connections() const { return connected_ ? connections_ : 0; }

  /// Accepts one connection and plays the script; spawned on the server's io_context.
  void start() { asio::co_spawn(io_, play(), asio::detached); }

 private:
  struct step {
    enum kind {
      send,
      expect,
      expect_data,
      expect_octets,
      sleep,
      silence,
      expect_close,
      close,
      call,
      flood,
      upgrade,
      accept
    };
    kind what;
    std::string bytes;
    std::size_t size;
    duration time;
    std::function<void()> fn = {};
    upgrade_fn up = {};
    std::function<std::string(const std::string&)> reply = {};  // `answer`
  };

  asio::awaitable<stream::io_result> read_some(asio::ip::tcp::socket& socket,
                                               asio::mutable_buffer b) {
    if (stream_) co_return co_await stream_->read_some(b);
    auto [ec, n] =
        co_await socket.async_read_some(b, asio::experimental::as_tuple(asio::use_awaitable));
    co_return stream::io_result{ec, n};
  }
  asio::awaitable<stream::io_result> write(asio::ip::tcp::socket& socket, asio::const_buffer b) {
    if (stream_) co_return co_await stream_->write(b);
    auto [ec, n] =
        co_await asio::async_write(socket, b, asio::experimental::as_tuple(asio::use_awaitable));
    co_return stream::io_result{ec, n};
  }

  // Reads more bytes into buffer_; false on EOF or error (eof_ set) or after `deadline`.
  asio::awaitable<bool> fill(asio::ip::tcp::socket& socket, duration deadline) {
    using namespace asio::experimental::awaitable_operators;
    using asio::experimental::as_tuple;
    // Never read again after EOF: with edge-triggered epoll a second read can wait forever.
    if (eof_) co_return false;
    char chunk[65536];
    asio::steady_timer timer(socket.get_executor());
    timer.expires_after(deadline);
    auto outcome = co_await (read_some(socket, asio::buffer(chunk)) ||
                             timer.async_wait(as_tuple(asio::use_awaitable)));
    if (outcome.index() == 1) co_return false;
    auto [ec, n] = std::get<0>(outcome);
    if (ec) {
      eof_ = true;
      co_return false;
    }
    reads_.push_back(n);
    received_.append(chunk, n);
    buffer_.append(chunk, n);
    co_return true;
  }

  asio::awaitable<void> play() {
    using asio::experimental::as_tuple;
    auto [aec, socket] = co_await acceptor_.async_accept(as_tuple(asio::use_awaitable));
    if (aec) {
      if (!stopped_) failures_.push_back("accept: " + aec.message());
      co_return;
    }
    connected_ = true;
    // Every send step leaves in segments of exactly the size the script asks for.
    socket.set_option(asio::ip::tcp::no_delay(true));
    const duration patience = 10000ms;  // a step that waits longer has failed
    for (const step& s : steps_) {
      switch (s.what) {
        case step::send: {
          const std::size_t seg = s.size ? s.size : s.bytes.size();
          for (std::size_t i = 0; i < s.bytes.size(); i += seg) {
            auto [ec, n] = co_await write(
                socket, asio::buffer(s.bytes.data() + i, std::min(seg, s.bytes.size() - i)));
            if (ec) {
              failures_.push_back("send failed: " + ec.message());
              co_return;
            }
            if (s.time.count() && i + seg < s.bytes.size()) co_await pause(s.time);
          }
          break;
        }
        case step::expect: {
          std::size_t lf;
          while ((lf = buffer_.find('\n')) == std::string::npos)
            if (!co_await fill(socket, patience)) {
              failures_.push_back("expected '" + s.bytes + "', got " + (eof_ ? "EOF" : "nothing"));
              co_return;
            }
          std::string line = buffer_.substr(0, lf + 1);
          buffer_.erase(0, lf + 1);
          while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
          lines_.push_back(line);
          if (line.compare(0, s.bytes.size(), s.bytes) != 0) {
            failures_.push_back("expected '" + s.bytes + "', got '" + line + "'");
            co_return;
          }
          if (s.reply) {
            const std::string bytes = s.reply(line);
            auto [ec, n] = co_await write(socket, asio::buffer(bytes));
            if (ec) {
              failures_.push_back("send failed: " + ec.message());
              co_return;
            }
          }
          break;
        }
        case step::expect_data: {
          std::size_t end;
          // Data may start with ".\r\n" (empty body) or contain the terminator at its end.
          while ((end = find_terminator()) == std::string::npos)
            if (!co_await fill(socket, patience)) {
              failures_.push_back("expected message data, got " +
                                  std::string(eof_ ? "EOF" : "nothing"));
              co_return;
            }
          bodies_.push_back(buffer_.substr(0, end));
          buffer_.erase(0, end);
          break;
        }
        case step::expect_octets: {
          while (buffer_.size() < s.size)
            if (!co_await fill(socket, patience)) {
              failures_.push_back("expected " + std::to_string(s.size) + " octets");
              co_return;
            }
          bodies_.push_back(buffer_.substr(0, s.size));
          buffer_.erase(0, s.size);
          break;
        }
        case step::sleep: co_await pause(s.time); break;
        case step::silence: {
          if (!buffer_.empty() || co_await fill(socket, s.time)) {
            failures_.push_back("expected silence, got '" + buffer_ + "'");
            co_return;
          }
          if (eof_) {
            failures_.push_back("expected silence, got EOF");
            co_return;
          }
          break;
        }
        case step::expect_close: {
          const auto until = std::chrono::steady_clock::now() + s.time;
          while (co_await fill(socket, std::chrono::duration_cast<duration>(
                                           until - std::chrono::steady_clock::now())))
            ;
          if (!eof_) failures_.push_back("expected the client to close the connection");
          break;
        }
        case step::close: {
          std::error_code ignored;
          socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
          socket.close(ignored);
          finished_ = true;
          co_return;
        }
        case step::call: s.fn(); break;
        case step::accept: {
          std::error_code ignored;
          socket.close(ignored);
          stream_.reset();
          buffer_.clear();
          eof_ = false;
          auto [next_ec, next] = co_await acceptor_.async_accept(as_tuple(asio::use_awaitable));
          if (next_ec) {
            failures_.push_back("accept: " + next_ec.message());
            co_return;
          }
          socket = std::move(next);
          socket.set_option(asio::ip::tcp::no_delay(true));
          ++connections_;
          break;
        }
        case step::upgrade: {
          std::string error;
          stream_ = co_await s.up(socket, error);
          if (s.size == 1) {  // upgrade_refused
            if (stream_) {
              failures_.push_back("upgrade succeeded, expected the client to refuse it");
              co_return;
            }
            break;
          }
          if (!stream_) {
            failures_.push_back("upgrade failed: " + error);
            co_return;
          }
          break;
        }
        case step::flood: {
          for (std::size_t sent = 0; sent < s.size; sent += s.bytes.size()) {
            auto [ec, n] = co_await write(socket, asio::buffer(s.bytes));
            if (ec) break;  // the client gave up: what the step is for
          }
          break;
        }
      }
    }
    finished_ = true;
    // Keep reading until the client closes, so that late bytes are captured.
    while (co_await fill(socket, patience)) {}
  }

  std::size_t find_terminator() const {
    if (buffer_.compare(0, 3, ".\r\n") == 0) return 3;
    const std::size_t at = buffer_.find("\r\n.\r\n");
    return at == std::string::npos ? at : at + 5;
  }

  asio::awaitable<void> pause(duration d) {
    asio::steady_timer t(io_);
    t.expires_after(d);
    co_await t.async_wait(asio::use_awaitable);
  }

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<step> steps_;
  std::string buffer_, received_;
  std::vector<std::size_t> reads_;
  std::vector<std::string> lines_, bodies_, failures_;
  bool eof_ = false;
  bool finished_ = false;
  bool connected_ = false;
  bool stopped_ = false;
  std::unique_ptr<stream> stream_;
  int connections_ = 1;
};

}  // namespace smtpipe::test

#endif  // !SMTPIPE_TESTS_SUPPORT_SCRIPT_SERVER_HPP
