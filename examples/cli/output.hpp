// cli/output.hpp - Output gathered in memory and written whole, one write(2) per flush.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_OUTPUT_HPP
#define SMTPIPE_CLI_OUTPUT_HPP

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace smtpipe_cli {

/// Writes all of `bytes` to `fd`, retrying short writes and EINTR; false on an error.
inline bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// Text for one file descriptor, kept in memory until `flush()` (or destruction) writes it
/// with as few system calls as the kernel allows: a line is never split across writes.
class buffered_output {
 public:
  explicit buffered_output(int fd) : fd_(fd) {}
  buffered_output(const buffered_output&) = delete;
  buffered_output& operator=(const buffered_output&) = delete;
  ~buffered_output() { flush(); }

  buffered_output& operator<<(std::string_view s) {
    text_.append(s);
    return *this;
  }
  buffered_output& operator<<(char c) {
    text_.push_back(c);
    return *this;
  }
  template <class Number>
  requires std::is_arithmetic_v<Number> buffered_output& operator<<(Number n) {
    text_.append(std::to_string(n));
    return *this;
  }

  bool empty() const noexcept { return text_.empty(); }
  void flush() {
    if (!text_.empty()) write_all(fd_, text_);
    text_.clear();
  }

 private:
  int fd_;
  std::string text_;
};

}  // namespace smtpipe_cli

#endif  // !SMTPIPE_CLI_OUTPUT_HPP
