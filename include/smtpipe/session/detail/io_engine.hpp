// smtpipe/session/detail/io_engine.hpp - The I/O of a session: command queue, replies, deadlines.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_DETAIL_IO_ENGINE_HPP
#define SMTPIPE_SESSION_DETAIL_IO_ENGINE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/protocol/body_encoder.hpp"
#include "smtpipe/protocol/reply.hpp"
#include "smtpipe/protocol/reply_parser.hpp"
#include "smtpipe/session/body_source.hpp"
#include "smtpipe/session/command_kind.hpp"
#include "smtpipe/session/session_options.hpp"
#include "smtpipe/session/transport.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

class session;

/// What to do with one reply: a function and two words of context, so that queueing a
/// command allocates nothing. `fn` may be null (the reply is only checked and observed).
struct reply_handler {
  using function = void (*)(session&, const reply&, void* context, std::size_t index);
  function fn = nullptr;
  void* context = nullptr;
  std::size_t index = 0;
};

namespace detail {

class transaction_ledger;

/// The I/O engine of one session: the output buffer of queued commands, the FIFO of replies
/// due with their handlers, the reply parser and the reader that feeds it, the watchdog of
/// deadlines, and the TLS upgrade. It pairs every reply with the oldest outstanding command,
/// strictly in order; bytes that arrive while no reply is due are a protocol error. Any
/// timeout, I/O or protocol error leaves it `broken()`: the connection is then dropped.
class io_engine {
 public:
  using clock = std::chrono::steady_clock;

  io_engine(session& owner, transport& io, const session_options& options,
            transaction_ledger& ledger)
      : owner_(owner),
        io_(io),
        options_(options),
        ledger_(ledger),
        parser_(options.replies),
        timer_(io.get_executor()),
        park_(io.get_executor()),
        tick_(options.timeouts.shortest()) {}
  ~io_engine();
  io_engine(const io_engine&) = delete;
  io_engine& operator=(const io_engine&) = delete;

  transport& io() noexcept { return io_; }
  const transport& io() const noexcept { return io_; }

  /// Out of step with the server (I/O, protocol, timeout...): drop without QUIT.
  bool broken() const noexcept { return broken_; }
  void set_broken() noexcept { broken_ = true; }
  /// A 421 arrived: the server closes the connection.
  bool closing() const noexcept { return closing_; }
  const reply& closing_reply() const noexcept { return closing_reply_; }
  bool quit_sent() const noexcept { return quit_sent_; }

  // ---- the command queue --------------------------------------------------------------------

  /// Appends the command `format(out)` makes and the handler of its reply; nothing is
  /// appended when `format` refuses. No I/O.
  template <class Format>
  std::error_code append(command_kind kind, reply_handler handler, int state_id, Format&& format) {
    const std::size_t mark = out_.size();
    if (auto ec = format(out_)) {
      out_.resize(mark);
      return ec;
    }
    if (options_.observer) log_.push_back({mark, out_.size() - mark, kind == command_kind::auth});
    pending_.push_back({handler, kind, state_id, false});
    if (kind == command_kind::quit) quit_sent_ = true;
    return {};
  }
  /// Appends bytes that get no reply.
  void append_raw(std::string_view bytes) { out_.append(bytes); }
  /// Writes everything queued in one write, then waits until every outstanding reply has
  /// arrived and its handler has run.
  asio::awaitable<void> flush() {
    if (!out_.empty()) co_await write_out(options_.timeouts.command);
    while (!broken_ && head_ < pending_.size()) co_await wait_for_reader();
  }

  /// Streams `body` (after a 354), dot-stuffed, then queues the final "." with `on_dot` as
  /// its handler; it leaves with the next flush.
  asio::awaitable<std::error_code> send_body(const body_source& body, reply_handler on_dot,
                                             int state_id);
  /// Sends `body` with BDAT (RFC 3030): canonical line ends without dot-stuffing (or the raw
  /// octets when `binary`), in chunks of `session_options::bdat_chunk_size` octets, each
  /// written as soon as it is full with `on_chunk` as its reply's handler; the last chunk,
  /// `BDAT n LAST` (`BDAT 0 LAST` for an empty body), is queued with `on_last` and leaves with
  /// the next flush, like DATA's final ".". Stops after a chunk is refused (`chunk_refused`).
  asio::awaitable<std::error_code> send_bdat(const body_source& body, bool binary,
                                             reply_handler on_chunk, reply_handler on_last,
                                             int state_id);
  /// A reply refused a BDAT chunk: no further chunk of this message is sent (RFC 3030 §4.2).
  void chunk_refused() noexcept { chunk_refused_ = true; }
  bool bdat_refused() const noexcept { return chunk_refused_; }
  /// Appends one more reply due to the last command appended (LMTP's replies to the end of
  /// data, RFC 2033 §4.2), with its handler; no bytes.
  void append_reply_only(command_kind kind, reply_handler handler, int state_id) {
    pending_.push_back({handler, kind, state_id, false});
  }
  /// Queues a lone "." (DATA got 354 but no recipient was accepted, RFC 2920 §3.1); with
  /// `expect_reply` false (LMTP, no recipient to report on) no reply is waited for.
  std::error_code append_empty_dot(int state_id, bool expect_reply = true) {
    in_body_ = false;
    if (!expect_reply) {
      append_raw(".\r\n");
      return {};
    }
    return append(command_kind::dot, {}, state_id, [](std::string& out) {
      out += ".\r\n";
      return std::error_code{};
    });
  }

