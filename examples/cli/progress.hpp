// cli/progress.hpp - A progress line for a terminal: messages done, rate, failures, in place.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_PROGRESS_HPP
#define SMTPIPE_CLI_PROGRESS_HPP

#include "cli/output.hpp"

#include <smtpipe.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

namespace smtpipe_cli {

/// Watches the session and redraws one line ("\r...\x1b[K") on a terminal at most ten times
/// a second: messages finished of the total, the rate so far, and the refusals (RCPT or the
/// final reply to the data). Only installed when standard error is a terminal, so nothing of
/// it reaches a pipe or a log, and it costs no system call per message.
class progress_line : public smtpipe::session_observer {
 public:
  using clock = std::chrono::steady_clock;

  progress_line(int fd, std::size_t total)
      : fd_(fd), total_(total), start_(clock::now()), last_(start_) {}

  void state_entered(const smtpipe::session&, int id, std::string_view name) override {
    in_rcpt_ = name == "rcpt";
    in_data_ = name == "data";
    if (in_data_) data_id_ = id;
  }
  void state_left(const smtpipe::session&, int id, smtpipe::transition) override {
    if (id != data_id_) return;
    ++done_;
    const auto now = clock::now();
    if (now - last_ >= std::chrono::milliseconds(100)) draw(now);
  }
  void reply_received(const smtpipe::session&, const smtpipe::reply& r) override {
    if ((in_rcpt_ || in_data_) && r.code >= 400) ++failures_;
  }

  /// The last state of the line, then a line end; nothing when nothing was drawn.
  void finish() {
    if (drawn_) {
      draw(clock::now());
      write_all(fd_, "\n");
    }
  }

 private:
  void draw(clock::time_point now) {
    last_ = now;
    drawn_ = true;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    char line[160];
    const int n =
        std::snprintf(line, sizeof line, "\r%zu/%zu messages, %.0f msg/s, %zu refused\x1b[K", done_,
                      total_, seconds > 0 ? double(done_) / seconds : 0.0, failures_);
    if (n > 0)
      write_all(fd_, std::string_view(
                         line, std::size_t(n) < sizeof line ? std::size_t(n) : sizeof line - 1));
  }

  int fd_;
  std::size_t total_, done_ = 0, failures_ = 0;
  clock::time_point start_, last_;
  bool in_rcpt_ = false, in_data_ = false, drawn_ = false;
  int data_id_ = -1;
};

}  // namespace smtpipe_cli

#endif  // !SMTPIPE_CLI_PROGRESS_HPP
