// smtpipe/sasl/impl/plain.hpp - The plain mechanism's entry in the SASL registry.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SASL_IMPL_PLAIN_HPP
#define SMTPIPE_SASL_IMPL_PLAIN_HPP

#include "smtpipe/sasl/plain.hpp"

namespace smtpipe::detail {

SMTPIPE_DECL const bool sasl_plain_registered =
    sasl_registry::add({"PLAIN", 2, &make_sasl<sasl_plain>});

}  // namespace smtpipe::detail

#endif  // !SMTPIPE_SASL_IMPL_PLAIN_HPP
