// smtpipe.hpp - Umbrella header: the whole public API of smtpipe but its OpenSSL binding.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_HPP
#define SMTPIPE_HPP

// The layers, bottom up; each includes only the ones above it in this list.
#include "smtpipe/config.hpp"
#include "smtpipe/error.hpp"
#include "smtpipe/version.hpp"

// protocol/: bytes <-> values, no I/O.
#include "smtpipe/protocol/address.hpp"
#include "smtpipe/protocol/base64.hpp"
#include "smtpipe/protocol/body_encoder.hpp"
#include "smtpipe/protocol/bounce_class.hpp"
#include "smtpipe/protocol/bounce_classifier.hpp"
#include "smtpipe/protocol/bounce_rule.hpp"
#include "smtpipe/protocol/capabilities.hpp"
#include "smtpipe/protocol/command.hpp"
#include "smtpipe/protocol/disposition.hpp"
#include "smtpipe/protocol/enhanced_status.hpp"
#include "smtpipe/protocol/esmtp_parameters.hpp"
#include "smtpipe/protocol/reply.hpp"
#include "smtpipe/protocol/reply_parser.hpp"
#include "smtpipe/protocol/xtext.hpp"

// sasl/: the SASL client mechanisms that need no libcrypto (the others: <smtpipe/openssl.hpp>).
#include "smtpipe/sasl/login.hpp"
#include "smtpipe/sasl/mechanism.hpp"
#include "smtpipe/sasl/plain.hpp"
#include "smtpipe/sasl/registry.hpp"
#include "smtpipe/sasl/saslprep.hpp"
#include "smtpipe/sasl/xoauth2.hpp"

// pipeline/: state IDs, registration and order (no I/O).
#include "smtpipe/pipeline/group.hpp"
#include "smtpipe/pipeline/insert_after.hpp"
#include "smtpipe/pipeline/pipeline.hpp"
#include "smtpipe/pipeline/stage.hpp"
#include "smtpipe/pipeline/state.hpp"
#include "smtpipe/pipeline/state_id.hpp"
#include "smtpipe/pipeline/transition.hpp"

// session/: one conversation as the states see it, its transport and results.
#include "smtpipe/session/body_source.hpp"
#include "smtpipe/session/client_args.hpp"
#include "smtpipe/session/command_kind.hpp"
#include "smtpipe/session/message.hpp"
#include "smtpipe/session/observer.hpp"
#include "smtpipe/session/result.hpp"
#include "smtpipe/session/session.hpp"
#include "smtpipe/session/session_options.hpp"
#include "smtpipe/session/timeouts.hpp"
#include "smtpipe/session/tls_layer.hpp"
#include "smtpipe/session/tls_peer_policy.hpp"
#include "smtpipe/session/tlsa_record.hpp"
#include "smtpipe/session/transcript.hpp"
#include "smtpipe/session/transport.hpp"

// states/: the built-in states.
#include "smtpipe/states/auth.hpp"
#include "smtpipe/states/banner.hpp"
#include "smtpipe/states/builtin_states.hpp"
#include "smtpipe/states/data.hpp"
#include "smtpipe/states/ehlo.hpp"
#include "smtpipe/states/helo.hpp"
#include "smtpipe/states/mail.hpp"
#include "smtpipe/states/quit.hpp"
#include "smtpipe/states/rcpt.hpp"
#include "smtpipe/states/rset.hpp"
#include "smtpipe/states/starttls.hpp"

// client/: what binds the layers: the runner, deliver, the runtime machine, Momentum's API.
#include "smtpipe/client/client_args.hpp"
#include "smtpipe/client/deliver.hpp"
#include "smtpipe/client/error_classify.hpp"
#include "smtpipe/client/make_state.hpp"
#include "smtpipe/client/next_state.hpp"
#include "smtpipe/client/registry.hpp"
#include "smtpipe/client/runner.hpp"
#include "smtpipe/client/smtp_state.hpp"
#include "smtpipe/client/state_machine.hpp"

#endif  // !SMTPIPE_HPP
