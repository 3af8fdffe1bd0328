// smtpipe/routing/mta_sts_fetcher.hpp - MTA-STS policies over HTTPS with libcurl, cached.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_ROUTING_MTA_STS_FETCHER_HPP
#define SMTPIPE_ROUTING_MTA_STS_FETCHER_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/routing/dns_resolver.hpp"
#include "smtpipe/routing/dns_type.hpp"
#include "smtpipe/routing/mta_sts_cache.hpp"
#include "smtpipe/routing/mta_sts_policy.hpp"
#include "smtpipe/routing/mta_sts_source.hpp"
#include "smtpipe/routing/resolve_route.hpp"

#include <curl/curl.h>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe {

/// How `mta_sts_client` fetches policies.
struct mta_sts_options {
  mta_sts_options() = default;  // not an aggregate: see docs/architecture.md (g++ 12)

  std::uint16_t port = 443;  ///< The HTTPS port of `mta-sts.<domain>` (tests use another).
  std::string ca_file;       ///< PEM bundle of trusted CAs for the policy host; empty: system.
  std::chrono::milliseconds timeout{30000};  ///< The whole fetch (connect, TLS, body).
  std::size_t max_size = 64 * 1024;          ///< Larger policies are refused (RFC 8461 §3.3).
};

namespace detail {

/// The outcome of one HTTPS GET of a policy.
struct mta_sts_http_result {
  bool ok = false;
  bool webpki_invalid = false;  ///< The server's certificate did not validate.
  std::string body;
  std::string reason;
};

inline std::size_t mta_sts_write(char* data, std::size_t size, std::size_t n, void* user) {
  auto* ctx = static_cast<std::pair<std::string*, std::size_t>*>(user);
  const std::size_t bytes = size * n;
  if (ctx->first->size() + bytes > ctx->second) return 0;  // over the limit: abort
  ctx->first->append(data, bytes);
  return bytes;
}

inline bool mta_sts_text_plain(std::string_view type) {
  const std::size_t semi = type.find(';');
  std::string_view media = type.substr(0, semi);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  return detail::dns_lower(media) == "text/plain";
}

/// A blocking GET of `https://host:port/.well-known/mta-sts.txt` at `address` (CURLOPT_RESOLVE):
/// certificate and host name verified, no redirects, HTTPS only, size and time limits,
/// status 200 with a text/plain body. Runs on `mta_sts_client`'s own thread.
inline mta_sts_http_result mta_sts_http_get(const std::string& host, const std::string& address,
                                            const mta_sts_options& o) {
  mta_sts_http_result out;
  CURL* curl = curl_easy_init();
  if (!curl) {
    out.reason = "curl_easy_init failed";
    return out;
  }
  const std::string port = std::to_string(o.port);
  const std::string url =
      "https://" + host + (o.port == 443 ? "" : ":" + port) + "/.well-known/mta-sts.txt";
  const bool v6 = address.find(':') != std::string::npos;
  const std::string resolve = host + ":" + port + ":" + (v6 ? "[" + address + "]" : address);
  curl_slist* resolve_list = curl_slist_append(nullptr, resolve.c_str());
  std::pair<std::string*, std::size_t> sink{&out.body, o.max_size};
  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve_list);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
#endif
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!o.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, o.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(o.max_size));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &mta_sts_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "smtpipe-mta-sts");
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  char* type = nullptr;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
  if (rc != CURLE_OK) {
    out.webpki_invalid = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE;
    out.reason = std::string(curl_easy_strerror(rc)) + (error_buffer[0] ? ": " : "") + error_buffer;
    if (rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED)
      out.reason = "the policy is larger than " + std::to_string(o.max_size) + " bytes";
  } else if (status != 200) {
    out.reason = "HTTP status " + std::to_string(status) + " (redirects are not followed)";
  } else if (!type || !mta_sts_text_plain(type)) {
    out.reason = std::string("Content-Type is ") + (type ? type : "missing") + ", not text/plain";
  } else {
    out.ok = true;
  }
  curl_slist_free_all(resolve_list);
  curl_easy_cleanup(curl);
  if (!out.ok) out.body.clear();
  return out;
}

/// The text of a TXT record's RDATA: its character-strings concatenated (RFC 7208 §3.3 style).
inline std::string txt_text(std::string_view rdata) {
  std::string out;
  std::size_t i = 0;
  while (i < rdata.size()) {
    const std::size_t n = static_cast<unsigned char>(rdata[i]);
    out.append(rdata.substr(i + 1, n));
    i += 1 + n;
  }
  return out;
}

}  // namespace detail

