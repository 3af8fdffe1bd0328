// Tests of smtpipe/client/error_classify.hpp: Momentum's smtp_error_classify,
// smtp_error_classify_len, smtp_error_for_id, smtp_error_register_class and
// smtp_error_retrieve_class (reference §1.9).
#include <smtpipe/client/error_classify.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <ostream>  // doctest prints std::error_code through operator<<
#include <string>
#include <thread>
#include <vector>

using namespace smtpipe;
using namespace smtpipe::momentum;

TEST_CASE("momentum: smtp_error_classify and smtp_error_classify_len [smtpipe]") {
  CHECK(smtp_error_classify("550 5.1.1 <x@example.net>: Recipient address rejected: User unknown",
                            "example.net", nullptr) == 10);
  CHECK(smtp_error_classify("452 4.2.2 mailbox full", nullptr, nullptr) == 22);
  CHECK(smtp_error_classify("554 5.7.1 Client host blocked using zen.spamhaus.org", nullptr) == 51);
  CHECK(smtp_error_classify("250 2.0.0 ok", nullptr) == 0);
  CHECK(smtp_error_classify(nullptr, nullptr) == 1);
  // _len classifies only the first len octets.
  const char* both = "552 5.3.4 Message size exceeds fixed limit; user unknown";
  CHECK(smtp_error_classify_len(both, 42, nullptr, nullptr) == 23);
  CHECK(smtp_error_classify_len("550 user unknown", 0, nullptr, nullptr) == 1);
}

TEST_CASE("momentum: smtp_error_for_id names the built-in classes [smtpipe]") {
  for (const auto& b : builtin_bounce_classes) {
    CAPTURE(b.code);
    const smtp_error_class* c = smtp_error_for_id(static_cast<unsigned short>(b.code));
    REQUIRE(c != nullptr);
    CHECK(std::string(c->short_name) == b.name);
    CHECK(std::string(c->desc) == b.description);
  }
  CHECK(std::strcmp(smtp_error_for_id(54)->short_name, "Relaying Denied") == 0);
  CHECK(smtp_error_for_id(0) == nullptr);
  CHECK(smtp_error_for_id(77) == nullptr);
}

TEST_CASE("momentum: smtp_error_register_class and per-domain override rules [smtpipe]") {
  CHECK(!smtp_error_register_class(97, "Suppressed", "On our own suppression list"));
  CHECK(!smtp_error_register_class(97, "Suppressed", "On our own suppression list"));
  CHECK(smtp_error_register_class(97, "Other", "x") == errc::bounce_class_clash);
  CHECK(smtp_error_register_class(10, "Mine", "x") == errc::bounce_class_clash);
  CHECK(smtp_error_register_class(100, "Mine", "x") == errc::invalid_bounce_class);
  CHECK(smtp_error_register_class(96, nullptr, "x") == errc::invalid_bounce_class);
  const smtp_error_class* c = smtp_error_for_id(97);
  REQUIRE(c != nullptr);
  CHECK(std::string(c->short_name) == "Suppressed");
  CHECK(std::string(c->desc) == "On our own suppression list");
  CHECK(smtp_error_for_id(97) == c);  // the same object every time

  // Rules configured like bounce_classifier_override's.
  bounce_rule_error where;
  const std::error_code ec = configure_bounce_classifier([&](bounce_classifier& k) {
    return k.add_rules("example.com,97,user unknown\n,52,zz-test-content", &where);
  });
  REQUIRE(!ec);
  CHECK(smtp_error_classify("550 5.1.1 user unknown", "example.com") == 97);
  CHECK(smtp_error_classify("550 5.1.1 user unknown", "example.org") == 10);
  CHECK(smtp_error_classify("550 zz-test-content", nullptr) == 52);

  // A class registered on the classifier directly gets a stable entry too.
  REQUIRE(!configure_bounce_classifier(
      [](bounce_classifier& k) { return k.register_class(95, "Direct", "Registered directly"); }));
  REQUIRE(smtp_error_for_id(95) != nullptr);
  CHECK(std::string(smtp_error_for_id(95)->short_name) == "Direct");

  configure_bounce_classifier([](bounce_classifier& k) { k.clear_rules(); });
  CHECK(smtp_error_classify("550 5.1.1 user unknown", "example.com") == 10);
}

TEST_CASE("momentum: smtp_error_retrieve_class copies into the caller's buffers [smtpipe]") {
  char name[64];
  char desc[8];
  CHECK(smtp_error_retrieve_class(22, name, sizeof name, desc, sizeof desc) == 1);
  CHECK(std::string(name) == "Mailbox Full");
  CHECK(std::string(desc) == std::string(find_builtin_bounce_class(22)->description).substr(0, 7));
  CHECK(smtp_error_retrieve_class(22, nullptr, 0, nullptr, 0) == 1);
  CHECK(smtp_error_retrieve_class(78, name, sizeof name, desc, sizeof desc) == 0);
}

TEST_CASE("momentum: classification from many threads while classes are registered [smtpipe]") {
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &wrong] {
      for (int i = 0; i < 2000; ++i) {
        if (smtp_error_classify("452 4.2.2 mailbox full", nullptr) != 22) ++wrong[t];
        if (t == 0 && i % 100 == 0)
          (void)smtp_error_register_class(static_cast<unsigned short>(60 + i / 100 % 9 + 1),
                                          "Threaded", "registered while others classify");
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int w : wrong) CHECK(w == 0);
  REQUIRE(smtp_error_for_id(61) != nullptr);
  CHECK(std::string(smtp_error_for_id(61)->short_name) == "Threaded");
}
