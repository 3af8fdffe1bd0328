// benchmarks/smtpipe_bench.cpp - The smtpipe side of the whole-process comparisons.
//
//   smtpipe-bench --port P --count N --sessions C --body FILE [--no-pipelining] [--runtime]
//                 [--release-pid PID] [--threads T] [--no-chunking]
//
// Connects C sockets to 127.0.0.1:P one after the other, then runs C sessions on ONE
// io_context (one thread), N messages in all, each session reusing its connection. With
// --threads T, T io_contexts each run by its own thread share the sessions round-robin. The
// pipeline is the default one plus a `probe` state at the head that counts sessions started
// (`--runtime`: the same pipeline as a runtime state_machine). With --release-pid the sink is
// holding its greetings: when every session waits for its banner, the user memory (RSS) is
// sampled, then the sink is told to go on with SIGUSR1 and the clock starts. Prints one JSON
// object: messages delivered, wall seconds, RSS before and while idle, failures.
// SPDX-License-Identifier: BSL-1.0
#include <smtpipe.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

long heap_bytes() { return static_cast<long>(mallinfo2().uordblks); }

long rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

struct bench_state {
  long sessions = 0;
  std::atomic<long> started{0};
  std::atomic<long> finished{0};
  std::atomic<long> delivered{0};
  std::atomic<long> failed_recipients{0};
  std::atomic<long> session_errors{0};
  std::mutex mutex;  // first_error
  std::string first_error;
  pid_t release_pid = 0;
  long rss_before = 0;
  long rss_idle = 0;
  long heap_before = 0;
  long heap_idle = 0;
  std::chrono::steady_clock::time_point t0;
  asio::io_context* io = nullptr;

  void all_idle() {
    rss_idle = rss_kib();
    heap_idle = heap_bytes();
    if (release_pid > 0) kill(release_pid, SIGUSR1);
    t0 = std::chrono::steady_clock::now();
  }
};

bench_state bench;

/// Counts the sessions that have started; the last one to start samples the memory (after
/// every handler queued so far, so that each session is waiting for its greeting).
struct probe {
  static constexpr std::string_view name = "probe";
  asio::awaitable<smtpipe::transition> run(smtpipe::session&) {
    if (++bench.started == bench.sessions && bench.release_pid > 0)
      asio::post(*bench.io, [] { bench.all_idle(); });
    co_return smtpipe::transition::next();
  }
};

using bench_pipeline = smtpipe::pipeline<smtpipe::insert_after<smtpipe::state_id::head, probe>>;

// What each session reports when it ends. The session is spawned with this as its
// completion handler: no coroutine of the benchmark's own is kept per session.
void tally(std::exception_ptr failure, const smtpipe::session_result& r) {
  for (const auto& m : r.messages)
    for (const auto& rr : m.recipients) {
      if (rr.status == smtpipe::delivery_status::delivered) ++bench.delivered;
      else ++bench.failed_recipients;
    }
  if (failure || r.error) {
    ++bench.session_errors;
    std::lock_guard lock(bench.mutex);
    if (bench.first_error.empty())
      bench.first_error = failure ? "exception" : r.error.message() + ": " + r.error_text;
  }
  ++bench.finished;
}

