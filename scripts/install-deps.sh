#!/bin/sh
# scripts/install-deps.sh - Install the Debian packages smtpipe's build, tests, examples,
# interoperability tests and benchmarks need. Idempotent: when every package is already
# installed it does nothing (no apt-get at all); otherwise it installs only what is missing.
# Postfix is installed without configuration, so no system mail service is set up or started:
# the interoperability tests run their own instance from a temporary directory. The same goes
# for Dovecot (dovecot-core, the SASL authentication service behind Postfix's submission
# listener in the interoperability tests): if installing it started the system's dovecot
# service, this script stops and disables it again.
#
# Usage: scripts/install-deps.sh        (as root, or through sudo when it is available)
set -eu

PACKAGES="meson ninja-build pkg-config g++ clang clang-format libboost-dev libasio-dev doctest-dev
libssl-dev libbenchmark-dev postfix python3-aiosmtpd python3-aiosmtplib libpoco-dev
libcurl4-openssl-dev swaks openssl gnuplot-nox strace dovecot-core dovecot-lmtpd scdoc unbound
libunbound-dev libclang-rt-14-dev llvm ldnsutils dns-root-data iproute2"

is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=""
for p in $PACKAGES; do
  is_installed "$p" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-deps: every package is installed"
  exit 0
fi
echo "install-deps: installing:$missing"

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "install-deps: must run as root (or with sudo available) to install:$missing" >&2
  exit 1
fi

# Postfix asks how to configure the system's mail service: answer "No configuration".
echo "postfix postfix/main_mailer_type select No configuration" | $as_root debconf-set-selections
echo "postfix postfix/mailname string localhost" | $as_root debconf-set-selections

$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086 # one word per package
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing

# A freshly installed dovecot-core may have started the system service: the tests start their
# own instance, so stop it and keep it from starting at boot.
case " $missing " in
  *" dovecot-core "*)
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      $as_root systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
    elif command -v invoke-rc.d >/dev/null 2>&1; then
      $as_root invoke-rc.d dovecot stop >/dev/null 2>&1 || true
      $as_root update-rc.d dovecot disable >/dev/null 2>&1 || true
    fi
    ;;
esac

still_missing=""
for p in $missing; do
  is_installed "$p" || still_missing="$still_missing $p"
done
if [ -n "$still_missing" ]; then
  echo "install-deps: not installed:$still_missing" >&2
  exit 1
fi
echo "install-deps: done"