  // ---- the life of the session ----------------------------------------------------------

  /// Makes the greeting the first reply due (handled by `on_greeting`) and starts the clock.
  void start(reply_handler on_greeting, int banner_id);
  /// Starts the reader (spawned, its end reported to `ended`) and the watchdog beside the
  /// states; both end after `stop()`.
  template <class Ended>
  void start_helpers(const asio::any_io_executor& executor, Ended ended) {
    helpers_ = 2;
    asio::co_spawn(executor, reader(), std::move(ended));
    watch();
  }
  /// Waits until the reader and the watchdog have ended.
  asio::awaitable<void> helpers_ended() {
    while (helpers_ > 0) co_await wait_for_wake();
  }
  void helper_ended() noexcept {
    --helpers_;
    wake();
  }
  void stop() noexcept;

  /// After a STARTTLS 220 (the reader is then paused): the TLS handshake over the same socket.
  /// Plaintext that followed the 220 fails (`tls_plaintext_injection`).
  asio::awaitable<std::error_code> start_tls(tls_provider& provider, std::string_view server_name);

 private:
  struct pending_reply {
    reply_handler handler;
    command_kind kind;
    int state_id;
    bool sent;
  };
  struct logged_command {
    std::size_t offset;
    std::size_t length;
    bool redact;
  };

  std::chrono::milliseconds timeout_for(command_kind k) const noexcept;
  void fail(std::error_code ec, std::string_view detail = {});
  void queue_chunk(std::size_t n, bool last, reply_handler handler, int state_id);
  asio::awaitable<void> write_out(std::chrono::milliseconds progress_timeout);
  asio::awaitable<void> wait_for_reader();
  /// Parks the states until `wake()` or `resume_states()` (or a cancellation) lets them go on.
  asio::awaitable<void> wait_for_wake();
  /// Lets the states waiting for replies go on, later (the waiter is posted).
  void wake() noexcept;
  /// The same, now: the reader calls it once its buffer is consumed, so that the states
  /// write the next group in this turn (one scheduler round and one poll less per group).
  void resume_states();
  /// Destroys a waiter no one will resume: the reader's frame is being destroyed unfinished
  /// (its io_context shuts down). The waiter owns the states' frames, and so the session.
  void drop_waiter() noexcept { waiter_.reset(); }
  /// A written command waits for its reply: bytes from the server are expected.
  bool reply_due() const noexcept { return head_ < pending_.size() && pending_[head_].sent; }
  void arm_read_deadline() noexcept {
    read_deadline_ =
        reply_due() ? clock::now() + timeout_for(pending_[head_].kind) : clock::time_point::max();
  }
  bool on_reply(const reply& r);
  struct reader_guard {
    io_engine& e;
    ~reader_guard();
  };
  asio::awaitable<void> reader();
  asio::awaitable<bool> park_reader();
  /// Checks the deadlines, then waits on the timer until the next one is due; ends (as a
  /// helper) once the session stops or a deadline has passed.
  void watch();

  session& owner_;
  transport& io_;
  const session_options& options_;
  transaction_ledger& ledger_;

  bool closing_ = false;
  bool broken_ = false;
  bool quit_sent_ = false;
  reply closing_reply_;

  // output
  std::string out_;
  std::vector<logged_command> log_;
  std::vector<pending_reply> pending_;
  std::size_t head_ = 0;  // oldest outstanding reply
  bool in_body_ = false;
  bool dot_queued_ = false;  // the final "." is in out_, not yet written
  std::size_t dot_end_ = 0;  // offset just past the "." in out_
  // BDAT: replies from this index of pending_ on are due only once the write that carries
  // their chunk is complete (a reply before that is early); npos when no chunk is queued.
  std::size_t hold_from_ = static_cast<std::size_t>(-1);
  bool chunk_refused_ = false;
  std::string chunk_;  // the BDAT chunk being filled
  body_reader body_;

  // input
  reply_parser parser_;
  // Replies are small: reads start with 512 bytes, allocated when the first read starts,
  // and the buffer doubles (to 8 KiB at most) after a read that fills it.
  std::vector<char> in_;
  std::size_t in_begin_ = 0, in_end_ = 0;
  bool stopped_ = false;
  bool reader_paused_ = false;
  bool plaintext_after_starttls_ = false;

  // time and waiting
  asio::steady_timer timer_, park_;
  using waiter = asio::async_result<asio::use_awaitable_t<>, void()>::handler_type;
  std::optional<waiter> waiter_;  // the states waiting in `wait_for_reader`
  bool resume_due_ = false;       // the reader owes them a resume
  int helpers_ = 0;
  clock::time_point read_deadline_ = clock::time_point::max();
  clock::time_point write_deadline_ = clock::time_point::max();
  clock::time_point session_deadline_ = clock::time_point::max();
  std::chrono::milliseconds tick_{};
};

}  // namespace detail
}  // namespace smtpipe

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_SESSION_DETAIL_IO_ENGINE_HPP
