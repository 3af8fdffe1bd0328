// examples/support/proxy_header.hpp - A custom state: the PROXY protocol v1 header.
// SPDX-License-Identifier: BSL-1.0
//
// A relay that speaks for another client (a load balancer, a submission front end) starts the
// connection with one line naming that client, as haproxy's PROXY protocol v1 defines it:
//
//   PROXY TCP4 <source address> <destination address> <source port> <destination port>\r\n
//
// The server reads it before it sends its greeting (Postfix: smtpd_upstream_proxy_protocol
// = haproxy). The line gets no reply, so the state queues it with `queue_raw`; it leaves
// with the banner state's flush, before the greeting is read. Registered at `state_id::head`
// it runs first.
#ifndef SMTPIPE_EXAMPLES_PROXY_HEADER_HPP
#define SMTPIPE_EXAMPLES_PROXY_HEADER_HPP

#include <smtpipe/session/session.hpp>

#include <asio/ip/tcp.hpp>

#include <string>
#include <string_view>

namespace smtpipe_examples {

/// "PROXY TCP4 ..." (or TCP6) for a connection from `source` to `destination`; "PROXY UNKNOWN"
/// when the two are of different families (the protocol's answer for that case).
inline std::string proxy_v1_line(const asio::ip::tcp::endpoint& source,
                                 const asio::ip::tcp::endpoint& destination) {
  const bool v4 = source.address().is_v4() && destination.address().is_v4();
  const bool v6 = source.address().is_v6() && destination.address().is_v6();
  if (!v4 && !v6) return "PROXY UNKNOWN\r\n";
  return std::string("PROXY ") + (v4 ? "TCP4 " : "TCP6 ") + source.address().to_string() + ' ' +
         destination.address().to_string() + ' ' + std::to_string(source.port()) + ' ' +
         std::to_string(destination.port()) + "\r\n";
}

/// The default origin: this connection itself (our address and port as the source).
struct this_connection {
  static asio::ip::tcp::endpoint source(smtpipe::session& s) {
    std::error_code ignored;
    return s.io().socket().local_endpoint(ignored);
  }
};

/// The state. `Origin::source(session&)` names the client the header speaks for; the
/// destination is always the server this connection reached.
//! [proxy-header]
template <class Origin = this_connection>
struct proxy_header {
  static constexpr std::string_view name = "proxy_header";
  static constexpr smtpipe::stage stage = smtpipe::stage::reading_banner;

  asio::awaitable<smtpipe::transition> run(smtpipe::session& s) {
    std::error_code ec;
    const auto server = s.io().socket().remote_endpoint(ec);
    if (ec) co_return s.fail_session(ec);
    if (auto qec = s.queue_raw(proxy_v1_line(Origin::source(s), server)))
      co_return s.fail_session(qec);
    co_return smtpipe::transition::next();  // the banner state's flush sends it
  }
};
//! [proxy-header]

}  // namespace smtpipe_examples

#endif  // !SMTPIPE_EXAMPLES_PROXY_HEADER_HPP
