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
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

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
  int port = 0;
  long count = 1, sessions = 1;
  std::string body_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view a = argv[i];
    if (a == "--port") port = std::atoi(argv[i + 1]);
    else if (a == "--count") count = std::atol(argv[i + 1]);
    else if (a == "--sessions") sessions = std::atol(argv[i + 1]);
    else if (a == "--body") body_path = argv[i + 1];
  }
  std::ifstream f(body_path, std::ios::binary);
  if (!port || !f || sessions < 1) {
    std::fprintf(stderr, "usage: %s --port P --count N --sessions C --body FILE\n", argv[0]);
    return 64;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string body = ss.str();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::vector<std::thread> threads;
  for (long s = 0; s < sessions; ++s)
    threads.emplace_back(session, port, count / sessions + (s < count % sessions ? 1 : 0), std::cref(body));
  for (auto& t : threads) t.join();
  curl_global_cleanup();
  return delivered == count ? 0 : 1;
}
