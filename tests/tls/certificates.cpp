// Server certificates under each verification mode, the name they are checked against and
// sent as SNI, and client certificates (security.md §6 A 13, 14, 16).
#include "tls/tls_test.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace smtpipe;
using namespace smtpipe::test;

namespace {

const std::string ehlo_tls = "250-mx.example.org\r\n250-PIPELINING\r\n250 STARTTLS\r\n";

struct outcome {
  session_result result;
  std::string sni;
  std::string received;
  std::vector<std::string> failures;
};

// A STARTTLS session against a server presenting `stem`.crt; `accepted`: whether the client
// is expected to go on (then the message is delivered over TLS) or to refuse the handshake.
outcome run_with(const std::string& stem, session_options options, bool accepted,
                 const std::string& greeting = "220 mx ESMTP\r\n") {
  asio::io_context io;
  script_server srv(io);
  outcome out;
  srv.greet(greeting, ehlo_tls).expect("STARTTLS").send("220 go\r\n");
  auto handshake = tls_handshake(cert(stem + ".crt"), cert(stem + ".key"), &out.sni);
  if (accepted) {
    srv.upgrade(std::move(handshake))
        .expect("EHLO")
        .send("250-mx\r\n250 PIPELINING\r\n")
        .expect_group()
        .send("250 ok\r\n250 ok\r\n354 go\r\n")
        .expect_data()
        .expect("QUIT")
        .send("250 queued\r\n221 bye\r\n");
  } else {
    srv.upgrade_refused(std::move(handshake)).expect_close();
  }
  srv.start();
  out.result = deliver_to(io, srv.port(), one_message(), std::move(options));
  out.received = srv.received();
  out.failures = srv.failures();
  return out;
}

}  // namespace

TEST_CASE("A13 bad certificates: refused under host and ca, each with its own reason [smtpipe]") {
  struct bad {
    const char* stem;
    const char* reason;  // part of OpenSSL's verification text
  };
  const bad certificates[] = {{"selfsigned", "self-signed"},
                              {"untrusted", "local issuer"},
                              {"wronghost", "mismatch"},
                              {"expired", "expired"},
                              {"badsig", "signature failure"}};
  std::set<std::string> texts;
  for (const bad& b : certificates) {
    const std::string stem = b.stem;
    CAPTURE(stem);
    for (const tls_verify verify : {tls_verify::host, tls_verify::ca}) {
      CAPTURE(static_cast<int>(verify));
      // Under `ca` the name is not checked: a valid chain for another host is accepted.
      const bool accepted = verify == tls_verify::ca && stem == "wronghost";
      auto o = tls_options(tls_mode::required, verify);
      if (!accepted) add_auth(o);  // and the credentials are never sent
      auto out = run_with(stem, o, accepted);
      CHECK(out.failures.empty());
      const session_result& r = out.result;
      if (accepted) {
        CHECK_FALSE(r.error);
        CHECK(r.tls.active);
        CHECK(r.tls.verified);  // the configured checks (the chain) passed
        continue;
      }
      CHECK(r.error == errc::tls_certificate_rejected);
      CHECK(r.error_state == "starttls");
      CHECK_FALSE(r.tls.active);
      CHECK_FALSE(r.tls.verified);
      CHECK(contains(r.tls.verify_result, b.reason));
      CHECK(r.error_text == r.tls.verify_result);
      // Refused before the second EHLO: nothing but the handshake after STARTTLS.
      CHECK(count_of(out.received, "EHLO") == 1);
      CHECK(leak_in(out.received).empty());
      CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
      if (verify == tls_verify::host) texts.insert(r.tls.verify_result);
    }
  }
  CHECK(texts.size() == 5);  // a distinct reason for each
}

TEST_CASE(
    "A13/A16 under tls_verify::none every certificate is accepted, never 'verified' [smtpipe]") {
  for (const std::string stem :
       {"selfsigned", "untrusted", "wronghost", "expired", "badsig", "server"}) {
    CAPTURE(stem);
    auto out = run_with(stem, tls_options(tls_mode::required, tls_verify::none), true);
    CHECK(out.failures.empty());
    const session_result& r = out.result;
    CHECK_FALSE(r.error);
    CHECK(r.tls.active);
    CHECK_FALSE(r.tls.verified);  // nothing was checked, so nothing is claimed
    CHECK_FALSE(r.tls.verify_result.empty());
    CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
  }
}

