// smtpipe/client/impl/deliver.hpp - Bodies of deliver's connect step.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLIENT_IMPL_DELIVER_HPP
#define SMTPIPE_CLIENT_IMPL_DELIVER_HPP

#include "smtpipe/client/deliver.hpp"

#include <asio/connect.hpp>
#include <asio/experimental/awaitable_operators.hpp>

SMTPIPE_COROUTINE_WARNINGS_BEGIN

namespace smtpipe::detail {

SMTPIPE_DECL asio::awaitable<std::error_code> resolve_and_connect(asio::ip::tcp::socket& socket,
                                                                  const std::string& host,
                                                                  const std::string& port) {
  using asio::experimental::as_tuple;
  asio::ip::tcp::resolver resolver(socket.get_executor());
  auto [ec, endpoints] = co_await resolver.async_resolve(host, port, as_tuple(asio::use_awaitable));
  if (ec) co_return ec;
  auto [cec, ep] = co_await asio::async_connect(socket, endpoints, as_tuple(asio::use_awaitable));
  co_return cec;
}

SMTPIPE_DECL asio::awaitable<std::error_code> connect_to::operator()(
    asio::ip::tcp::socket& socket) const {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(socket.get_executor(), timeout);
  auto outcome = co_await (resolve_and_connect(socket, host, port) ||
                           timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable)));
  if (outcome.index() == 1) co_return make_error_code(errc::timeout);
  co_return std::get<0>(outcome);
}

}  // namespace smtpipe::detail

SMTPIPE_COROUTINE_WARNINGS_END

#endif  // !SMTPIPE_CLIENT_IMPL_DELIVER_HPP
