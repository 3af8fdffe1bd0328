// smtpipe/impl/src.hpp - The bodies compiled once under SMTPIPE_SEPARATE_COMPILATION.
// SPDX-License-Identifier: BSL-1.0
//
// Include this header in exactly one translation unit of a program built with
// SMTPIPE_SEPARATE_COMPILATION defined everywhere (e.g. `smtpipe_src.cpp` holding only this
// include). Header-only programs (the default) must not include it.
#ifndef SMTPIPE_IMPL_SRC_HPP
#define SMTPIPE_IMPL_SRC_HPP

#include "smtpipe/config.hpp"

#if !defined(SMTPIPE_SEPARATE_COMPILATION)
#error "smtpipe/impl/src.hpp is for builds with SMTPIPE_SEPARATE_COMPILATION defined"
#endif

#include "smtpipe/session/impl/session.hpp"
#include "smtpipe/session/impl/transaction_ledger.hpp"

#endif  // !SMTPIPE_IMPL_SRC_HPP
