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

#include "smtpipe/client/impl/deliver.hpp"
#include "smtpipe/sasl/impl/login.hpp"
#include "smtpipe/sasl/impl/plain.hpp"
#include "smtpipe/sasl/impl/xoauth2.hpp"
#include "smtpipe/session/impl/session.hpp"
#include "smtpipe/session/impl/session_control.hpp"
#include "smtpipe/session/impl/transaction_ledger.hpp"
#include "smtpipe/states/impl/auth.hpp"
#include "smtpipe/states/impl/banner.hpp"
#include "smtpipe/states/impl/data.hpp"
#include "smtpipe/states/impl/ehlo.hpp"
#include "smtpipe/states/impl/helo.hpp"
#include "smtpipe/states/impl/mail.hpp"
#include "smtpipe/states/impl/quit.hpp"
#include "smtpipe/states/impl/rcpt.hpp"
#include "smtpipe/states/impl/rset.hpp"
#include "smtpipe/states/impl/starttls.hpp"

#endif  // !SMTPIPE_IMPL_SRC_HPP
