// AUTH after STARTTLS against servers that check the credentials for real: LOGIN, CRAM-MD5,
// SCRAM-SHA-256 and PLAIN, the choice of mechanism, hostile exchanges, refusals, and the
// transcript (security.md §6 C 33).
#include "tls/sasl_servers.hpp"
#include "tls/tls_test.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <sstream>
#include <string>

using namespace smtpipe;
using namespace smtpipe::test;

namespace {

// 220, EHLO, STARTTLS, the handshake, then EHLO answered with `ehlo_after`.
script_server& over_tls(script_server& srv, const std::string& ehlo_after) {
  return starttls(srv, "250-mx\r\n250 STARTTLS\r\n").expect("EHLO").send(ehlo_after);
}

// The server side of each exchange, from the AUTH command on; the server checks the answers.
script_server& play(script_server& srv, login_server& login) {
  return srv.answer("AUTH LOGIN", [&](const std::string& l) { return login.on_auth(l); })
      .answer("", [&](const std::string& l) { return login.on_user(l); })
      .answer("", [&](const std::string& l) { return login.on_password(l); });
}
script_server& play(script_server& srv, cram_md5_server& cram) {
  return srv.answer("AUTH CRAM-MD5", [&](const std::string& l) { return cram.on_auth(l); })
      .answer("", [&](const std::string& l) { return cram.on_response(l); });
}
// After a challenge the client must refuse: its "*" answered 501, then QUIT.
script_server& cancelled(script_server& srv) {
  return srv.expect("*").send("501 5.7.0 cancelled\r\n").quit();
}

// LOGIN answered up to the password, which is answered with `after_password` (not a 235).
script_server& login_then(script_server& srv, const std::string& after_password) {
  return cancelled(srv.expect("AUTH LOGIN")
                       .send("334 VXNlcm5hbWU6\r\n")
                       .expect(b64(test_user))
                       .send("334 UGFzc3dvcmQ6\r\n")
                       .expect(b64(test_secret))
                       .send(after_password));
}

// Up to the server-final message (in a 334, or in the 235 with `signature_in_235`).
script_server& play(script_server& srv, scram_server& scram) {
  return srv.answer("AUTH SCRAM-SHA-256 ", [&](const std::string& l) { return scram.on_auth(l); })
      .answer("", [&](const std::string& l) { return scram.on_final(l); });
}

session_options auth_options_for(std::string mechanism = {}) {
  return with_auth(tls_mode::required, std::move(mechanism));
}

// The lines the client sent from AUTH up to (not including) MAIL or QUIT.
std::vector<std::string> auth_lines(const script_server& srv) {
  std::vector<std::string> out;
  bool in = false;
  for (const auto& l : srv.lines()) {
    if (l.rfind("AUTH ", 0) == 0) in = true;
    if (l.rfind("MAIL", 0) == 0 || l.rfind("QUIT", 0) == 0) in = false;
    if (in) out.push_back(l);
  }
  return out;
}

/// A mechanism that answers every challenge and never ends: only the AUTH state's bound
/// stops it.
class endless_mechanism final : public sasl_mechanism {
 public:
  explicit endless_mechanism(const sasl_credentials&) {}
  std::string_view name() const noexcept override { return "X-ENDLESS"; }
  bool client_first() const noexcept override { return false; }
  bool server_verified() const noexcept override { return true; }
  bool expects_challenge() const noexcept override { return true; }
  std::error_code step(std::string_view, std::string& response) override {
    response = "more";
    return {};
  }
};

// A test mechanism, registered like any mechanism header registers its own; 0: only when named.
const bool endless_registered =
    sasl_registry::add({"X-ENDLESS", 0, &smtpipe::detail::make_sasl<endless_mechanism>});

}  // namespace

TEST_CASE("C33 SCRAM-SHA-256 end to end, chosen as the strongest offered, redacted [smtpipe]") {
  for (const bool in_235 : {false, true}) {
    CAPTURE(in_235);
    asio::io_context io;
    script_server srv(io);
    scram_server scram;
    scram.signature_in_235 = in_235;
    play(over_tls(srv, "250-mx\r\n250 AUTH LOGIN PLAIN XOAUTH2 CRAM-MD5 SCRAM-SHA-256\r\n"), scram);
    if (!in_235) srv.answer("", [&](const std::string& l) { return scram.on_done(l); });
    lockstep_delivery(srv);
    std::ostringstream log;
    auto r = deliver_transcribed(io, srv, auth_options_for(), log);
    CHECK(srv.failures().empty());
    CHECK(scram.proof_ok);
    CHECK_FALSE(r.error);
    CHECK(r.authenticated);
    CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
    // Every AUTH line is redacted; none of the client's SASL messages reaches the log.
    CHECK(contains(log.str(), "C: AUTH SCRAM-SHA-256 <redacted>\n"));
    const auto lines = auth_lines(srv);
    CHECK(lines.size() == (in_235 ? 2u : 3u));
    for (const auto& l : lines) {
      const std::string payload = l.substr(l.rfind(' ') + 1);
      if (!payload.empty()) CHECK_FALSE(contains(log.str(), payload));
    }
    CHECK(count_of(log.str(), "C: <redacted>") == lines.size() - 1);
    CHECK_FALSE(contains(log.str(), test_secret));
  }
}

