// smtpipe/openssl.hpp - Umbrella header of smtpipe's OpenSSL 3 binding: TLS (STARTTLS and
// implicit TLS) and the SASL mechanisms that need libcrypto. Link libssl and libcrypto (e.g.
// Meson's dependency('openssl')); <smtpipe.hpp> never includes these.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_OPENSSL_HPP
#define SMTPIPE_OPENSSL_HPP

#include "smtpipe/config.hpp"

#include "smtpipe/openssl/tls_layer.hpp"
#include "smtpipe/openssl/tls_provider.hpp"
#include "smtpipe/sasl/cram_md5.hpp"
#include "smtpipe/sasl/crypto.hpp"
#include "smtpipe/sasl/scram_sha256.hpp"

#endif  // !SMTPIPE_OPENSSL_HPP