TEST_CASE(
    "A14 the certificate is checked against the configured name, never the greeting's [smtpipe]") {
  // The server calls itself mx.example.org; the certificate for mx.example.org is refused
  // because the configured name is localhost, and localhost's certificate is accepted.
  const std::string greeting = "220 mx.example.org ESMTP\r\n";
  {
    auto out = run_with("wronghost", tls_options(tls_mode::required), false, greeting);
    CHECK(out.failures.empty());
    CHECK(out.result.error == errc::tls_certificate_rejected);
    CHECK(out.sni == "localhost");
  }
  {
    auto out = run_with("server", tls_options(tls_mode::required), true, greeting);
    CHECK(out.failures.empty());
    CHECK_FALSE(out.result.error);
    CHECK(out.result.tls.verified);
    CHECK(out.sni == "localhost");
    CHECK(out.result.tls.server_name == "localhost");
  }
}

TEST_CASE("A14 SNI carries the configured name [smtpipe]") {
  auto o = tls_options(tls_mode::required);
  o.tls_server_name = "LocalHost";  // names compare case-insensitively
  auto out = run_with("server", o, true);
  CHECK(out.failures.empty());
  CHECK_FALSE(out.result.error);
  CHECK(out.result.tls.verified);
  CHECK(out.sni == "LocalHost");
}

TEST_CASE("A14 an IP-literal target sends no SNI and is checked against the IP SANs [smtpipe]") {
  SUBCASE("tls_server_name = 127.0.0.1") {
    auto o = tls_options(tls_mode::required);
    o.tls_server_name = "127.0.0.1";
    auto out = run_with("server", o, true);  // server.crt has IP:127.0.0.1
    CHECK(out.failures.empty());
    CHECK_FALSE(out.result.error);
    CHECK(out.result.tls.verified);
    CHECK(out.sni.empty());
    CHECK(out.result.tls.server_name.empty());
  }
  SUBCASE("no name configured: the host given to deliver (127.0.0.1)") {
    auto o = tls_options(tls_mode::required);
    o.tls_server_name.clear();
    auto out = run_with("server", o, true);
    CHECK(out.failures.empty());
    CHECK(out.result.tls.verified);
    CHECK(out.sni.empty());
  }
  SUBCASE("a certificate without that IP address is refused") {
    auto o = tls_options(tls_mode::required);
    o.tls_server_name = "127.0.0.1";
    auto out = run_with("wronghost", o, false);
    CHECK(out.failures.empty());
    CHECK(out.result.error == errc::tls_certificate_rejected);
    CHECK(contains(out.result.tls.verify_result, "IP address mismatch"));
  }
}

TEST_CASE(
    "a client certificate is presented when configured and the server requires one [smtpipe]") {
  SUBCASE("configured") {
    asio::io_context io;
    script_server srv(io);
    std::string client;
    up_to_starttls(srv, ehlo_tls)
        .send("220 go\r\n")
        .upgrade(
            tls_handshake(cert("server.crt"), cert("server.key"), nullptr, cert("ca.crt"), &client))
        .expect("EHLO")
        .send("250 mx\r\n")
        .lockstep_message("250 ok\r\n")
        .quit();
    srv.start();
    tls_settings settings;
    settings.cert_file = cert("client.crt");
    settings.key_file = cert("client.key");
    auto r = deliver_to(io, srv.port(), one_message(),
                        tls_options(tls_mode::required, tls_verify::host, settings));
    CHECK(srv.failures().empty());
    CHECK_FALSE(r.error);
    CHECK(contains(client, "CN=smtpipe test client"));
    CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
  }
  SUBCASE("not configured: the server refuses the connection, nothing is delivered") {
    asio::io_context io;
    script_server srv(io);
    up_to_starttls(srv, ehlo_tls)
        .send("220 go\r\n")
        .upgrade_refused(
            tls_handshake(cert("server.crt"), cert("server.key"), nullptr, cert("ca.crt")))
        .expect_close();
    srv.start();
    auto r = deliver_to(io, srv.port(), one_message(), tls_options(tls_mode::required));
    CHECK(srv.failures().empty());
    CHECK(r.error);
    CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
  }
  SUBCASE("a certificate or key that cannot be loaded: no provider") {
    tls_settings settings;
    settings.cert_file = cert("client.crt");
    settings.key_file = cert("server.key");  // not client.crt's key
    std::shared_ptr<tls_provider> provider;
    CHECK(make_openssl_provider(settings, provider));
    CHECK_FALSE(provider);
  }
}