/// MTA-STS policies (RFC 8461) for `deliver_routed`: the `_mta-sts.<domain>` TXT record and
/// `mta-sts.<domain>`'s address through the delivery's own resolver, the policy over HTTPS
/// with libcurl (address given with CURLOPT_RESOLVE), cached for `max_age` and fetched again
/// when the TXT `id` changes. While the TXT record cannot be had, or a fetch fails, a cached
/// policy still valid is used (RFC 8461 §5.1).
///
/// The blocking libcurl easy handle runs on a one-thread `asio::thread_pool` owned by the
/// client and its result is posted back to the delivery's executor (an `async_initiate`
/// operation): a policy fetch is rare (once per domain per max_age), a thread keeps libcurl
/// away from the io_context's descriptors and needs no socket-callback glue, and the
/// io_context never blocks. Fetches run one at a time; the destructor waits for a running one
/// (at most `timeout`).
class mta_sts_client final : public mta_sts_source {
 public:
  explicit mta_sts_client(mta_sts_options options = {}) : options_(std::move(options)) {}
  ~mta_sts_client() override { pool_.join(); }
  mta_sts_client(const mta_sts_client&) = delete;
  mta_sts_client& operator=(const mta_sts_client&) = delete;

  mta_sts_cache& cache() noexcept { return cache_; }
  const mta_sts_options& options() const noexcept { return options_; }
  /// HTTPS fetches made so far.
  std::size_t fetches() const noexcept { return fetches_.load(); }

  /// The blocking GET on the pool's thread; the handler is posted back to its own executor.
  template <class CompletionToken>
  auto async_fetch(std::string host, std::string address, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(detail::mta_sts_http_result)>(
        [this](auto handler, std::string host, std::string address) {
          auto work = asio::make_work_guard(asio::get_associated_executor(handler));
          asio::post(
              pool_, [handler = std::move(handler), work = std::move(work), host = std::move(host),
                      address = std::move(address), options = options_]() mutable {
                detail::mta_sts_http_result r = detail::mta_sts_http_get(host, address, options);
                auto executor = work.get_executor();
                asio::post(executor, [handler = std::move(handler), r = std::move(r)]() mutable {
                  std::move(handler)(std::move(r));
                });
                work.reset();
              });
        },
        token, std::move(host), std::move(address));
  }

  asio::awaitable<mta_sts_lookup> lookup(dns_resolver& resolver, std::string domain) override {
    mta_sts_lookup out;
    domain = detail::dns_lower(domain);
    if (!domain.empty() && domain.back() == '.') domain.pop_back();
    std::optional<mta_sts_policy> cached = cache_.get(domain);
    // The TXT record: exactly one record starting with v=STSv1 (RFC 8461 §3.1).
    std::optional<std::string> id;
    {
      auto [ec, answer] = co_await resolver.query("_mta-sts." + domain, dns_type::txt);
      if (!ec && answer.rcode == 0 && answer.security != dns_security::bogus) {
        std::vector<std::string> sts;
        for (const auto& r : answer.records) {
          std::string text = detail::txt_text(r);
          if (text.rfind("v=STSv1", 0) == 0) sts.push_back(std::move(text));
        }
        if (sts.size() == 1) id = parse_mta_sts_txt(sts.front());
      }
    }
    if (!id) {
      // No (valid) record, or no answer: a cached policy still applies (RFC 8461 §5.1).
      out.policy = std::move(cached);
      out.from_cache = out.policy.has_value();
      co_return out;
    }
    out.txt_found = true;
    if (cached && cached->id == *id) {
      out.policy = std::move(cached);
      out.from_cache = true;
      co_return out;
    }
    // Fetch: mta-sts.<domain> through our resolver, then HTTPS off the io_context.
    const std::string host = "mta-sts." + domain;
    detail::address_lookup addresses =
        co_await detail::lookup_addresses(resolver, host, address_preference::ipv4_first);
    detail::mta_sts_http_result got;
    if (addresses.addresses.empty()) {
      got.reason = "no address for " + host +
                   (addresses.error ? ": " + addresses.error.message() : std::string());
    } else {
      ++fetches_;
      // libcurl's global setup (OpenSSL's too) on first use, not for runs that fetch nothing.
      static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
      (void)initialised;
      const std::string address = addresses.addresses.front().to_string();
      got = co_await async_fetch(host, address, asio::use_awaitable);
    }
    mta_sts_policy policy;
    std::string why;
    if (got.ok) {
      if (auto ec = parse_mta_sts_policy(got.body, policy, &why)) {
        out.error = ec;
        out.reason = "policy of " + domain + " invalid: " + why;
      } else {
        policy.id = *id;
        cache_.put(domain, policy);
        out.policy = std::move(policy);
        co_return out;
      }
    } else {
      out.error = make_error_code(errc::mta_sts_fetch_failed);
      out.webpki_invalid = got.webpki_invalid;
      out.reason = "fetching https://" + host + "/.well-known/mta-sts.txt: " + got.reason;
    }
    // Failed: a cached policy still valid stays in force until it expires.
    out.policy = std::move(cached);
    out.from_cache = out.policy.has_value();
    co_return out;
  }

 private:
  mta_sts_options options_;
  mta_sts_cache cache_;
  std::atomic<std::size_t> fetches_{0};
  asio::thread_pool pool_{1};
};

}  // namespace smtpipe

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_ROUTING_MTA_STS_FETCHER_HPP
