// smtpipe/sasl/registry.hpp - The SASL mechanisms the AUTH state can choose from, by name.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SASL_REGISTRY_HPP
#define SMTPIPE_SASL_REGISTRY_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/sasl/mechanism.hpp"

#include <array>
#include <cstddef>
#include <memory>
#include <string_view>

namespace smtpipe {

/// Makes the mechanism for one AUTH exchange.
using sasl_factory = std::unique_ptr<sasl_mechanism> (*)(const sasl_credentials&);

/// The process-wide table of SASL client mechanisms. Each mechanism's header adds its entry
/// when it is included: PLAIN, LOGIN and XOAUTH2 come with <smtpipe.hpp>; SCRAM-SHA-256 and
/// CRAM-MD5, which need libcrypto, with <smtpipe/openssl.hpp>. A program thus offers exactly
/// the mechanisms it compiled in, and the core never links libcrypto.
///
/// Entries are added during static initialisation (before `main`); afterwards the table is
/// only read, from any thread.
class sasl_registry {
 public:
  struct entry {
    std::string_view name;  ///< IANA name, upper case.
    int preference = 0;     ///< Higher is stronger; 0: used only when named (XOAUTH2).
    sasl_factory make = nullptr;
  };

  /// Adds `e`, or replaces the entry of the same name. Returns true (for an initialiser).
  static bool add(entry e) noexcept {
    auto& t = table();
    for (std::size_t i = 0; i < t.size; ++i)
      if (t.entries[i].name == e.name) return (t.entries[i] = e, true);
    if (t.size < t.entries.size()) t.entries[t.size++] = e;
    return true;
  }

  /// A new mechanism named `name` (upper case), or null when none is compiled in.
  static std::unique_ptr<sasl_mechanism> make(std::string_view name,
                                              const sasl_credentials& credentials) {
    const entry* e = find(name);
    return e ? e->make(credentials) : nullptr;
  }

  /// Calls `f(name)` for each mechanism that may be chosen without being named, strongest
  /// first, until `f` returns true.
  template <class F>
  static void strongest_first(F&& f) {
    const auto& t = table();
    for (int preference = max_preference; preference > 0; --preference)
      for (std::size_t i = 0; i < t.size; ++i)
        if (t.entries[i].preference == preference && f(t.entries[i].name)) return;
  }

  static constexpr int max_preference = 8;

 private:
  struct storage {
    std::array<entry, 16> entries{};
    std::size_t size = 0;
  };
  static storage& table() noexcept {
    static storage t;
    return t;
  }
  static const entry* find(std::string_view name) noexcept {
    const auto& t = table();
    for (std::size_t i = 0; i < t.size; ++i)
      if (t.entries[i].name == name) return &t.entries[i];
    return nullptr;
  }
};

namespace detail {
template <class Mechanism>
std::unique_ptr<sasl_mechanism> make_sasl(const sasl_credentials& credentials) {
  return std::make_unique<Mechanism>(credentials);
}
}  // namespace detail

}  // namespace smtpipe

#endif  // !SMTPIPE_SASL_REGISTRY_HPP
