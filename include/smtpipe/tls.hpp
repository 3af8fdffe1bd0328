// smtpipe/tls.hpp - Umbrella header for the parts of smtpipe that need OpenSSL 3 (link libssl
// and libcrypto, e.g. Meson's dependency('openssl')). <smtpipe.hpp> never includes these.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TLS_HPP
#define SMTPIPE_TLS_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/tls/crypto.hpp"
#include "smtpipe/tls/openssl_layer.hpp"
#include "smtpipe/tls/openssl_provider.hpp"
#include "smtpipe/tls/sasl_cram_md5.hpp"
#include "smtpipe/tls/sasl_scram_sha256.hpp"

#endif  // !SMTPIPE_TLS_HPP
