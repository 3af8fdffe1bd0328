// smtpipe/states/builtin_states.hpp - The ten built-in state types, in ID order.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_STATES_BUILTIN_STATES_HPP
#define SMTPIPE_STATES_BUILTIN_STATES_HPP

#include "smtpipe/config.hpp"
#include "smtpipe/pipeline/pipeline.hpp"
#include "smtpipe/states/auth.hpp"
#include "smtpipe/states/banner.hpp"
#include "smtpipe/states/data.hpp"
#include "smtpipe/states/ehlo.hpp"
#include "smtpipe/states/helo.hpp"
#include "smtpipe/states/mail.hpp"
#include "smtpipe/states/quit.hpp"
#include "smtpipe/states/rcpt.hpp"
#include "smtpipe/states/rset.hpp"
#include "smtpipe/states/starttls.hpp"

namespace smtpipe::states {

/// The built-in states; element `i` has ID `i`.
using builtin = detail::type_list<banner, ehlo, helo, starttls, auth, mail, rcpt, data, rset, quit>;

}  // namespace smtpipe::states

#endif  // !SMTPIPE_STATES_BUILTIN_STATES_HPP
