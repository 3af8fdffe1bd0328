#!/usr/bin/env bash
# tests/tls/make_certs.sh OUTDIR - the TLS test certificates, made with the OpenSSL 3 CLI.
#
# Writes into OUTDIR (created if missing), every key EC P-256 (fast), every file PEM:
#
#   ca.key          ca.crt          "smtpipe test CA": the trust anchor the tests configure
#   server.key      server.crt      the good server: CN=localhost, SAN DNS:localhost and
#                                   IP:127.0.0.1, serverAuth, signed by the test CA
#   selfsigned.key  selfsigned.crt  localhost (same names), self-signed
#   unknown-ca.key  unknown-ca.crt  "smtpipe unknown CA", which the tests never trust
#   untrusted.key   untrusted.crt   localhost (same names), signed by the unknown CA
#   wronghost.key   wronghost.crt   CN and SAN mx.example.org only, signed by the test CA
#   expired.key     expired.crt     localhost (same names), signed by the test CA, valid from
#                                   2020-01-01 to 2020-12-31 only
#   client.key      client.crt      "smtpipe test client", clientAuth, signed by the test CA
#   badsig.key      badsig.crt      server.crt with one bit of its signature flipped: still
#                                   parseable, same names and key (badsig.key = server.key),
#                                   but the CA's signature no longer verifies
#
# Deterministic file names; every run makes a fresh, consistent set (new keys, the same
# properties), built in a temporary directory and then moved into OUTDIR, so it is idempotent
# and an interrupted run leaves the previous set in place. Leaf certificates are valid for
# 3650 days from now. OPENSSL names the openssl program (default: the one in PATH).
#
# The expired certificate needs a validity period in the past. `openssl x509 -req` has no
# -not_before/-not_after before OpenSSL 3.4, so it is issued with `openssl ca -startdate
# -enddate` and a throw-away CA database.
set -euo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$1
openssl=${OPENSSL:-openssl}

mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d "$out/.make_certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# One configuration for everything: the system's openssl.cnf must not change the results.
cat > openssl.cnf <<'EOF'
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = placeholder

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[wronghost_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:mx.example.org
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

# `openssl ca`, for the expired certificate only.
[ca]
default_ca = test_ca
[test_ca]
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = test_policy
unique_subject = no
copy_extensions = none
[test_policy]
commonName = supplied
EOF
export OPENSSL_CONF=/dev/null  # no system configuration for the commands without -config

key() {
  "$openssl" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -pkeyopt ec_param_enc:named_curve -out "$1"
}

# Every certificate gets its own serial number.
serial=4096
next_serial() {
  serial=$((serial + 1))
}

# self_signed NAME SUBJECT EXTENSIONS
self_signed() {
  key "$1.key"
  next_serial
  "$openssl" req -config openssl.cnf -new -x509 -key "$1.key" -subj "$2" -days 3650 \
    -sha256 -extensions "$3" -set_serial "$serial" -out "$1.crt"
}

# signed NAME SUBJECT EXTENSIONS ISSUER
signed() {
  key "$1.key"
  "$openssl" req -config openssl.cnf -new -key "$1.key" -subj "$2" -out "$1.csr"
  next_serial
  "$openssl" x509 -req -in "$1.csr" -CA "$4.crt" -CAkey "$4.key" -days 3650 -sha256 \
    -set_serial "$serial" -extfile openssl.cnf -extensions "$3" -out "$1.crt"
}

self_signed ca "/CN=smtpipe test CA" ca_ext
self_signed unknown-ca "/CN=smtpipe unknown CA" ca_ext
signed server "/CN=localhost" server_ext ca
self_signed selfsigned "/CN=localhost" server_ext
signed untrusted "/CN=localhost" server_ext unknown-ca
signed wronghost "/CN=mx.example.org" wronghost_ext ca
signed client "/CN=smtpipe test client" client_ext ca

# expired: validity entirely in the past, through `openssl ca`.
key expired.key
"$openssl" req -config openssl.cnf -new -key expired.key -subj "/CN=localhost" -out expired.csr
mkdir issued
: > index.txt
next_serial
printf '%04X\n' "$serial" > serial  # `openssl ca` wants an even number of hex digits
"$openssl" ca -config openssl.cnf -batch -notext -cert ca.crt -keyfile ca.key \
  -startdate 20200101000000Z -enddate 20201231235959Z -extensions server_ext \
  -in expired.csr -out expired.crt

# badsig: flip the lowest bit of the last octet of server.crt's DER encoding, the last octet
# of the ECDSA signature's s; the DER stays valid, the signature does not.
"$openssl" x509 -in server.crt -outform DER -out server.der
size=$(wc -c < server.der)
last=$(od -An -tu1 -j $((size - 1)) -N 1 server.der | tr -d ' \n')
head -c $((size - 1)) server.der > badsig.der
# shellcheck disable=SC2059  # the format is the octal escape of the new octet
printf "$(printf '\\%03o' $((last ^ 1)))" >> badsig.der
"$openssl" x509 -inform DER -in badsig.der -out badsig.crt
cp server.key badsig.key

files=(ca unknown-ca server selfsigned untrusted wronghost expired client badsig)
for f in "${files[@]}"; do
  chmod 600 "$f.key"
  chmod 644 "$f.crt"
done
for f in "${files[@]}"; do
  mv -f "$f.key" "$f.crt" "$out/"
done
