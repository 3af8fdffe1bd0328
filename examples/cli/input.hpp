// cli/input.hpp - The message from standard input, read once: in memory, or spooled and mapped.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_INPUT_HPP
#define SMTPIPE_CLI_INPUT_HPP

#include <smtpipe.hpp>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace smtpipe_cli {

/// The message read from a file descriptor exactly once. Up to `memory_limit` octets it stays
/// in memory; a larger message is copied to a temporary file that no other process can open
/// (unlinked at once) and mapped, so every copy sent with `-n` reads the same pages: no file
/// is opened, read or closed per copy. `body()` views the bytes; the input outlives the
/// session.
class message_input {
 public:
  static constexpr std::size_t memory_limit = 1024 * 1024;
  static constexpr std::size_t chunk = 64 * 1024;

  message_input() = default;
  message_input(const message_input&) = delete;
  message_input& operator=(const message_input&) = delete;
  ~message_input() { release(); }

  /// Reads `fd` to its end; with `dot_ends` (sendmail without -i) a line holding a single "."
  /// ends the message instead, and is not part of it. An error message on failure.
  std::optional<std::string> read(int fd, bool dot_ends) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        static_cast<std::size_t>(st.st_size) < memory_limit)
      memory_.reserve(static_cast<std::size_t>(st.st_size) + 1);  // one read and the EOF
    std::size_t size = 0;                                         // octets held in memory_
    std::size_t written = 0;  // octets already in the spool file, before memory_'s
    int spool = -1;           // the temporary file, once the message outgrew memory
    for (;;) {
      if (memory_.size() < size + chunk) memory_.resize(size + chunk);
      const ssize_t n = ::read(fd, memory_.data() + size, memory_.size() - size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        return fail(spool, std::string("cannot read standard input: ") + std::strerror(errno));
      if (n == 0) break;
      const std::size_t end =
          dot_ends ? scan_for_dot(std::string_view(memory_.data() + size, std::size_t(n)))
                   : std::string_view::npos;
      size += std::size_t(n);
      if (end != std::string_view::npos) {  // the "." line may have begun in the spool file
        if (end < written && ::ftruncate(spool, static_cast<off_t>(end)) != 0)
          return fail(spool,
                      std::string("cannot truncate the spool file: ") + std::strerror(errno));
        size = end > written ? end - written : 0;
      }
      if (spool < 0 && size > memory_limit) {
        if (auto error = open_spool(spool)) return fail(spool, *error);
      }
      if (spool >= 0 && size > 0) {  // the file takes what memory holds; memory one chunk
        if (!write_fd(spool, std::string_view(memory_.data(), size)))
          return fail(spool, std::string("cannot write the spool file: ") + std::strerror(errno));
        written += size;
        size = 0;
      }
      if (end != std::string_view::npos) break;
    }
    if (spool < 0) {
      memory_.resize(size);
      return std::nullopt;
    }
    memory_.clear();
    memory_.shrink_to_fit();
    return map(spool);
  }

  std::string_view bytes() const noexcept {
    return map_ ? std::string_view(static_cast<const char*>(map_), map_size_) : memory_;
  }
  bool mapped() const noexcept { return map_ != nullptr; }

  /// The message, borrowed: `this` must outlive every session that sends it.
  smtpipe::body_source body() const { return smtpipe::body_source::view(bytes()); }

  /// Replaces the first `old_length` octets by `head` (headers edited by sendmail mode).
  std::optional<std::string> replace_head(std::size_t old_length, std::string_view head) {
    if (!map_) {
      memory_.replace(0, old_length, head);
      return std::nullopt;
    }
    int spool = -1;
    if (auto error = open_spool(spool)) return fail(spool, *error);
    if (!write_fd(spool, head) || !write_fd(spool, bytes().substr(old_length)))
      return fail(spool, std::string("cannot write the spool file: ") + std::strerror(errno));
    release();
    return map(spool);
  }

 private:
  // The offset from the start of the input where a line holding only "." begins (the
  // message ends there), or npos; `data` continues what earlier calls saw.
  std::size_t scan_for_dot(std::string_view data) {
    for (const char c : data) {
      const std::size_t offset = scanned_++;
      switch (dot_state_) {
        case 0:  // at a line start
          line_start_ = offset;
          dot_state_ = c == '.' ? 1 : c == '\n' ? 0 : 3;
          break;
        case 1: dot_state_ = c == '\n' ? 4 : c == '\r' ? 2 : 3; break;  // "."
        case 2: dot_state_ = c == '\n' ? 4 : 3; break;                  // ".\r"
        default: dot_state_ = c == '\n' ? 0 : 3; break;                 // inside a line
      }
      if (dot_state_ == 4) return line_start_;
    }
    return std::string_view::npos;
  }

  static std::optional<std::string> open_spool(int& fd) {
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir && *dir ? dir : "/tmp") + "/smtpipe-send.XXXXXX";
    fd = ::mkstemp(path.data());
    if (fd < 0) return "cannot create a temporary file in " + path + ": " + std::strerror(errno);
    ::unlink(path.c_str());
    return std::nullopt;
  }

  static bool write_fd(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t w = ::write(fd, bytes.data(), bytes.size());
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(w));
    }
    return true;
  }

  std::optional<std::string> map(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
      return fail(fd, std::string("cannot stat the spool file: ") + std::strerror(errno));
    void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
      return fail(fd, std::string("cannot map the spool file: ") + std::strerror(errno));
    ::close(fd);  // the mapping keeps the file
    map_ = p;
    map_size_ = static_cast<std::size_t>(st.st_size);
    return std::nullopt;
  }

  static std::string fail(int fd, std::string message) {
    if (fd >= 0) ::close(fd);
    return message;
  }

  void release() noexcept {
    if (map_) ::munmap(map_, map_size_);
    map_ = nullptr;
    map_size_ = 0;
  }

  std::string memory_;
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  int dot_state_ = 0;
  std::size_t scanned_ = 0, line_start_ = 0;
};

}  // namespace smtpipe_cli

#endif  // !SMTPIPE_CLI_INPUT_HPP
