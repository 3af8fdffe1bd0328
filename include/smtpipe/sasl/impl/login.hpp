// smtpipe/sasl/impl/login.hpp - The login mechanism's entry in the SASL registry.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SASL_IMPL_LOGIN_HPP
#define SMTPIPE_SASL_IMPL_LOGIN_HPP

#include "smtpipe/sasl/login.hpp"

namespace smtpipe::detail {

SMTPIPE_DECL const bool sasl_login_registered =
    sasl_registry::add({"LOGIN", 1, &make_sasl<sasl_login>});

}  // namespace smtpipe::detail

#endif  // !SMTPIPE_SASL_IMPL_LOGIN_HPP
