// A program outside the repository: includes <smtpipe.hpp>, builds a pipeline, refuses a bad
// address before connecting, and exits 0.
#include <smtpipe.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <cstdio>

struct hello {
  static constexpr std::string_view name = "hello";
  asio::awaitable<smtpipe::transition> run(smtpipe::session&) {
    co_return smtpipe::transition::next();
  }
};

int main() {
  using P = smtpipe::pipeline<smtpipe::insert_after<smtpipe::state_id::ehlo, hello>>;
  static_assert(P::id_of<hello>() == 10);
  smtpipe::message m;
  m.sender = "bad\r\naddress@example.org";
  m.recipients = {"user@example.org"};
  std::vector<smtpipe::message> messages{m};
  asio::io_context io;
  smtpipe::session_result result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        // Port 9 on loopback: never reached, because validation refuses the message first.
        result = co_await smtpipe::deliver("127.0.0.1", "9", P{}, messages);
      },
      asio::detached);
  io.run();
  const bool ok = result.error == smtpipe::errc::control_character_in_argument;
  std::printf("consumer: %s\n", ok ? "refused before connecting" : result.error.message().c_str());
  return ok ? 0 : 1;
}
