// smtpipe_src.cpp - The one translation unit that compiles smtpipe's session machinery in a
// program built with SMTPIPE_SEPARATE_COMPILATION (see README: "Separate compilation").
// SPDX-License-Identifier: BSL-1.0
#include <smtpipe/impl/src.hpp>
