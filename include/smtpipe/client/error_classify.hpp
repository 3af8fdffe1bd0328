// smtpipe/client/error_classify.hpp - Momentum's error classification API (smtp_error_*).
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLIENT_ERROR_CLASSIFY_HPP
#define SMTPIPE_CLIENT_ERROR_CLASSIFY_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/protocol/bounce_class.hpp"
#include "smtpipe/protocol/bounce_classifier.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace smtpipe::momentum {

/// Momentum's `struct _smtp_error_class`: a class's name and description. Callers neither
/// modify nor free it; it lives as long as the program.
struct smtp_error_class {
  const char* short_name;
  const char* desc;
};

/// Momentum's message handle, which its classification functions ignore (pass null).
struct message_id;

namespace detail {

struct bounce_registry {
  struct custom_entry {
    std::string name;
    std::string desc;
    smtp_error_class view{nullptr, nullptr};
  };
  std::shared_mutex mutex;
  bounce_classifier classifier;
  std::map<int, custom_entry> custom;  // nodes never move: `view` points into them
};

inline bounce_registry& registry() {
  static bounce_registry instance;
  return instance;
}

inline constexpr auto builtin_error_classes = [] {
  std::array<smtp_error_class, builtin_bounce_classes.size()> a{};
  for (std::size_t i = 0; i < a.size(); ++i)  // string literals: NUL-terminated
    a[i] = {builtin_bounce_classes[i].name.data(), builtin_bounce_classes[i].description.data()};
  return a;
}();

}  // namespace detail

/// Runs `f(bounce_classifier&)` on the process-wide classifier that the functions below use,
/// under an exclusive lock: add override rules (`add_rules` with Momentum's
/// `domain,code,rule` lines), as Momentum's bounce_classifier_override module does. Returns
/// what `f` returns.
template <class F>
decltype(auto) configure_bounce_classifier(F&& f) {
  auto& r = detail::registry();
  std::unique_lock lock(r.mutex);
  return std::forward<F>(f)(r.classifier);
}

/// `smtp_error_classify_len`: the class of the first `len` octets of `response` ("550 5.1.1
/// ..."); `domain` (may be null) selects per-domain rules; `mid` is unused. Any thread.
inline int smtp_error_classify_len(const char* response, int len, const char* domain,
                                   message_id* mid = nullptr) {
  (void)mid;
  if (!response || len <= 0) return code_of(bounce_class::undetermined);
  auto& r = detail::registry();
  std::shared_lock lock(r.mutex);
  return r.classifier.classify_response(std::string_view(response, static_cast<std::size_t>(len)),
                                        domain ? std::string_view(domain) : std::string_view{});
}

/// `smtp_error_classify`: `smtp_error_classify_len` on the whole NUL-terminated `response`.
inline int smtp_error_classify(const char* response, const char* domain,
                               message_id* mid = nullptr) {
  if (!response) return code_of(bounce_class::undetermined);
  return smtp_error_classify_len(response, static_cast<int>(std::strlen(response)), domain, mid);
}

/// `smtp_error_for_id`: the name and description of class `id`, built in or registered; null
/// for an unknown id (Momentum leaves that case undocumented). Any thread.
inline const smtp_error_class* smtp_error_for_id(unsigned short id) {
  for (std::size_t i = 0; i < builtin_bounce_classes.size(); ++i)
    if (builtin_bounce_classes[i].code == id) return &detail::builtin_error_classes[i];
  auto& r = detail::registry();
  {
    std::shared_lock lock(r.mutex);
    auto it = r.custom.find(id);
    if (it != r.custom.end()) return &it->second.view;
  }
  // A class registered through configure_bounce_classifier: give it a stable entry.
  std::unique_lock lock(r.mutex);
  const auto info = r.classifier.find_class(id);
  if (!info) return nullptr;
  auto [it, inserted] = r.custom.try_emplace(id);
  if (inserted) {
    it->second.name = std::string(info->name);
    it->second.desc = std::string(info->description);
    it->second.view = {it->second.name.c_str(), it->second.desc.c_str()};
  }
  return &it->second.view;
}

/// `smtp_error_register_class`: registers a custom class, code 1-99 not used by a built-in
/// class (`bounce_classifier::register_class`). Momentum's function returns nothing; this one
/// also says why a registration was refused (`errc::invalid_bounce_class`,
/// `errc::bounce_class_clash`), which callers written for Momentum simply ignore.
inline std::error_code smtp_error_register_class(unsigned short class_code, const char* name,
                                                 const char* desc) {
  if (!name) return errc::invalid_bounce_class;
  auto& r = detail::registry();
  std::unique_lock lock(r.mutex);
  const std::string_view d = desc ? std::string_view(desc) : std::string_view{};
  if (auto ec = r.classifier.register_class(class_code, name, d)) return ec;
  auto [it, inserted] = r.custom.try_emplace(class_code);
  if (inserted) {
    it->second.name = name;
    it->second.desc = std::string(d);
    it->second.view = {it->second.name.c_str(), it->second.desc.c_str()};
  }
  return {};
}

/// `smtp_error_retrieve_class` (Momentum 3.3+): copies the class's name and description,
/// truncated and NUL-terminated, into the buffers (either may be null); 1 if `class_code` is
/// known, else 0.
inline int smtp_error_retrieve_class(unsigned short class_code, char* name, int name_len,
                                     char* desc, int desc_len) {
  const smtp_error_class* c = smtp_error_for_id(class_code);
  if (!c) return 0;
  auto copy = [](char* out, int size, const char* in) {
    if (!out || size <= 0) return;
    const std::size_t n = std::min(std::strlen(in), static_cast<std::size_t>(size - 1));
    std::memcpy(out, in, n);
    out[n] = '\0';
  };
  copy(name, name_len, c->short_name);
  copy(desc, desc_len, c->desc);
  return 1;
}

}  // namespace smtpipe::momentum

#endif  // !SMTPIPE_CLIENT_ERROR_CLASSIFY_HPP