TEST_CASE("C33 SCRAM-SHA-256 with a wrong password: the server refuses the proof [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  scram_server scram;
  play(over_tls(srv, "250-mx\r\n250 AUTH SCRAM-SHA-256\r\n"), scram).quit();
  auto o = tls_options(tls_mode::required);
  add_auth(o, {}, false, std::string(test_user), "not the password");
  auto r = start_and_deliver(io, srv, one_message(), o);
  CHECK(srv.failures().empty());
  CHECK_FALSE(scram.proof_ok);
  CHECK(r.error == errc::auth_failed);
  CHECK(r.messages[0].recipients[0].status == delivery_status::permanent);
  CHECK(r.messages[0].recipients[0].code == 535);
}

TEST_CASE("C33 SCRAM-SHA-256: a server that cannot prove the password is not trusted [smtpipe]") {
  for (const bool in_235 : {false, true}) {
    CAPTURE(in_235);
    asio::io_context io;
    script_server srv(io);
    scram_server scram;
    scram.forge_signature = true;
    scram.signature_in_235 = in_235;
    play(over_tls(srv, "250-mx\r\n250 AUTH SCRAM-SHA-256 PLAIN\r\n"), scram);
    if (!in_235) srv.expect("*").send("501 5.7.0 cancelled\r\n");
    srv.quit();
    auto r = start_and_deliver(io, srv, one_message(), auth_options_for());
    CHECK(srv.failures().empty());
    CHECK(scram.proof_ok);  // the client knew the password; the server did not show it did
    CHECK(r.error == errc::sasl_server_not_verified);
    CHECK_FALSE(r.authenticated);
    CHECK_FALSE(contains(srv.received(), "MAIL"));
    CHECK_FALSE(contains(srv.received(), "AUTH PLAIN"));  // no weaker mechanism tried
    CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
  }
}

TEST_CASE("C33 CRAM-MD5 end to end, the strongest when SCRAM is not offered [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  cram_md5_server cram;
  play(over_tls(srv, "250-mx\r\n250 AUTH LOGIN PLAIN CRAM-MD5\r\n"), cram);
  lockstep_delivery(srv);
  auto r = start_and_deliver(io, srv, one_message(), auth_options_for());
  CHECK(srv.failures().empty());
  CHECK(r.authenticated);
  CHECK(cram.got.rfind(std::string(test_user) + ' ', 0) == 0);
  REQUIRE_FALSE(auth_lines(srv).empty());
  CHECK(auth_lines(srv)[0] == "AUTH CRAM-MD5");
  CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
}

TEST_CASE(
    "C33 LOGIN end to end, and when it is named although stronger ones are offered [smtpipe]") {
  for (const std::string offered : {"250-mx\r\n250 AUTH LOGIN\r\n",
                                    "250-mx\r\n250 AUTH LOGIN PLAIN CRAM-MD5 SCRAM-SHA-256\r\n"}) {
    CAPTURE(offered);
    asio::io_context io;
    script_server srv(io);
    login_server login;
    play(over_tls(srv, offered), login);
    lockstep_delivery(srv);
    auto r = start_and_deliver(io, srv, one_message(),
                               auth_options_for(contains(offered, "SCRAM") ? "LOGIN" : ""));
    CHECK(srv.failures().empty());
    CHECK(r.authenticated);
    CHECK(login.got_user == test_user);
    CHECK(login.got_password == test_secret);
    CHECK(r.messages[0].recipients[0].status == delivery_status::delivered);
  }
}

