// cli/usage.hpp - The --help texts of smtpipe-send and smtpipe-sendmail.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_USAGE_HPP
#define SMTPIPE_CLI_USAGE_HPP

#include <string_view>

#ifndef SMTPIPE_SYSCONFDIR
#define SMTPIPE_SYSCONFDIR "/etc"
#endif

namespace smtpipe_cli {

inline constexpr std::string_view send_usage =
    R"(usage: smtpipe-send [options] RECIPIENT... < message

Sends the RFC 5322 message read from standard input to every RECIPIENT over one SMTP
connection. Line ends are canonicalised to CRLF and leading dots stuffed on the way out.

options:
  --server HOST[:PORT]    server to connect to (default localhost:25, or MX routing when
                          built with libunbound); an IPv6 address takes brackets when a
                          port follows: [::1]:2525
  -f, --from ADDRESS      envelope sender (default: login@hostname); "" is the null
                          sender <>
  --helo NAME             EHLO/HELO argument: a domain or an address literal
                          (default localhost)
  --qualify-domain DOMAIN append @DOMAIN to a sender or recipient without '@'
  --no-pipelining         never pipeline commands, even when the server offers PIPELINING
  --lmtp                  speak LMTP (RFC 2033) to --server: LHLO, one reply per recipient
  --no-chunking           send bodies with DATA, even when the server offers CHUNKING (BDAT)
  --8bit-as-is            send an 8-bit body to a server without 8BITMIME unlabelled
                          (default: refuse it before sending, 5.6.3)
  --timeout-scale FACTOR  multiply every timeout by FACTOR (> 0)
  --transcript            write the SMTP conversation to standard error
  -v, --verbose           a line per recipient on standard error, and a summary (by
                          default nothing is written when every recipient is delivered)
  --json                  one JSON object per recipient (and per copy) on standard output
                          instead of the lines on standard error
  -n COUNT                send the message COUNT times over the one connection (on a
                          terminal, a progress line shows count, rate and refusals)
  --max-recipients N      at most N recipients per transaction (default 100; 0: no limit)
  -h, --help              show this help and exit
  --version               show the version and exit

routing (needs a build with libunbound): without --server, to each recipient domain's MX
hosts (RFC 5321 §5.1); --json recipients then say which host and address took them:
  --dns-server IP[:PORT]  the DNS server to ask (default: /etc/resolv.conf's)
  --mx-port PORT          the port of every MX host (default 25)
  --route-by-mx           route by MX where a server would be used (smtpipe-sendmail's
                          localhost:25 or configured server; a later --server undoes it)
  --source-address ADDR   bind outgoing connections to ADDR (with --server too)
  --dns-trust-anchor FILE DNSSEC trust anchor (DS/DNSKEY records; default: the system's
                          root key, with --dns-server only under --tls dane/dane-only;
                          none: no validation); bogus answers never route mail
  --mta-sts, --no-mta-sts MTA-STS (RFC 8461; default on when routing by MX in a build
                          with libcurl): an enforced policy's MX hosts only, over TLS
                          verified for the MX name (--ca-file: also the policy host's CAs)
  --mta-sts-port PORT     the HTTPS port of mta-sts.DOMAIN (default 443; for tests)
  --tlsrpt FILE           write the RFC 8460 TLS report (JSON) of this run to FILE

TLS (needs a build with OpenSSL; without it only --tls none):
  --tls MODE              none, opportunistic (default: STARTTLS when offered; if it
                          fails, the message goes over a fresh plaintext connection),
                          required (STARTTLS or nothing is sent), implicit (TLS from the
                          first byte, port 465), or a security level per MX host:
                          may, encrypt, verify, secure, dane (DANE where the MX host
                          publishes DNSSEC-signed TLSA records, else may), dane-only
                          (docs/transport-security.md)
  --requiretls            REQUIRETLS (RFC 8689): only over DANE- or PKIX-authenticated
                          TLS to a server offering REQUIRETLS, else 5.7.30
  --tls-verify MODE       the server certificate: host (default: trusted chain and the
                          server's name), ca (trusted chain only), none (anything)
  --tls-name NAME         the name the certificate must carry and SNI sends (default: the
                          --server host; give it when --server is an address)
  --ca-file PATH          trusted CAs (PEM) instead of the system's
  --cert PATH --key PATH  a client certificate and its key (PEM)

authentication (RFC 4954; never before TLS unless --allow-plaintext-auth):
  --auth-user USER        authenticate as USER
  --auth-password-file PATH
                          the password (or XOAUTH2 token), read from PATH, one trailing
                          newline removed; never on the command line
  --auth-password-command COMMAND
                          the password is the first line COMMAND prints (run by /bin/sh)
  --auth-mech NAME        SCRAM-SHA-256, CRAM-MD5, PLAIN, LOGIN or XOAUTH2 (default: the
                          strongest both sides support, XOAUTH2 only when named)
  --allow-plaintext-auth  allow credentials over a connection without TLS

exit status: 0 every recipient delivered; 75 some recipient not delivered, none failed
permanently (a required TLS that failed, a certificate refused, AUTH 454...); 69 some
recipient failed permanently (AUTH refused with 535...); 65 the message or an address was
refused before connecting; 64 bad options (or TLS options in a build without OpenSSL);
74 standard input could not be read or spooled.

Called as smtpipe-sendmail (or by any name ending in "sendmail"), it takes sendmail's
options instead: smtpipe-sendmail --help.
)";

inline constexpr std::string_view sendmail_usage =
    R"(usage: smtpipe-sendmail [options] [--] [RECIPIENT...] < message

A sendmail(8) replacement that hands the message to one SMTP server (no queue): the
server, TLS and AUTH settings come from the configuration files.

options:
  -t                 recipients also from the To, Cc and Bcc fields (Bcc always removed);
                     an address without '@' (a local user: "root") gets @qualify-domain
                     from the configuration, else @ this host's name
  -i, -oi            a line holding a single "." does not end the message
  -f, -r ADDRESS     envelope sender ("" or "<>" for the null sender)
  -F NAME            full name for the From: field added to a message without one
  -N DSN             never, or success,failure,delay (NOTIFY, RFC 3461)
  -R full|hdrs       what a DSN returns (RET)
  -V ENVID           envelope ID for DSNs (ENVID)
  -B 7BIT|8BITMIME   body type (BODY)
  -bm                deliver a message (the only mode)
  -C FILE            this configuration file instead of the system's and the user's
  -v                 a line per recipient on standard error
  --help, --version
  accepted and ignored: -o* (but -oi), -d*, -e*, -h N, -L TAG, -O OPT=VALUE, -X FILE,
  -A*, -M*, -p*, -G, -m, -n, -s, -U

configuration: /etc/smtpipe-sendmail.conf, )" SMTPIPE_SYSCONFDIR R"(/smtpipe-sendmail.conf,
then $SMTPIPE_SENDMAIL_CONF or ~/.config/smtpipe/sendmail.conf (later settings win; -C
instead of all). "key value" lines, the keys smtpipe-send's long options: server, from,
helo, qualify-domain, no-pipelining, no-chunking, timeout-scale, max-recipients, tls,
tls-verify, tls-name, ca-file, cert, key, auth-user, auth-password-file, auth-password-command,
auth-mech, allow-plaintext-auth.

exit status (sysexits): 0 delivered; 75 not delivered, try again; 69 refused permanently;
65 message or address refused; 64 bad options or no recipient; 74 input unreadable;
78 a bad configuration file.
)";

}  // namespace smtpipe_cli

#endif  // !SMTPIPE_CLI_USAGE_HPP
