// benchmarks/peers/curl_client.cpp - libcurl's SMTP client as a peer.
//
//   smtpipe-bench-curl --port P --count N --sessions C --body FILE
//
// One thread per connection, each with one easy handle reused for its share of N messages, so
// that libcurl keeps the connection open between transfers (MAIL, RCPT, DATA, body, "." per
// message, lock-step). TCP_NODELAY is libcurl's default (CURLOPT_TCP_NODELAY).
// SPDX-License-Identifier: BSL-1.0
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "common.hpp"

namespace {

std::atomic<long> delivered{0};

struct reader {
  std::string_view rest;
};

size_t read_body(char* buffer, size_t size, size_t items, void* user) {
  auto* r = static_cast<reader*>(user);
  const size_t n = std::min(size * items, r->rest.size());
  std::memcpy(buffer, r->rest.data(), n);
  r->rest.remove_prefix(n);
  return n;
}

void session(int port, long count, const std::string& body) {
  CURL* curl = curl_easy_init();
  const std::string url = "smtp://127.0.0.1:" + std::to_string(port) + "/curl.example.org";
  curl_slist* rcpts = curl_slist_append(nullptr, "<rcpt@example.net>");
  reader r;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, "<sender@example.org>");
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
  curl_easy_setopt(curl, CURLOPT_READDATA, &r);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  for (long i = 0; i < count; ++i) {
    r.rest = body;
    const CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
      std::fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
      break;
    }
    ++delivered;
  }
  curl_slist_free_all(rcpts);
  curl_easy_cleanup(curl);  // QUIT
}

}  // namespace

int main(int argc, char** argv) {
  peer::options o;
  if (!peer::parse(argc, argv, o)) return 64;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  peer::run_sessions(o, [&](long n) { session(o.port, n, o.body); });
  curl_global_cleanup();
  return delivered == o.count ? 0 : 1;
}