template <class Pipeline>
asio::awaitable<void> start_all(asio::ip::tcp::endpoint ep, const Pipeline& pipeline,
                                const std::vector<smtpipe::message>& messages, long count,
                                smtpipe::session_options options,
                                std::vector<std::unique_ptr<asio::io_context>>& contexts) {
  std::vector<asio::ip::tcp::socket> sockets;
  sockets.reserve(static_cast<std::size_t>(bench.sessions));
  for (long s = 0; s < bench.sessions; ++s) {
    asio::ip::tcp::socket socket(*contexts[static_cast<std::size_t>(s) % contexts.size()]);
    co_await socket.async_connect(ep, asio::use_awaitable);
    sockets.push_back(std::move(socket));
  }
  if (bench.release_pid <= 0) bench.t0 = std::chrono::steady_clock::now();
  for (long s = 0; s < bench.sessions; ++s) {
    const long n = count / bench.sessions + (s < count % bench.sessions ? 1 : 0);
    std::span<const smtpipe::message> mine(messages.data(), static_cast<std::size_t>(n));
    auto& socket = sockets[static_cast<std::size_t>(s)];
    auto ex = socket.get_executor();
    asio::co_spawn(ex, smtpipe::run_session(std::move(socket), pipeline, mine, options), tally);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  long count = 1;
  std::string body_path;
  bool pipelining = true, runtime = false, chunking = true;
  long threads = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--port") port = std::atoi(v), ++i;
    else if (a == "--count") count = std::atol(v), ++i;
    else if (a == "--sessions") bench.sessions = std::atol(v), ++i;
    else if (a == "--body") body_path = v, ++i;
    else if (a == "--release-pid") bench.release_pid = std::atoi(v), ++i;
    else if (a == "--threads") threads = std::atol(v), ++i;
    else if (a == "--no-pipelining") pipelining = false;
    else if (a == "--runtime") runtime = true;
    else if (a == "--no-chunking") chunking = false;
  }
  std::ifstream f(body_path, std::ios::binary);
  if (!port || !f || bench.sessions < 1 || count < 0 || threads < 1) {
    std::fprintf(stderr,
                 "usage: %s --port P --count N --sessions C --body FILE [--no-pipelining] "
                 "[--runtime] [--release-pid PID] [--threads T] [--no-chunking]\n",
                 argv[0]);
    return 64;
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string body = ss.str();

  // Every session sends a prefix of the same messages: nothing per session but the session.
  const long per_session = count / bench.sessions + (count % bench.sessions ? 1 : 0);
  std::vector<smtpipe::message> messages(static_cast<std::size_t>(per_session));
  for (auto& m : messages) {
    m.sender = "sender@example.org";
    m.recipients = {"rcpt@example.net"};
    m.body = smtpipe::body_source::view(body);
  }
  smtpipe::session_options options;
  options.helo_name = "bench.example.org";
  options.pipelining = pipelining;
  options.chunking = chunking;  // BDAT where the server offers CHUNKING (Postfix does)

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  for (long t = 0; t < threads; ++t) contexts.push_back(std::make_unique<asio::io_context>(1));
  asio::io_context& io = *contexts[0];
  bench.io = &io;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& c : contexts) guards.push_back(asio::make_work_guard(*c));
  bench.rss_before = rss_kib();
  bench.heap_before = heap_bytes();
  const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"),
                                   static_cast<unsigned short>(port));
  const bench_pipeline static_pipeline;
  const smtpipe::state_machine machine{static_pipeline};
  auto all_spawned = [&guards](std::exception_ptr) {
    for (auto& g : guards) g.reset();  // every session is spawned: run until they end
  };
  if (runtime)
    asio::co_spawn(io, start_all(ep, machine, messages, count, options, contexts), all_spawned);
  else
    asio::co_spawn(io, start_all(ep, static_pipeline, messages, count, options, contexts),
                   all_spawned);
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < contexts.size(); ++t)
    pool.emplace_back([&c = *contexts[t]] { c.run(); });
  io.run();
  for (auto& t : pool) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - bench.t0).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf(
      "{\"client\": \"smtpipe\", \"messages\": %ld, \"delivered\": %ld, \"failed\": %ld, "
      "\"session_errors\": %ld, \"seconds\": %.6f, \"sessions\": %ld, \"rss_before_kib\": %ld, "
      "\"rss_idle_kib\": %ld, \"rss_max_kib\": %ld, \"heap_before\": %ld, \"heap_idle\": %ld, "
      "\"first_error\": \"%s\"}\n",
      count, bench.delivered.load(), bench.failed_recipients.load(), bench.session_errors.load(),
      seconds, bench.sessions, bench.rss_before, bench.rss_idle, ru.ru_maxrss, bench.heap_before,
      bench.heap_idle, bench.first_error.c_str());
  return bench.delivered == count && bench.finished == bench.sessions ? 0 : 1;
}
