// smtpipe/session/body_source.hpp - Where a message body comes from: memory or a file, streamed.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SESSION_BODY_SOURCE_HPP
#define SMTPIPE_SESSION_BODY_SOURCE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

namespace smtpipe {

/// Reads one body from its start, chunk by chunk. Made by `body_source::open`.
class body_reader {
 public:
  static constexpr std::size_t file_chunk = 64 * 1024;

  body_reader() = default;
  body_reader(body_reader&&) noexcept = default;
  body_reader& operator=(body_reader&&) noexcept = default;
  ~body_reader() = default;

  /// Sets `chunk` to the next bytes (at most `max` octets); an empty chunk means the end.
  /// Views stay valid until the next call.
  std::error_code next(std::string_view& chunk, std::size_t max = file_chunk) {
    if (file_) {
      buffer_.resize(std::min(max, file_chunk));
      std::size_t n = std::fread(buffer_.data(), 1, buffer_.size(), file_.get());
      if (n == 0 && std::ferror(file_.get())) return errc::body_read_failed;
      chunk = std::string_view(buffer_.data(), n);
      return {};
    }
    chunk = memory_.substr(0, max);
    memory_.remove_prefix(chunk.size());
    return {};
  }

 private:
  friend class body_source;
  struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::string_view memory_;
  std::unique_ptr<std::FILE, file_closer> file_;
  std::string buffer_;
};

/// A message body: bytes in memory (borrowed or owned) or a file read in chunks, never
/// loaded whole. Line ends and dots are canonicalised on the way out (`body_encoder`), so
/// the source holds the message as the user has it. Cheap to copy; each transaction opens
/// its own `body_reader`, so one source can be sent many times.
class body_source {
 public:
  body_source() = default;

  /// Bytes the caller keeps alive until the session completes.
  static body_source view(std::string_view bytes) {
    body_source s;
    s.source_ = bytes;
    return s;
  }
  /// Bytes owned by the source (shared between copies).
  static body_source copy(std::string bytes) {
    body_source s;
    s.source_ = std::make_shared<const std::string>(std::move(bytes));
    return s;
  }
  /// A file, opened and read in 64 KiB chunks for each transaction.
  static body_source file(std::string path) {
    body_source s;
    s.source_ = file_path{std::move(path)};
    return s;
  }

  /// Size in octets before canonicalisation when known without reading (for SIZE=).
  std::optional<std::uint64_t> size() const {
    if (auto* v = std::get_if<std::string_view>(&source_)) return v->size();
    if (auto* o = std::get_if<std::shared_ptr<const std::string>>(&source_)) return (*o)->size();
    std::unique_ptr<std::FILE, body_reader::file_closer> f(
        std::fopen(std::get<file_path>(source_).path.c_str(), "rb"));
    if (!f || std::fseek(f.get(), 0, SEEK_END) != 0) return std::nullopt;
    long n = std::ftell(f.get());
    if (n < 0) return std::nullopt;
    return static_cast<std::uint64_t>(n);
  }

  /// Starts reading from the beginning.
  std::error_code open(body_reader& reader) const {
    reader = body_reader{};
    if (auto* v = std::get_if<std::string_view>(&source_)) {
      reader.memory_ = *v;
    } else if (auto* o = std::get_if<std::shared_ptr<const std::string>>(&source_)) {
      reader.memory_ = **o;
    } else {
      reader.file_.reset(std::fopen(std::get<file_path>(source_).path.c_str(), "rb"));
      if (!reader.file_) return errc::body_read_failed;
    }
    return {};
  }

 private:
  struct file_path {
    std::string path;
  };
  std::variant<std::string_view, std::shared_ptr<const std::string>, file_path> source_;
};

}  // namespace smtpipe

#endif  // !SMTPIPE_SESSION_BODY_SOURCE_HPP
