// smtpipe/sasl/impl/xoauth2.hpp - The xoauth2 mechanism's entry in the SASL registry.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_SASL_IMPL_XOAUTH2_HPP
#define SMTPIPE_SASL_IMPL_XOAUTH2_HPP

#include "smtpipe/sasl/xoauth2.hpp"

namespace smtpipe::detail {

SMTPIPE_DECL const bool sasl_xoauth2_registered =
    sasl_registry::add({"XOAUTH2", 0, &make_sasl<sasl_xoauth2>});

}  // namespace smtpipe::detail

#endif  // !SMTPIPE_SASL_IMPL_XOAUTH2_HPP
