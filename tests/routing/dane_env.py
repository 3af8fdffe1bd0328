#!/usr/bin/env python3
"""DANE (RFC 7672), DNSSEC and REQUIRETLS (RFC 8689) end to end on loopback, through
smtpipe-send:

    dane_env.py --send PATH/smtpipe-send --aiosmtpd-server tests/interop/aiosmtpd_server.py \
                --make-certs tests/tls/make_certs.sh

At setup the test makes the certificates (the test PKI of make_certs.sh, plus an MX
certificate for mx-ta signed by its CA), computes the TLSA records from them with openssl,
generates a DNSSEC key pair with ldns-keygen, signs the zone dane.test. with ldns-signzone and
then tampers with two of its RRsets (their signatures no longer verify), and serves it, with
the unsigned zone insecure.test., from an unbound it starts (auth-zone). smtpipe-send
validates with --dns-trust-anchor set to the zone's key (the test trust anchor). aiosmtpd
servers (STARTTLS) listen on 127.0.0.21-31, all on one port P; the TLSA records are at
_P._tcp.HOST (the port actually used, as RFC 7672 §2.2.3 builds the name from it).

    ee        MX mx-ee       TLSA 3 1 1 (key of a cert of an unknown CA, CN localhost) -> dane-ee
    ta        MX mx-ta       TLSA 2 0 1 (the test CA; leaf names mx-ta.dane.test)      -> dane-ta
    mismatch  MX 5 mx-bad    TLSA 3 1 1 (some other key)  MX 10 mx-ee  -> mx-bad refused, mx-ee
    two       MX 5 mx-ee, MX 10 mx-ta                   -> REQUIRETLS: both tried, then 5.7.30
    unusable  MX mx-pkix     TLSA 1 1 1 and 0 0 1 only (unusable for SMTP) -> opportunistic TLS
    tamper    MX mx-tamper   TLSA tampered after signing (bogus) -> transient, nothing sent
    bogus     MX tampered after signing (bogus)             -> transient, nothing sent
    plain     MX mx-plain    TLSA 3 1 1, no STARTTLS offered -> refused, nothing sent
    expired   MX mx-exp      TLSA 3 0 2 (an expired certificate, SHA2-512) -> dane-ee
    rtls      MX 5 mx-ee, MX 10 mx-rtls (127.0.0.30, requiretls_server.py: offers REQUIRETLS,
                             records the SNI; a leaf of the CA naming mx-rtls, TLSA 3 1 1)
    dane.test MX mx-rtls     -> level secure: a subdomain of the recipient domain, SNI mx-rtls
    taname    MX mx-taname   TLSA 2 1 1 (the CA's key, in the chain; the leaf names localhost)
                                                            -> refused for the name
    insecure.test  MX mx-ins (unsigned zone, TLSA present)  -> no DANE, opportunistic TLS
    A message with "TLS-Required: No" (RFC 8689 §5) goes to taname, plain (dane-only) and
    insecure.test (verify) anyway; with --requiretls too, REQUIRETLS wins and nothing is sent.
    alias     MX alias-ta    alias-ta CNAME mx-ta (TLSA at mx-ta only)  -> dane-ta at the target
    alias2    MX alias-ee    alias-ee CNAME mx-ee2 (A 127.0.0.21, no TLSA); TLSA 3 1 1 at
                             alias-ee only                  -> dane-ee at the original name
    alias3    MX alias-ins   alias-ins CNAME mx-ins.insecure.test (insecure link); TLSA at
                             alias-ins (mismatching)        -> no DANE, opportunistic TLS

With --sts-server (tests/routing/mta_sts_server.py, on 127.0.0.32) DANE's precedence over
MTA-STS (RFC 8461 §2) and TLSRPT (RFC 8460) for both: two signed domains with a _mta-sts TXT
record and one enforce policy, mx: mx-stsb.dane.test (mx-stsb, 127.0.0.31: no TLSA, a test-CA
certificate for its name):

    sts-dane  MX 5 mx-ee (DANE-EE, not in the policy), MX 10 mx-stsb  -> mx-ee, dane-ee
    sts-pkix  MX 5 mx-pkix (unusable TLSA, not in the policy), MX 10 mx-stsb
                                                    -> mx-pkix skipped, mx-stsb, mta-sts

Everything listens on 127.0.0.0/8 only and is stopped at the end, whatever happens.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts", "pylib"))
sys.path.insert(0, HERE)
from loopback_servers import SBIN_PATH, ServerUnavailable, read_text, stop_process, wait_until  # noqa: E402
from routing_env import Checks, TlsSink, check, check_tlsrpt, closed_udp_port, issue_cert  # noqa: E402

ZONE = "dane.test"
INSECURE = "insecure.test"
# name: (address, certificate file stem, STARTTLS offered)
HOSTS = {
    "mx-ee": ("127.0.0.21", "untrusted", True),
    "mx-ta": ("127.0.0.22", "mx-ta-chain", True),
    "mx-bad": ("127.0.0.23", "server", True),
    "mx-pkix": ("127.0.0.24", "server", True),
    "mx-tamper": ("127.0.0.25", "server", True),
    "mx-ins": ("127.0.0.26", "server", True),
    "mx-plain": ("127.0.0.27", None, False),
    "mx-exp": ("127.0.0.28", "expired", True),
    "mx-taname": ("127.0.0.29", "server-chain", True),
    "mx-rtls": ("127.0.0.30", "mx-rtls-chain", True),  # requiretls_server.py: REQUIRETLS, SNI
    "mx-stsb": ("127.0.0.31", "mx-stsb", True),  # no TLSA; the MTA-STS policies' one mx
}
STS_HTTPS = "127.0.0.32"
# The MTA-STS domains (precedence cases): MX targets, one enforce policy listing mx-stsb only.
STS_MX = {"sts-dane": ["5 mx-ee", "10 mx-stsb"], "sts-pkix": ["5 mx-pkix", "10 mx-stsb"]}
STS_POLICY = f"version: STSv1\r\nmode: enforce\r\nmx: mx-stsb.{ZONE}\r\nmax_age: 86400\r\n"


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def cert_der(path):
    return openssl("x509", "-in", path, "-outform", "DER")


def spki_der(path):
    pem = openssl("x509", "-in", path, "-pubkey", "-noout")
    return openssl("pkey", "-pubin", "-outform", "DER", data=pem)


def make_certs(make_certs_sh, certs):
    mk = subprocess.run(["bash", make_certs_sh, certs], capture_output=True, text=True, timeout=60)
    if mk.returncode != 0:
        raise ServerUnavailable(f"make_certs.sh: {mk.stderr[-1000:]}")
    # mx-ta: a leaf of the test CA naming the MX host, served with the CA (DANE-TA needs the
    # trust anchor in the chain the server presents, RFC 7671 §5.2.2); mx-rtls: likewise.
    for stem, serial in (("mx-ta", 7001), ("mx-rtls", 7002)):
        ext = os.path.join(certs, f"{stem}.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    f"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{stem}.{ZONE}\n")
        key, csr, crt = (os.path.join(certs, f"{stem}.{x}") for x in ("key", "csr", "crt"))
        env = dict(os.environ, OPENSSL_CONF="/dev/null")
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", key], check=True, capture_output=True, env=env)
        subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", f"/CN={stem}.{ZONE}",
                        "-out", csr], check=True, capture_output=True, env=env)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(certs, "ca.crt"),
                        "-CAkey", os.path.join(certs, "ca.key"), "-days", "30", "-sha256",
                        "-set_serial", str(serial), "-extfile", ext, "-out", crt],
                       check=True, capture_output=True, env=env)
        with open(os.path.join(certs, f"{stem}-chain.crt"), "w") as out:
            out.write(read_text(crt) + read_text(os.path.join(certs, "ca.crt")))
        shutil.copy(key, os.path.join(certs, f"{stem}-chain.key"))
    # server-chain: the test PKI's server certificate (names localhost) with its CA.
    with open(os.path.join(certs, "server-chain.crt"), "w") as out:
        out.write(read_text(os.path.join(certs, "server.crt")) + read_text(os.path.join(certs, "ca.crt")))
    shutil.copy(os.path.join(certs, "server.key"), os.path.join(certs, "server-chain.key"))
    # MTA-STS: mx-stsb's certificate names it; the policy server's names every mta-sts host.
    issue_cert(certs, "mx-stsb", [f"mx-stsb.{ZONE}"])
    issue_cert(certs, "mta-sts", [f"mta-sts.{d}.{ZONE}" for d in STS_MX])


def tlsa(usage, selector, matching, der):
    data = der if matching == 0 else hashlib.sha256(der).digest() if matching == 1 \
        else hashlib.sha512(der).digest()
    return f"TLSA {usage} {selector} {matching} {data.hex()}"


def zones(base, certs, port):
    """Writes dane.test (signed, then tampered) and insecure.test; returns the anchor file."""
    c = lambda n: os.path.join(certs, f"{n}.crt")  # noqa: E731
    owner = lambda h, z=ZONE: f"_{port}._tcp.{h}.{z}."  # noqa: E731
    rr = [f"{ZONE}. 3600 IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300",
          f"{ZONE}. 3600 IN NS ns.{ZONE}.", f"ns.{ZONE}. 3600 IN A 127.0.0.1"]
    for name, (ip, _, _) in HOSTS.items():
        if name != "mx-ins":
            rr.append(f"{name}.{ZONE}. 3600 IN A {ip}")
    mx = {"ee": ["10 mx-ee"], "ta": ["10 mx-ta"], "mismatch": ["5 mx-bad", "10 mx-ee"],
          "unusable": ["10 mx-pkix"], "tamper": ["10 mx-tamper"], "bogus": ["10 mx-ee"],
          "plain": ["10 mx-plain"], "two": ["5 mx-ee", "10 mx-ta"], "expired": ["10 mx-exp"],
          "taname": ["10 mx-taname"], "rtls": ["5 mx-ee", "10 mx-rtls"], **STS_MX}
    rr.append(f"{ZONE}. 3600 IN MX 10 mx-rtls.{ZONE}.")  # the apex: secure, MX host below it
    mx.update({"alias": ["10 alias-ta"], "alias2": ["10 alias-ee"], "alias3": ["10 alias-ins"]})
    for d in STS_MX:
        rr += [f'_mta-sts.{d}.{ZONE}. 3600 IN TXT "v=STSv1; id={d.replace("-", "")}1;"',
               f"mta-sts.{d}.{ZONE}. 3600 IN A {STS_HTTPS}"]
    for d, targets in mx.items():
        for t in targets:
            rr.append(f"{d}.{ZONE}. 3600 IN MX {t}.{ZONE}.")
    # MX host names that are aliases (RFC 7672 §2.2.2).
    rr += [f"alias-ta.{ZONE}. 3600 IN CNAME mx-ta.{ZONE}.",
           f"alias-ee.{ZONE}. 3600 IN CNAME mx-ee2.{ZONE}.",
           f"mx-ee2.{ZONE}. 3600 IN A {HOSTS['mx-ee'][0]}",
           f"{owner('alias-ee')} 3600 IN {tlsa(3, 1, 1, spki_der(c('untrusted')))}",
           f"alias-ins.{ZONE}. 3600 IN CNAME mx-ins.{INSECURE}.",
           f"{owner('alias-ins')} 3600 IN {tlsa(3, 1, 1, spki_der(c('wronghost')))}"]
    rr += [f"{owner('mx-ee')} 3600 IN {tlsa(3, 1, 1, spki_der(c('untrusted')))}",
           f"{owner('mx-ta')} 3600 IN {tlsa(2, 0, 1, cert_der(c('ca')))}",
           f"{owner('mx-bad')} 3600 IN {tlsa(3, 1, 1, spki_der(c('wronghost')))}",
           f"{owner('mx-pkix')} 3600 IN {tlsa(1, 1, 1, spki_der(c('server')))}",
           f"{owner('mx-pkix')} 3600 IN {tlsa(0, 0, 1, cert_der(c('ca')))}",
           f"{owner('mx-tamper')} 3600 IN {tlsa(3, 1, 1, spki_der(c('selfsigned')))}",
           f"{owner('mx-plain')} 3600 IN {tlsa(3, 1, 1, spki_der(c('server')))}",
           f"{owner('mx-exp')} 3600 IN {tlsa(3, 0, 2, cert_der(c('expired')))}",
           f"{owner('mx-taname')} 3600 IN {tlsa(2, 1, 1, spki_der(c('ca')))}",
           f"{owner('mx-rtls')} 3600 IN {tlsa(3, 1, 1, spki_der(c('mx-rtls')))}"]
    zdir = os.path.join(base, "zones")
    os.makedirs(zdir)
    zfile = os.path.join(zdir, ZONE)
    with open(zfile, "w") as f:
        f.write("\n".join(rr) + "\n")
    keygen = shutil.which("ldns-keygen")
    sign = shutil.which("ldns-signzone")
    if not keygen or not sign:
        raise ServerUnavailable("ldns-keygen/ldns-signzone not found: install ldnsutils")
    ksk = subprocess.run([keygen, "-a", "ECDSAP256SHA256", "-k", f"{ZONE}."], cwd=zdir,
                         capture_output=True, text=True, check=True).stdout.strip()
    zsk = subprocess.run([keygen, "-a", "ECDSAP256SHA256", f"{ZONE}."], cwd=zdir,
                         capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([sign, "-n", zfile, ksk, zsk], cwd=zdir, capture_output=True, text=True,
                   check=True)
    signed = read_text(zfile + ".signed")
    # Tampering after signing: the TLSA of mx-tamper gets another digest, the MX of
    # bogus.dane.test another target; their RRSIGs stay, and no longer verify.
    digest = hashlib.sha256(spki_der(c("selfsigned"))).hexdigest()
    tampered = re.sub(digest, "00" * 32, signed, flags=re.I)
    tampered, n = re.subn(rf"^(bogus\.{ZONE}\.\s+\d+\s+IN\s+MX\s+10\s+)mx-ee\.", r"\1mx-pkix.",
                          tampered, flags=re.M)
    check(tampered.count("00" * 32) == 1 and n == 1, "the signed zone could not be tampered with")
    with open(zfile + ".signed", "w") as f:
        f.write(tampered)
    anchor = os.path.join(zdir, "anchor.key")
    shutil.copy(os.path.join(zdir, ksk + ".key"), anchor)
    ins = [f"{INSECURE}. 3600 IN SOA ns.{INSECURE}. hostmaster.{INSECURE}. 1 3600 600 86400 300",
           f"{INSECURE}. 3600 IN NS ns.{INSECURE}.", f"ns.{INSECURE}. 3600 IN A 127.0.0.1",
           f"{INSECURE}. 3600 IN MX 10 mx-ins.{INSECURE}.",
           f"mx-ins.{INSECURE}. 3600 IN A {HOSTS['mx-ins'][0]}",
           f"{owner('mx-ins', INSECURE)} 3600 IN {tlsa(3, 1, 1, spki_der(c('wronghost')))}"]
    with open(os.path.join(zdir, INSECURE), "w") as f:
        f.write("\n".join(ins) + "\n")
    return zfile + ".signed", os.path.join(zdir, INSECURE), anchor


class AuthUnbound:
    """unbound answering dane.test. and insecure.test. from zone files (auth-zone)."""

    def __init__(self, base, signed, insecure):
        self.base, self.signed, self.insecure = base, signed, insecure
        self.port = closed_udp_port()
        self.proc = None

    def start(self):
        tool = shutil.which("unbound", path=SBIN_PATH)
        if not tool:
            raise ServerUnavailable("unbound not found (scripts/install-deps.sh)")
        conf = os.path.join(self.base, "unbound.conf")
        with open(conf, "w") as f:
            f.write(f"""server:
  interface: 127.0.0.1@{self.port}
  port: {self.port}
  do-ip6: no
  username: ""
  chroot: ""
  directory: "{self.base}"
  pidfile: "{self.base}/unbound.pid"
  use-syslog: no
  logfile: "{self.base}/unbound.log"
  verbosity: 1
  module-config: "iterator"
  local-zone: "." refuse
  local-zone: "{ZONE}." transparent
  local-zone: "{INSECURE}." transparent
