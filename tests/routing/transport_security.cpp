// Transport security without a network: TLS security levels, TLSA usability (RFC 7672 §3.1.3),
// REQUIRETLS on MAIL FROM (RFC 8689), and the examples of docs/transport-security.md. The
// end-to-end DANE cases (a signed zone, unbound, STARTTLS servers) are in dane_env.py.
#include <smtpipe.hpp>
#include <smtpipe/routing.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace smtpipe;

TEST_CASE("tls_level: Postfix's names, both ways") {
  for (const char* name : {"none", "may", "encrypt", "dane", "dane-only", "verify", "secure"}) {
    const auto level = parse_tls_level(name);
    REQUIRE(level);
    CHECK(to_string(*level) == name);
  }
  CHECK_FALSE(parse_tls_level("dane_only"));
  CHECK_FALSE(parse_tls_level("opportunistic"));
  CHECK_FALSE(parse_tls_level(""));
}

TEST_CASE("tlsa_record: only DANE-TA and DANE-EE with known selectors and digests are usable") {
  auto record = [](int usage, int selector, int matching, std::size_t size) {
    std::string rdata{char(usage), char(selector), char(matching)};
    rdata.append(size, '\x5a');
    return *parse_tlsa_record(rdata);
  };
  CHECK(record(3, 1, 1, 32).usable_for_smtp());
  CHECK(record(2, 0, 1, 32).usable_for_smtp());
  CHECK(record(3, 0, 2, 64).usable_for_smtp());
  CHECK(record(2, 1, 0, 91).usable_for_smtp());        // a full SubjectPublicKeyInfo
  CHECK_FALSE(record(0, 0, 1, 32).usable_for_smtp());  // PKIX-TA: unusable for SMTP
  CHECK_FALSE(record(1, 1, 1, 32).usable_for_smtp());  // PKIX-EE: unusable for SMTP
  CHECK_FALSE(record(3, 2, 1, 32).usable_for_smtp());  // unknown selector
  CHECK_FALSE(record(3, 1, 3, 32).usable_for_smtp());  // unknown matching type
  CHECK_FALSE(record(3, 1, 1, 31).usable_for_smtp());  // SHA2-256 of the wrong length
  CHECK_FALSE(record(3, 1, 2, 32).usable_for_smtp());  // SHA2-512 of the wrong length
  const auto parsed = parse_tlsa_record(std::string("\x03\x01\x01\xab", 4));
  REQUIRE(parsed);
  CHECK(parsed->usage == 3);
  CHECK(parsed->data == "\xab");
  CHECK_FALSE(parse_tlsa_record(std::string("\x03\x01\x01", 3)));
}

TEST_CASE("REQUIRETLS on MAIL FROM (RFC 8689 §4.1), never as an extra parameter") {
  mail_parameters p;
  p.requiretls = true;
  p.envid = "id1";
  std::string out;
  REQUIRE_FALSE(format_mail_from(out, "a@example.org", p));
  CHECK(out == "MAIL FROM:<a@example.org> ENVID=id1 REQUIRETLS\r\n");
  mail_parameters extra;
  extra.extra.push_back({"REQUIRETLS", ""});
  out.clear();
  CHECK(format_mail_from(out, "a@example.org", extra) == errc::invalid_esmtp_keyword);
}

TEST_CASE("TLS-Required: No (RFC 8689 §5): in the header section only, any case, folded") {
  auto with = [](std::string body) {
    message m;
    m.body = body_source::copy(std::move(body));
    return has_tls_required_no(m);
  };
  CHECK(with("Subject: x\r\nTLS-Required: No\r\n\r\nbody\r\n"));
  CHECK(with("tls-required:no\n\nbody\n"));
  CHECK(with("Subject: x\r\nTLS-Required:\r\n  NO \r\nFrom: a@b\r\n\r\n"));
  CHECK(with("Subject: x\r\nTLS-Required: No"));                // ends inside the header section
  CHECK_FALSE(with("Subject: x\r\n\r\nTLS-Required: No\r\n"));  // in the body
  CHECK_FALSE(with("TLS-Required: Yes\r\n\r\n"));
  CHECK_FALSE(with("X-TLS-Required: No\r\n\r\n"));
  CHECK_FALSE(with("Subject: TLS-Required: No\r\n\r\n"));
  CHECK_FALSE(with(""));
}

TEST_CASE("docs/transport-security.md: levels per destination") {
  //! [levels]
  route_options routing;
  routing.tls_level = tls_level::dane;  // DANE where published, opportunistic TLS elsewhere
  routing.tls_levels.push_back({"bank.example", tls_level::secure});
  routing.tls_levels.push_back({"partner.example", tls_level::dane_only});

  resolver_options dns;
  dns.trust_anchor_file = "";  // default: the system's root key (dns-root-data)
  //! [levels]
  CHECK(detail::level_of(routing, "bank.example") == tls_level::secure);
  CHECK(detail::level_of(routing, "other.example") == tls_level::dane);
  CHECK(dns.dnssec);
}

TEST_CASE("docs/transport-security.md: a REQUIRETLS message") {
  //! [requiretls]
  message m;
  m.sender = "alerts@example.org";
  m.recipients.push_back({"ops@partner.example"});
  m.params.requiretls = true;  // only over DANE- or PKIX-authenticated TLS, else 5.7.30
  //! [requiretls]
  std::string out;
  REQUIRE_FALSE(format_mail_from(out, m.sender, m.params));
  CHECK(out.find(" REQUIRETLS") != std::string::npos);
}
