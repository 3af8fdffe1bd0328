// Tests of smtpipe/protocol/esmtp_parameters.hpp: defaults mean "send nothing".
#include <smtpipe/protocol/esmtp_parameters.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through operator<<

TEST_CASE("ESMTP parameter defaults are all unspecified [smtpipe]") {
  const smtpipe::mail_parameters m;
  CHECK_FALSE(m.size.has_value());
  CHECK(m.body == smtpipe::body_type::unspecified);
  CHECK_FALSE(m.smtputf8);
  CHECK(m.ret == smtpipe::dsn_ret::unspecified);
  CHECK(m.envid.empty());
  CHECK(m.extra.empty());

  const smtpipe::rcpt_parameters r;
  CHECK(r.notify == smtpipe::notify_unspecified);
  CHECK(r.orcpt.empty());
  CHECK(r.extra.empty());
}

TEST_CASE("notify flags combine as distinct bits [smtpipe]") {
  smtpipe::rcpt_parameters r;
  r.notify = smtpipe::notify_success | smtpipe::notify_failure | smtpipe::notify_delay;
  CHECK((r.notify & smtpipe::notify_never) == 0);
  CHECK(r.notify == 14u);
}