remote-control:
  control-enable: no
auth-zone:
  name: "{ZONE}."
  zonefile: "{self.signed}"
  for-downstream: yes
  for-upstream: no
auth-zone:
  name: "{INSECURE}."
  zonefile: "{self.insecure}"
  for-downstream: yes
  for-upstream: no
""")
        chk = subprocess.run([shutil.which("unbound-checkconf", path=SBIN_PATH), conf],
                             capture_output=True, text=True)
        if chk.returncode != 0:
            raise ServerUnavailable(f"unbound-checkconf: {chk.stdout}{chk.stderr}")
        self.proc = subprocess.Popen([tool, "-d", "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def answers():
            if self.proc.poll() is not None:
                return True
            q = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x05mx-ee\x04dane\x04test\x00\x00\x01\x00\x01")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.3)
                try:
                    s.sendto(q, ("127.0.0.1", self.port))
                    reply = s.recv(512)
                    return len(reply) > 12 and (reply[3] & 0x0f) == 0 and reply[7] > 0
                except OSError:
                    return False
        if not wait_until(answers, 15) or self.proc.poll() is not None:
            raise ServerUnavailable("unbound did not start: " +
                                    read_text(os.path.join(self.base, "unbound.log"))[-2000:])

    def stop(self):
        stop_process(self.proc)


def free_port_on(hosts):
    for _ in range(50):
        with socket.socket() as s:
            s.bind((hosts[0], 0))
            port = s.getsockname()[1]
        ok = True
        for h in hosts:
            with socket.socket() as s:
                try:
                    s.bind((h, port))
                except OSError:
                    ok = False
        if ok:
            return port
    raise ServerUnavailable("no port free on every test address")


def e2e(send, dns, port, anchor, sinks, certs):
    c = Checks()
    message = b"Subject: dane\r\n\r\nauthenticated by DANE\r\n"
    base = [send, "--dns-server", dns, "--mx-port", str(port), "--dns-trust-anchor", anchor,
            "--json", "--timeout-scale", "0.1", "-f", "sender@example.org",
            "--helo", "client.example.org"]

    def counts():
        return {n: len(s.messages()) for n, s in sinks.items()}

    def send_to(rcpt, tls="dane", extra=(), body=message):
        before = counts()
        p = subprocess.run(base + ["--tls", tls, "--transcript"] + list(extra) + [rcpt],
                           input=body, capture_output=True, timeout=60)
        out = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
        rows = [o for o in out if "rcpt" in o]
        refused = [o["refused"] for o in out if "refused" in o]
        new = {n: sinks[n].messages()[before[n]:] for n in sinks}
        return p, rows, refused, new, p.stderr.decode(errors="replace")

    def only(new, name):
        return all(not v for n, v in new.items() if n != name) and len(new[name]) == 1

    def delivered(domain, host, auth):
        def fn():
            p, rows, refused, new, err = send_to(f"user@{domain}")
            check(p.returncode == 0, f"exit {p.returncode}: {err}")
            check(rows[0]["status"] == "delivered" and rows[0]["host"] == f"{host}.{ZONE}",
                  f"rows {rows}\n{err}")
            check(rows[0]["tls_auth"] == auth, f"tls_auth {rows[0]}")
            check(only(new, host) and new[host][0]["tls"] is True, f"servers got {new}")
        return fn
    c.case("DANE-EE: the key matches; unknown CA and wrong name ignored",
           delivered(f"ee.{ZONE}", "mx-ee", "dane-ee"))
    c.case("DANE-TA: the chain leads to the TLSA's CA, the leaf names the MX host",
           delivered(f"ta.{ZONE}", "mx-ta", "dane-ta"))
    c.case("DANE-EE (3 0 2): an expired certificate is accepted (RFC 7672 §3.1.1)",
           delivered(f"expired.{ZONE}", "mx-exp", "dane-ee"))

    def mismatch():
        p, rows, refused, new, err = send_to(f"user@mismatch.{ZONE}")
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(rows[0]["host"] == f"mx-ee.{ZONE}" and rows[0]["tls_auth"] == "dane-ee", f"rows {rows}")
        check(any(r["host"] == f"mx-bad.{ZONE}" for r in refused), f"refused {refused}")
        check(only(new, "mx-ee"), f"servers got {new}")
    def alias(domain, mx, server, auth, note):
        def fn():
            p, rows, refused, new, err = send_to(f"user@{domain}")
            check(p.returncode == 0, f"exit {p.returncode}: {err}")
            check(rows[0]["host"] == f"{mx}.{ZONE}" and rows[0]["tls_auth"] == auth, f"rows {rows}\n{err}")
            check(only(new, server) and new[server][0]["tls"] is True, f"servers got {new}")
            check(note in err, f"no '{note}' in:\n{err}")
        return fn
    c.case("MX host a secure CNAME: TLSA at the expanded name (DANE-TA, leaf names the target)",
           alias(f"alias.{ZONE}", "alias-ta", "mx-ta", "dane-ta", "usable TLSA"))
    c.case("MX host a secure CNAME, no TLSA at the target: TLSA at the original name",
           alias(f"alias2.{ZONE}", "alias-ee", "mx-ee", "dane-ee", "usable TLSA"))
    c.case("MX host a CNAME into an unsigned zone: insecure, no DANE (its TLSA ignored)",
           alias(f"alias3.{ZONE}", "alias-ins", "mx-ins", "none", "not DNSSEC-signed"))

    c.case("TLSA mismatch: that MX refused as a TLS failure, the next MX used", mismatch)

    def unusable():
        p, rows, refused, new, err = send_to(f"user@unusable.{ZONE}")
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(rows[0]["host"] == f"mx-pkix.{ZONE}" and rows[0]["tls_auth"] == "none", f"rows {rows}")
        check(only(new, "mx-pkix") and new["mx-pkix"][0]["tls"] is True, f"servers got {new}")
        check("no usable TLSA" in err, f"no note: {err}")
    c.case("only PKIX-TA/PKIX-EE TLSA: unusable, opportunistic TLS", unusable)

    def ta_wrong_name():
        p, rows, refused, new, err = send_to(f"user@taname.{ZONE}")
        check(p.returncode != 0 and rows[0]["status"] == "transient", f"rows {rows}")
        check(all(not v for v in new.values()), f"servers got {new}")
        check(refused and refused[0]["host"] == f"mx-taname.{ZONE}", f"refused {refused}")
        check("hostname mismatch" in refused[0]["reason"], f"not for the name: {refused}")
        check("MAIL FROM" not in err, f"a MAIL FROM was sent: {err}")
    c.case("DANE-TA (2 1 1) matches the CA but the leaf does not name the MX host: refused",
           ta_wrong_name)

    def dane_only_unusable():
        p, rows, refused, new, err = send_to(f"user@unusable.{ZONE}", tls="dane-only")
        check(p.returncode != 0 and rows[0]["status"] == "transient", f"rows {rows}")
        check(rows[0]["enhanced"] == "4.7.5", f"rows {rows}")
        check(all(not v for v in new.values()), f"servers got {new}")
        check(refused and "no usable TLSA" in refused[0]["reason"], f"refused {refused}")
    c.case("dane-only and no usable TLSA: nothing sent, transient", dane_only_unusable)

    def nothing_sent(domain, why, enhanced):
        def fn():
            p, rows, refused, new, err = send_to(f"user@{domain}")
            check(p.returncode != 0, f"exit 0: {rows}")
            check(rows[0]["status"] == "transient", f"rows {rows}")
            check(rows[0]["enhanced"] == enhanced, f"rows {rows}")
            check(all(not v for v in new.values()), f"servers got {new}")
            check(why in err or any(why in r["reason"] for r in refused) or why in rows[0]["text"],
                  f"no '{why}' in: {err} {refused} {rows}")
            check("MAIL FROM" not in err, f"a MAIL FROM was sent:\n{err}")
        return fn
    c.case("TLSA RRset bogus (tampered): transient, nothing sent",
           nothing_sent(f"tamper.{ZONE}", "bogus", "4.7.5"))
    c.case("MX RRset bogus (tampered): transient, no connection",
           nothing_sent(f"bogus.{ZONE}", "bogus", "4.7.5"))
    c.case("usable TLSA, server without STARTTLS: nothing sent in plaintext",
           nothing_sent(f"plain.{ZONE}", "STARTTLS", None))

    def insecure():
        p, rows, refused, new, err = send_to(f"user@{INSECURE}")
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(rows[0]["host"] == f"mx-ins.{INSECURE}" and rows[0]["tls_auth"] == "none", f"rows {rows}")
        check(only(new, "mx-ins") and new["mx-ins"][0]["tls"] is True, f"servers got {new}")
    c.case("insecure (unsigned) zone: TLSA ignored, no DANE", insecure)

    def without_anchor():
        # The same signed zone without its anchor: insecure, so no DANE (the mismatching MX
        # is then used with opportunistic TLS).
        args = [a for a in base if a not in ("--dns-trust-anchor", anchor)]
        before = counts()
        p = subprocess.run(args + ["--tls", "dane", f"user@mismatch.{ZONE}"], input=message,
                           capture_output=True, timeout=60)
        rows = [json.loads(x) for x in p.stdout.decode().splitlines() if '"rcpt"' in x]
        check(p.returncode == 0 and rows[0]["host"] == f"mx-bad.{ZONE}", f"rows {rows}")
        check(len(sinks["mx-bad"].messages()) == before["mx-bad"] + 1, "mx-bad got nothing")
    c.case("no trust anchor for the zone: not validated, no DANE", without_anchor)

    def level(domain, tls, host, auth, ca=True):
        def fn():
            extra = ["--ca-file", os.path.join(certs, "ca.crt")] if ca else []
            p, rows, refused, new, err = send_to(f"user@{domain}", tls=tls, extra=extra)
            if host is None:
                check(p.returncode != 0 and rows[0]["status"] == "transient", f"rows {rows}")
                check(all(not v for v in new.values()), f"servers got {new}")
                check(refused, f"no refused host: {rows}")
                return
            check(p.returncode == 0, f"exit {p.returncode}: {err}")
            check(rows[0]["host"].startswith(host) and rows[0]["tls_auth"] == auth, f"rows {rows}")
            check(only(new, host) and new[host][0]["tls"] is True, f"servers got {new}")
        return fn
    c.case("level verify: trusted chain naming the MX host (pkix)",
           level(f"ta.{ZONE}", "verify", "mx-ta", "pkix"))
    c.case("level verify: certificate not naming the MX host: refused, nothing sent",
           level(INSECURE, "verify", None, None))
    c.case("level secure: certificate names the MX host, not the domain: refused",
           level(f"ta.{ZONE}", "secure", None, None))

    def secure_subdomain():
        extra = ["--ca-file", os.path.join(certs, "ca.crt")]
        p, rows, refused, new, err = send_to(f"user@{ZONE}", tls="secure", extra=extra)
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(rows[0]["host"] == f"mx-rtls.{ZONE}" and rows[0]["tls_auth"] == "pkix", f"rows {rows}")
        check(only(new, "mx-rtls") and new["mx-rtls"][0]["tls"] is True, f"servers got {new}")
        sni = new["mx-rtls"][0].get("sni")
        check(sni == f"mx-rtls.{ZONE}", f"SNI {sni!r}, not the MX host name")
    c.case("level secure: the MX host is under the recipient domain (dot-nexthop); SNI the MX host",
           secure_subdomain)
    c.case("level encrypt: TLS with any certificate (none)",
           level(f"ee.{ZONE}", "encrypt", "mx-ee", "none", ca=False))

    def requiretls():
        p, rows, refused, new, err = send_to(f"user@two.{ZONE}", extra=["--requiretls"])
        check(p.returncode != 0, f"exit 0: {rows}")
        check(rows[0]["status"] == "permanent" and rows[0]["enhanced"] == "5.7.30", f"rows {rows}")
        # Both MX hosts were tried (RFC 8689 §4.2.1), over DANE-authenticated TLS.
        check([r["host"] for r in refused] == [f"mx-ee.{ZONE}", f"mx-ta.{ZONE}"], f"refused {refused}")
        check(rows[0]["host"] == f"mx-ta.{ZONE}", f"rows {rows}")
        check(all(not v for v in new.values()), f"servers got {new}")
        check("MAIL FROM" not in err, f"a MAIL FROM was sent: {err}")
    c.case("REQUIRETLS, two DANE-authenticated MX hosts without REQUIRETLS: both tried, 5.7.30, "
           "nothing sent",
           requiretls)

    def requiretls_delivered():
        p, rows, refused, new, err = send_to(f"user@rtls.{ZONE}", extra=["--requiretls"])
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(rows[0]["host"] == f"mx-rtls.{ZONE}" and rows[0]["tls_auth"] == "dane-ee", f"rows {rows}")
        check([r["host"] for r in refused] == [f"mx-ee.{ZONE}"], f"refused {refused}")
        check(only(new, "mx-rtls"), f"servers got {new}")
        got = new["mx-rtls"][0]
        check(got["tls"] is True and got["requiretls"] is True, f"the server got {got}")
        mails = [x for x in err.splitlines() if x.startswith("C: MAIL FROM:")]
        check(len(mails) == 1 and mails[0].endswith(" REQUIRETLS"), f"MAIL FROM lines: {mails}")
    c.case("REQUIRETLS: the first MX lacks it, the second (DANE, REQUIRETLS) gets MAIL FROM "
           "... REQUIRETLS", requiretls_delivered)

    def requiretls_unauthenticated():
        p, rows, refused, new, err = send_to(f"user@{INSECURE}", extra=["--requiretls"])
        check(p.returncode != 0, f"exit 0: {rows}")
        check(rows[0]["status"] == "permanent" and rows[0]["enhanced"] == "5.7.30", f"rows {rows}")
        check(all(not v for v in new.values()), f"servers got {new}")
        check("STARTTLS" in err and "MAIL FROM" not in err, f"transcript: {err}")
    c.case("REQUIRETLS over unauthenticated (opportunistic) TLS: 5.7.30, no MAIL FROM",
           requiretls_unauthenticated)
    optional = b"Subject: dane\r\nTLS-Required: No\r\n\r\ndelivery matters more than security\r\n"

    def tls_required_no():
        p, rows, refused, new, err = send_to(f"user@taname.{ZONE}", body=optional)
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(rows[0]["host"] == f"mx-taname.{ZONE}" and rows[0]["tls_auth"] == "none", f"rows {rows}")
        check(only(new, "mx-taname") and new["mx-taname"][0]["tls"] is True, f"servers got {new}")
    c.case("TLS-Required: No: the DANE-TA name failure is ignored, sent over unauthenticated TLS",
           tls_required_no)

    def tls_required_no_plain():
        p, rows, refused, new, err = send_to(f"user@plain.{ZONE}", tls="dane-only", body=optional)
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(rows[0]["host"] == f"mx-plain.{ZONE}", f"rows {rows}")
        check(only(new, "mx-plain") and new["mx-plain"][0]["tls"] is False, f"servers got {new}")
    c.case("TLS-Required: No at dane-only: usable TLSA, no STARTTLS offered: sent in plaintext",
           tls_required_no_plain)

    def tls_required_no_verify():
        p, rows, refused, new, err = send_to(f"user@{INSECURE}", tls="verify", body=optional)
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(only(new, "mx-ins") and new["mx-ins"][0]["tls"] is True, f"servers got {new}")
    c.case("TLS-Required: No at verify: a certificate not naming the MX host is accepted",
           tls_required_no_verify)

    def tls_required_no_and_requiretls():
        p, rows, refused, new, err = send_to(f"user@taname.{ZONE}", extra=["--requiretls"],
                                             body=optional)
        check(p.returncode != 0 and rows[0]["status"] in ("transient", "permanent"), f"rows {rows}")
        check(all(not v for v in new.values()), f"servers got {new}")
        check(refused and "hostname mismatch" in refused[0]["reason"], f"refused {refused}")
        check("MAIL FROM" not in err, f"a MAIL FROM was sent: {err}")
    c.case("TLS-Required: No with REQUIRETLS: REQUIRETLS wins, DANE enforced, nothing sent",
           tls_required_no_and_requiretls)

    def sendmail_config():
        # smtpipe-sendmail (sendmail mode: reached through a link of that name) configured by
        # file only: MX routing instead of its default server, the level, the resolver and its
        # trust anchor.
        # Without the anchor the zone would be insecure and mx-bad (mismatching TLSA) used.
        tmp = tempfile.mkdtemp(prefix="smtpipe-dane-sendmail-")
        try:
            link = os.path.join(tmp, "smtpipe-sendmail")
            os.symlink(os.path.abspath(send), link)
            conf = os.path.join(tmp, "sendmail.conf")
            with open(conf, "w") as f:
                f.write(f"from sender@example.org\nhelo client.example.org\nroute-by-mx\ntls = dane\n"
                        f"dns-server {dns}\ndns-trust-anchor = \"{anchor}\"\nmx-port {port}\n"
                        "timeout-scale 0.1\n")
            before = counts()
            p = subprocess.run([link, "-C", conf, "-i", f"user@mismatch.{ZONE}"], input=message,
                               capture_output=True, timeout=60)
            new = {n: sinks[n].messages()[before[n]:] for n in sinks}
            check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode(errors='replace')}")
            check(only(new, "mx-ee") and new["mx-ee"][0]["tls"] is True, f"servers got {new}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    c.case("smtpipe-sendmail: route-by-mx, tls dane, dns-server, dns-trust-anchor, mx-port from its "
           "configuration file (mx-bad refused, mx-ee used)", sendmail_config)
    print(f"{c.passed} passed, {c.failed} failed")
    return c.failed == 0


class StsPolicyServer:
    """tests/routing/mta_sts_server.py on STS_HTTPS serving STS_POLICY for each STS_MX domain."""

    def __init__(self, script, base, certs):
        path = os.path.join(base, "sts-policies.json")
        with open(path, "w") as f:
            json.dump({f"mta-sts.{d}.{ZONE}": {"body": STS_POLICY} for d in STS_MX}, f)
        self.log = os.path.join(base, "sts-fetches.log")
        self.cmd = ["/usr/bin/python3", script, "--host", STS_HTTPS, "--cert",
                    os.path.join(certs, "mta-sts.crt"), "--key", os.path.join(certs, "mta-sts.key"),
                    "--policies", path, "--log", self.log]
        self.proc, self.port = None, None

    def start(self):
        open(self.log, "w").close()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            raise ServerUnavailable(f"policy server did not start: {line} {self.proc.stderr.read()}")
        self.port = int(line.split()[1])

    def stop(self):
        stop_process(self.proc, ask=lambda: self.proc.stdin.close())

    def fetches(self):
        with open(self.log) as f:
            return [line.strip() for line in f if line.strip()]


def precedence_e2e(send, dns, port, anchor, sinks, certs, policy, base):
    """DANE over MTA-STS per MX host (RFC 8461 §2), and the TLSRPT JSON (RFC 8460) of both."""
    c = Checks()
    message = b"Subject: dane and mta-sts\r\n\r\nDANE first\r\n"
    rpt = os.path.join(base, "tlsrpt-precedence.json")
    args = [send, "--dns-server", dns, "--mx-port", str(port), "--dns-trust-anchor", anchor,
            "--json", "--timeout-scale", "0.1", "-f", "sender@example.org",
            "--helo", "client.example.org", "--tls", "dane", "--ca-file",
            os.path.join(certs, "ca.crt"), "--mta-sts-port", str(policy.port), "--tlsrpt", rpt,
            "--transcript"]

    def send_to(*domains):
        before = {n: len(s.messages()) for n, s in sinks.items()}
        if os.path.exists(rpt):
            os.unlink(rpt)
        p = subprocess.run(args + [f"user@{d}" for d in domains], input=message,
                           capture_output=True, timeout=60)
        out = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
        rows = {o["rcpt"].strip("<>").rsplit("@", 1)[1]: o for o in out if "rcpt" in o}
        dom = {o["domain"]: o for o in out if "domain" in o}
        new = {n: s.messages()[before[n]:] for n, s in sinks.items()}
        err = p.stderr.decode(errors="replace")
        check(os.path.exists(rpt), f"no TLS report written: {err}")
        report = json.load(open(rpt))
        check_tlsrpt(report)
        return p, rows, dom, new, report, err

    def only(new, *names):
        return all(not v for n, v in new.items() if n not in names) and \
            all(len(new[n]) == 1 and new[n][0]["tls"] is True for n in names)

    def entries(report, ptype, domain):
        return [p for p in report["policies"] if p["policy"]["policy-type"] == ptype and
                p["policy"]["policy-domain"] == domain]

    def dane_wins():
        d = f"sts-dane.{ZONE}"
        p, rows, dom, new, report, err = send_to(d)
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(rows[d]["status"] == "delivered" and rows[d]["host"] == f"mx-ee.{ZONE}", f"rows {rows}")
        check(rows[d]["tls_auth"] == "dane-ee", f"tls_auth {rows[d]}")
        check(dom[d]["mta_sts"] == "enforce" and dom[d]["authentication"] == "dane-ee", f"{dom}\n{err}")
        check(only(new, "mx-ee"), f"servers got {new}")
        check(f"mta-sts.{d}" in policy.fetches(), f"the policy was not fetched: {policy.fetches()}")
        tlsa = entries(report, "tlsa", d)
        check(len(tlsa) == 1 and tlsa[0]["summary"] == {"total-successful-session-count": 1,
                                                        "total-failure-session-count": 0},
              f"tlsa entry: {report}")
        pol = tlsa[0]["policy"]
        check(pol["mx-host"] == [f"mx-ee.{ZONE}"] and pol["policy-string"] and
              all(re.fullmatch(r"[23] [01] [012] [0-9A-F]+", x) for x in pol["policy-string"]),
              f"the tlsa policy: the host and its usable records: {pol}")
        # mx-ee not being in the policy is no MTA-STS failure: DANE, not the policy, governs it.
        check(not any(p["summary"]["total-failure-session-count"] for p in report["policies"]),
              f"a failure reported: {report}")
    c.case("MTA-STS enforce, MX 5 not in its mx patterns but DANE-EE: used (DANE wins), dane-ee",
           dane_wins)

    def sts_applies():
        d = f"sts-pkix.{ZONE}"
        p, rows, dom, new, report, err = send_to(d)
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(rows[d]["host"] == f"mx-stsb.{ZONE}" and rows[d]["tls_auth"] == "mta-sts", f"rows {rows}")
        check(only(new, "mx-stsb"), f"servers got {new}")
        tried = dom[d]["tried"]
        check(tried[0]["host"] == f"mx-pkix.{ZONE}" and tried[0]["address"] is None, f"{tried}")
        check(f"connecting to mx-pkix.{ZONE}" not in err, f"mx-pkix was connected to: {err}")
        sts = entries(report, "sts", d)
        check(len(sts) == 1, f"sts entries: {report}")
        pol = sts[0]
        check(pol["policy"]["mx-host"] == [f"mx-stsb.{ZONE}"] and
              "mode: enforce" in pol["policy"]["policy-string"], f"{pol}")
        check(pol["summary"] == {"total-successful-session-count": 1,
                                 "total-failure-session-count": 1}, f"{pol}")
        f = pol["failure-details"][0]
        check(f["result-type"] == "validation-failure" and
              f["receiving-mx-hostname"] == f"mx-pkix.{ZONE}", f"{f}")
        check(not entries(report, "tlsa", d), f"a tlsa entry without DANE: {report}")
    c.case("same policy, no usable TLSA: the unlisted MX skipped, the listed one over PKIX (mta-sts)",
           sts_applies)

    def one_report():
        a, b, t = f"sts-dane.{ZONE}", f"sts-pkix.{ZONE}", f"tamper.{ZONE}"
        p, rows, dom, new, report, err = send_to(a, b, t)
        check(p.returncode != 0, f"exit 0 with a bogus TLSA: {rows}")
        check(rows[a]["tls_auth"] == "dane-ee" and rows[b]["tls_auth"] == "mta-sts", f"rows {rows}")
        check(rows[t]["status"] == "transient", f"rows {rows}")
        check(only(new, "mx-ee", "mx-stsb"), f"servers got {new}")
        check(len(entries(report, "tlsa", a)) == 1 and
              entries(report, "tlsa", a)[0]["summary"]["total-successful-session-count"] == 1,
              f"{report}")
        check(len(entries(report, "sts", b)) == 1 and
              entries(report, "sts", b)[0]["summary"]["total-successful-session-count"] == 1,
              f"{report}")
        bad = entries(report, "tlsa", t)
        check(len(bad) == 1 and bad[0]["summary"] == {"total-successful-session-count": 0,
                                                      "total-failure-session-count": 1}, f"{report}")
        f = bad[0]["failure-details"][0]
        check(f["result-type"] in ("dnssec-invalid", "dane-required") and
              f["receiving-mx-hostname"] == f"mx-tamper.{ZONE}", f"{f}")
    c.case("one run, one TLSRPT report: tlsa success, sts success, a bogus TLSA as dnssec-invalid",
           one_report)
    print(f"{c.passed} passed, {c.failed} failed")
    return c.failed == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--send", required=True)
    ap.add_argument("--aiosmtpd-server", required=True)
    ap.add_argument("--make-certs", required=True)
    ap.add_argument("--sts-server", help="tests/routing/mta_sts_server.py: the MTA-STS cases")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--only-requiretls", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="smtpipe-dane-")
    os.chmod(base, 0o755)
    servers = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ok = False
    start = time.monotonic()
    try:
        certs = os.path.join(base, "certs")
        make_certs(args.make_certs, certs)
        port = free_port_on([ip for ip, _, _ in HOSTS.values()])
        signed, insecure, anchor = zones(base, certs, port)
        unbound = AuthUnbound(base, signed, insecure)
        servers.append(unbound)
        sinks = {}
        for name, (ip, cert, tls) in HOSTS.items():
            script = os.path.join(HERE, "requiretls_server.py") if name == "mx-rtls" \
                else args.aiosmtpd_server
            t = TlsSink(script, ip, port, certs, cert or "server",
                        os.path.join(base, f"{name}.jsonl"))
            if not tls:
                i = t.cmd.index("--tls-cert")
                del t.cmd[i:i + 4]
            t.start()
            servers.append(t)
            sinks[name] = t
        policy = None
        if args.sts_server:
            policy = StsPolicyServer(args.sts_server, base, certs)
            policy.start()
            servers.append(policy)
        unbound.start()
        print(f"setup {time.monotonic() - start:.2f}s")
        dns = f"127.0.0.1@{unbound.port}"
        ok = e2e(args.send, dns, port, anchor, sinks, certs)
        if policy:
            ok = precedence_e2e(args.send, dns, port, anchor, sinks, certs, policy, base) and ok
    except (ServerUnavailable, subprocess.CalledProcessError) as e:
        print(f"FAIL: setup: {e}")
    finally:
        for s in reversed(servers):
            s.stop()
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    print(f"total {time.monotonic() - start:.2f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