TEST_CASE(
    "C33 mechanism choice: PLAIN over LOGIN; SCRAM without a provider; named but absent "
    "[smtpipe]") {
  SUBCASE("PLAIN before LOGIN") {
    asio::io_context io;
    script_server srv(io);
    std::string plain;
    accept_plain(over_tls(srv, "250-mx\r\n250 AUTH LOGIN PLAIN\r\n"), plain);
    lockstep_delivery(srv);
    auto r = start_and_deliver(io, srv, one_message(), auth_options_for());
    CHECK(srv.failures().empty());
    CHECK(plain == plain_message());
    CHECK(r.authenticated);
  }
  SUBCASE("without a TLS provider, the mechanisms compiled in still count: SCRAM-SHA-256") {
    // <smtpipe/openssl.hpp> adds SCRAM-SHA-256 and CRAM-MD5 to the registry; whether the
    // session uses TLS does not matter (here: plaintext AUTH allowed, no provider at all).
    asio::io_context io;
    script_server srv(io);
    scram_server scram;
    play(srv.greet("220 mx\r\n", "250-mx\r\n250 AUTH SCRAM-SHA-256 CRAM-MD5 PLAIN\r\n"), scram);
    srv.answer("", [&](const std::string& l) { return scram.on_done(l); });
    lockstep_delivery(srv);
    session_options o = fast_options(0.01);
    add_auth(o, {}, true);
    auto r = start_and_deliver(io, srv, one_message(), o);
    CHECK(srv.failures().empty());
    CHECK(scram.proof_ok);
    CHECK(r.authenticated);
  }
  SUBCASE("a named mechanism is a SASL name: any case") {
    asio::io_context io;
    script_server srv(io);
    cram_md5_server cram;
    play(over_tls(srv, "250-mx\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n"), cram);
    lockstep_delivery(srv);
    auto r = start_and_deliver(io, srv, one_message(), auth_options_for("cram-md5"));
    CHECK(srv.failures().empty());
    CHECK(r.authenticated);
  }
  SUBCASE("a named mechanism the server does not offer: no AUTH at all") {
    asio::io_context io;
    script_server srv(io);
    over_tls(srv, "250-mx\r\n250 AUTH PLAIN LOGIN\r\n").quit();
    auto r = start_and_deliver(io, srv, one_message(), auth_options_for("SCRAM-SHA-256"));
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::auth_not_available);
    CHECK(auth_lines(srv).empty());
  }
}

TEST_CASE("C33 credentials with CR or LF travel base64-encoded only [smtpipe]") {
  const std::string user = "evil\r\nMAIL FROM:<x@example.net>";
  const std::string secret = "pw\r\nRCPT TO:<y@example.net>\n.\r\n";
  SUBCASE("PLAIN") {
    asio::io_context io;
    script_server srv(io);
    std::string plain;
    accept_plain(over_tls(srv, "250-mx\r\n250 AUTH PLAIN\r\n"), plain);
    lockstep_delivery(srv);
    auto o = tls_options(tls_mode::required);
    add_auth(o, {}, false, user, secret);
    auto r = start_and_deliver(io, srv, one_message(), o);
    CHECK(srv.failures().empty());
    CHECK(r.authenticated);
    CHECK(plain == plain_message(user, secret));
    CHECK_FALSE(contains(srv.received(), "x@example.net"));
    CHECK_FALSE(contains(srv.received(), "y@example.net"));
    CHECK(count_of(srv.received(), "MAIL FROM") == 1);
    CHECK(count_of(srv.received(), "\r\n.\r\n") == 1);  // the end of the real message only
  }
  SUBCASE("LOGIN") {
    asio::io_context io;
    script_server srv(io);
    login_server login;
    login.user = user;
    login.password = secret;
    play(over_tls(srv, "250-mx\r\n250 AUTH LOGIN\r\n"), login);
    lockstep_delivery(srv);
    auto o = tls_options(tls_mode::required);
    add_auth(o, {}, false, user, secret);
    auto r = start_and_deliver(io, srv, one_message(), o);
    CHECK(srv.failures().empty());
    CHECK(r.authenticated);
    CHECK(login.got_user == user);
    CHECK(login.got_password == secret);
    CHECK_FALSE(contains(srv.received(), "y@example.net"));
  }
}

TEST_CASE("C33 a NUL in the user name is refused before any connection [smtpipe]") {
  for (const std::string mechanism : {"", "PLAIN", "LOGIN"}) {
    CAPTURE(mechanism);
    asio::io_context io;
    script_server srv(io);
    srv.start();
    auto o = tls_options(tls_mode::required);
    add_auth(o, mechanism, false, std::string("us\0er", 5));
    session_result r;
    const auto messages = one_message();
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          r = co_await deliver("127.0.0.1", srv.port_string(), default_pipeline{}, messages, o);
          srv.stop_accepting();
        },
        asio::detached);
    io.run_for(std::chrono::seconds(10));
    CHECK(r.error == errc::invalid_argument);
    CHECK_FALSE(srv.connected());
    CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
  }
}

