// examples/support/xclient.hpp - A custom state registered at runtime: Postfix's XCLIENT.
// SPDX-License-Identifier: BSL-1.0
//
// A trusted client (a content filter, a proxy) tells Postfix whom it speaks for:
//
//   C: XCLIENT NAME=client.example.org ADDR=192.0.2.10
//   S: 220 mx.example.org ESMTP        <- a new greeting: the session starts over
//   C: EHLO ...                         <- so EHLO must be sent again (XCLIENT_README)
//
// Written the way Momentum's C API registers states: an `smtp_state` filled field by field,
// whose `closure` points at the registration's data (the attributes to send). It goes after
// EHLO, applies when the server advertises XCLIENT, and on 220 jumps back to EHLO. When the
// state comes round again after that EHLO, `connection_state()` (kept for the whole
// connection) says XCLIENT was sent, and it steps aside: XCLIENT never repeats itself.
#ifndef SMTPIPE_EXAMPLES_XCLIENT_HPP
#define SMTPIPE_EXAMPLES_XCLIENT_HPP

#include <smtpipe/client/smtp_state.hpp>
#include <smtpipe/pipeline/stage.hpp>
#include <smtpipe/pipeline/state_id.hpp>
#include <smtpipe/protocol/command.hpp>
#include <smtpipe/protocol/xtext.hpp>
#include <smtpipe/session/session.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpipe_examples {

/// What XCLIENT announces: attribute names (NAME, ADDR, HELO, PROTO...) and their values,
/// sent xtext-encoded. Attributes the server does not list after XCLIENT are left out.
struct xclient_config {
  std::vector<std::pair<std::string, std::string>> attributes;
};

namespace detail {

// Whether the EHLO keyword XCLIENT lists `attribute` (e.g. "XCLIENT NAME ADDR PROTO HELO").
inline bool xclient_offers(const smtpipe::session& s, std::string_view attribute) {
  const auto params = s.server_capabilities().params("XCLIENT");
  if (!params) return false;
  std::string_view rest = *params;
  while (!rest.empty()) {
    const auto space = rest.find(' ');
    if (rest.substr(0, space) == attribute) return true;
    rest = space == rest.npos ? std::string_view{} : rest.substr(space + 1);
  }
  return false;
}

//! [xclient-run]
inline asio::awaitable<smtpipe::transition> xclient_run(smtpipe::session& s, void* closure) {
  using smtpipe::transition;
  long& sent = s.connection_state();
  if (sent) co_return transition::next();  // back here after the EHLO we asked for
  const auto& config = *static_cast<const xclient_config*>(closure);
  std::string line = "XCLIENT";
  for (const auto& [attribute, value] : config.attributes) {
    if (!xclient_offers(s, attribute)) continue;
    line += ' ' + attribute + '=';
    smtpipe::xtext_encode(value, line);
  }
  if (line == "XCLIENT") co_return transition::next();  // nothing the server takes
  sent = 1;
  s.local_state() = static_cast<int>(smtpipe::stage::during_xclient);
  if (auto ec = co_await s.exchange(smtpipe::command_kind::custom, smtpipe::format_line, line))
    co_return s.fail_session(ec);
  s.local_state() = static_cast<int>(smtpipe::stage::after_xclient);
  const smtpipe::reply& r = s.last_reply();
  if (r.code == 220) co_return transition::jump(smtpipe::state_id::ehlo);  // start over
  if (r.code == 421) co_return s.fail_session(r, smtpipe::errc::service_not_available);
  // Refused (e.g. 550 5.7.0 insufficient authorization): go on as ourselves.
  co_return transition::next();
}
//! [xclient-run]

inline bool xclient_applies(const smtpipe::session& s, void*) {
  return s.server_capabilities().has("XCLIENT");
}

inline int xclient_stage(const smtpipe::session& s, void*) { return s.local_state(); }

}  // namespace detail

/// The XCLIENT state, ready for `state_machine::register_state(st, state_id::ehlo)` or
/// `register_smtp_client_state(&st, state_id::ehlo)`. `config` must outlive the registration.
//! [xclient-state]
inline smtpipe::smtp_state xclient_state(const xclient_config* config) {
  smtpipe::smtp_state st;
  st.name = "xclient";
  st.init_local_state = static_cast<int>(smtpipe::stage::during_xclient);
  st.callback = &detail::xclient_run;
  st.tostage = &detail::xclient_stage;
  st.tostring = &smtpipe::default_tostring;
  st.applies = &detail::xclient_applies;
  st.closure = const_cast<xclient_config*>(config);  // Momentum's closure is a void*
  return st;
}
//! [xclient-state]

}  // namespace smtpipe_examples

#endif  // !SMTPIPE_EXAMPLES_XCLIENT_HPP
