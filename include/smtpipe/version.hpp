// smtpipe/version.hpp - Version of the smtpipe headers.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_VERSION_HPP
#define SMTPIPE_VERSION_HPP

#define SMTPIPE_VERSION_MAJOR 0
#define SMTPIPE_VERSION_MINOR 1
#define SMTPIPE_VERSION_PATCH 0
/// One comparable number: major * 10000 + minor * 100 + patch.
#define SMTPIPE_VERSION \
  (SMTPIPE_VERSION_MAJOR * 10000 + SMTPIPE_VERSION_MINOR * 100 + SMTPIPE_VERSION_PATCH)

#endif  // !SMTPIPE_VERSION_HPP