TEST_CASE("C33 a server answering 334 forever: the exchange is bounded, then cancelled [smtpipe]") {
  SUBCASE("LOGIN ends after its two answers") {
    asio::io_context io;
    script_server srv(io);
    login_then(over_tls(srv, "250-mx\r\n250 AUTH LOGIN\r\n"), "334 UGFzc3dvcmQ6\r\n");
    auto r = start_and_deliver(io, srv, one_message(), auth_options_for());
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::sasl_bad_challenge);
    CHECK_FALSE(r.authenticated);
    CHECK_FALSE(contains(srv.received(), "MAIL"));
  }
  SUBCASE("a mechanism that would go on forever stops after 8 challenges") {
    asio::io_context io;
    script_server srv(io);
    over_tls(srv, "250-mx\r\n250 AUTH X-ENDLESS\r\n").expect("AUTH X-ENDLESS");
    for (int i = 0; i < states::auth::max_challenges; ++i)
      srv.send("334 " + b64("again") + "\r\n").expect(b64("more"));
    cancelled(srv.send("334 " + b64("again") + "\r\n"));
    auto o = auth_options_for("X-ENDLESS");
    CHECK(endless_registered);
    auto r = start_and_deliver(io, srv, one_message(), o);
    CHECK(srv.failures().empty());
    CHECK(states::auth::max_challenges == 8);
    CHECK(r.error == errc::sasl_bad_challenge);
    CHECK(count_of(srv.received(), b64("more") + "\r\n") == 8);
    CHECK_FALSE(contains(srv.received(), "MAIL"));
  }
}

TEST_CASE("C33 a challenge that is not base64 is cancelled with '*' [smtpipe]") {
  for (const std::string mechanism : {"LOGIN", "CRAM-MD5", "SCRAM-SHA-256"}) {
    CAPTURE(mechanism);
    asio::io_context io;
    script_server srv(io);
    cancelled(over_tls(srv, "250-mx\r\n250 AUTH " + mechanism + "\r\n")
                  .expect("AUTH " + mechanism)
                  .send("334 this is not base64!\r\n"));
    auto r = start_and_deliver(io, srv, one_message(), auth_options_for());
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::invalid_base64);
    CHECK_FALSE(contains(srv.received(), "MAIL"));
    CHECK(r.messages[0].recipients[0].status == delivery_status::transient);
  }
}

TEST_CASE(
    "C33 535 is permanent with no fallback to another mechanism; 454 is transient [smtpipe]") {
  for (const std::string refusal : {"535 5.7.8 authentication credentials invalid",
                                    "454 4.7.0 temporary authentication failure"}) {
    CAPTURE(refusal);
    asio::io_context io;
    script_server srv(io);
    over_tls(srv, "250-mx\r\n250 AUTH LOGIN PLAIN\r\n")
        .expect("AUTH PLAIN ")
        .send(refusal + "\r\n")
        .quit();
    auto r = start_and_deliver(io, srv, one_message(), auth_options_for());
    CHECK(srv.failures().empty());
    CHECK(r.error == errc::auth_failed);
    CHECK(r.error_state == "auth");
    CHECK_FALSE(r.authenticated);
    CHECK(count_of(srv.received(), "AUTH ") == 1);  // no AUTH LOGIN after the refusal
    CHECK_FALSE(contains(srv.received(), "MAIL"));
    const auto& rcpt = r.messages[0].recipients[0];
    CHECK(rcpt.code == std::stoi(refusal.substr(0, 3)));
    CHECK(rcpt.status ==
          (refusal[0] == '5' ? delivery_status::permanent : delivery_status::transient));
  }
}

TEST_CASE("C33 every AUTH line is redacted in the transcript, '*' included [smtpipe]") {
  asio::io_context io;
  script_server srv(io);
  login_then(over_tls(srv, "250-mx\r\n250 AUTH LOGIN\r\n"), "334 bad!\r\n");
  std::ostringstream log;
  auto r = deliver_transcribed(io, srv, auth_options_for(), log);
  CHECK(srv.failures().empty());
  const std::string text = log.str();
  CHECK(contains(text, "C: AUTH LOGIN\n"));
  CHECK(count_of(text, "C: <redacted>\n") == 3);  // user, password, "*"
  CHECK_FALSE(contains(text, b64(test_user)));
  CHECK_FALSE(contains(text, b64(test_secret)));
  CHECK_FALSE(contains(text, test_user));
  CHECK_FALSE(contains(text, test_secret));
}
