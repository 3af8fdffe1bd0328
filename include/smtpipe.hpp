// smtpipe.hpp - Umbrella header: the whole public API of smtpipe.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_HPP
#define SMTPIPE_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/version.hpp"

#include "smtpipe/protocol/address.hpp"
#include "smtpipe/protocol/base64.hpp"
#include "smtpipe/protocol/body_encoder.hpp"
#include "smtpipe/protocol/capabilities.hpp"
#include "smtpipe/protocol/command.hpp"
#include "smtpipe/protocol/disposition.hpp"
#include "smtpipe/protocol/enhanced_status.hpp"
#include "smtpipe/protocol/esmtp_parameters.hpp"
#include "smtpipe/protocol/reply.hpp"
#include "smtpipe/protocol/reply_parser.hpp"
#include "smtpipe/protocol/xtext.hpp"

#endif  // !SMTPIPE_HPP
