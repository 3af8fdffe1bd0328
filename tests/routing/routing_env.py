#!/usr/bin/env python3
"""Routing tests on loopback: a real unbound serving a static test zone, smtp-sink listeners on
127.0.0.2, 127.0.0.3 and 127.0.0.4 (all on one port, the "MX port"), then either

    routing_env.py --unit PATH/unit_routing      the C++ resolver and routing tests, or
    routing_env.py --send PATH/smtpipe-send      end-to-end checks through smtpipe-send.

The zone (routing.test.), answered by unbound from local-data:

    pref      MX 5 mx-a, MX 10 mx-b                  -> mx-a (127.0.0.2)
    down      MX 5 mx-down (127.0.0.9, nothing listens), MX 10 mx-b -> mx-b (127.0.0.3)
    busy      MX 5 mx-busy (127.0.0.4, greets 450), MX 10 mx-a      -> mx-a
    shuffle   MX 10 mx-a, MX 10 mx-b                 -> both, about half each
    implicit  no MX, A 127.0.0.3                     -> implicit MX (127.0.0.3)
    nullmx    MX 0 .                                 -> permanent 5.1.10, no connection
    nope      (does not exist)                       -> NXDOMAIN, permanent
    noaddr    MX 5 ghost (no address), MX 10 mx-b    -> ghost skipped, mx-b
    literal   MX 5 127.0.0.2. (an address as MX), MX 10 mx-b -> literal skipped, mx-b
    alias     MX 10 cname-mx (CNAME of mx-b)         -> mx-b, noted
    short     A 127.0.0.2 with TTL 1                 -> the cache test
    broken.test.  forwarded to a closed port         -> SERVFAIL, transient
    silent    MX 5 mx-silent (127.0.0.8: accepts, never greets), MX 10 mx-b -> mx-b
    silent2   MX 5 mx-silent, MX 10 mx-a             -> mx-a
    tlsopp    MX 10 mx-tls-bad                       -> STARTTLS fails, plaintext fallback
    tls       MX 5 mx-tls-bad, MX 10 mx-tls-good     -> with TLS required: mx-tls-good

With --aiosmtpd-server and --make-certs (tests/interop/aiosmtpd_server.py, tests/tls/
make_certs.sh), two aiosmtpd offer STARTTLS: mx-tls-bad (127.0.0.6) with a certificate of an
unknown CA, mx-tls-good (127.0.0.7) with one of the test CA.

With --sts-server (tests/routing/mta_sts_server.py, and the two options above) MTA-STS
(RFC 8461) on top: an HTTPS policy server on 127.0.0.20 (a test-CA certificate for every
mta-sts.* name below), aiosmtpd with STARTTLS and test-CA certificates for their own names on
mx-rogue (127.0.0.21) and mx-sts (127.0.0.22), and these domains with a _mta-sts TXT record:

    sts-enforce   MX 5 mx-rogue, MX 10 mx-sts; enforce, mx: mx-sts   -> mx-sts over verified TLS
    sts-nomatch   MX 10 mx-rogue; enforce, mx: *.elsewhere.test      -> no host, nothing sent
    sts-badcert   MX 10 mx-tls-bad; enforce, mx: mx-tls-bad          -> TLS fails, nothing sent
    sts-testing   MX 10 mx-tls-bad; testing, mx: mx-tls-bad          -> reported, delivered
    fetchfail     MX 10 mx-tls-bad; the policy URL answers 404       -> as without a policy
    invalid       MX 10 mx-rogue; the policy has no mx field           -> as without a policy
    cached, html, redirect: policies for the C++ lookup tests (mta_sts.cpp)
With --pool PATH/unit_pool and --pool-server (tests/routing/pool_server.py), an aiosmtpd that
counts its connections listens on pool-mx1 (127.0.0.31) and pool-mx2 (127.0.0.32), the MX
hosts of pa..pf, slow1..6 and pg, ph, slowb1..3 .pool.routing.test; the connection pool
tests get SMTPIPE_TEST_POOL_STATS (its counters, JSON) and SMTPIPE_TEST_POOL_PID (signals).

The environment passed to the programs: SMTPIPE_TEST_DNS (IP@PORT of unbound),
SMTPIPE_TEST_MX_PORT, SMTPIPE_TEST_UNBOUND_PID. Everything listens on 127.0.0.0/8 only and
is stopped at the end, whatever happens.
"""
import argparse
import glob
import json
import os
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
from loopback_servers import (SBIN_PATH, ServerUnavailable, SmtpSink, read_text,  # noqa: E402
                              stop_process, wait_until)

ZONE = "routing.test."
SINKS = {"mx-a": "127.0.0.2", "mx-b": "127.0.0.3", "mx-busy": "127.0.0.4"}
DOWN = "127.0.0.9"
SOURCE = "127.0.0.5"
BENCH_HOSTS, BENCH_DOMAINS = 10, 100
POOL_MX = {"pool-mx1": "127.0.0.31", "pool-mx2": "127.0.0.32"}  # pool_server.py (aiosmtpd)
SILENT = "127.0.0.8"  # a listening socket never accepted from: connections open, no greeting
TLS_SINKS = {"mx-tls-bad": ("127.0.0.6", "untrusted"), "mx-tls-good": ("127.0.0.7", "server")}
STS_HTTPS = "127.0.0.20"
STS_SINKS = {"mx-rogue": "127.0.0.21", "mx-sts": "127.0.0.22"}


def sts_policy(mode, *mx):
    return "version: STSv1\r\nmode: " + mode + "\r\n" + "".join(f"mx: {m}\r\n" for m in mx) + \
        "max_age: 86400\r\n"


# Each MTA-STS test domain: its TXT id and what its policy URL serves.
STS_DOMAINS = {
    "sts-enforce": ("enf1", {"body": sts_policy("enforce", "mx-sts.routing.test")}),
    "sts-nomatch": ("nom1", {"body": sts_policy("enforce", "*.elsewhere.test")}),
    "sts-badcert": ("bad1", {"body": sts_policy("enforce", "mx-tls-bad.routing.test")}),
    "sts-testing": ("tst1", {"body": sts_policy("testing", "mx-tls-bad.routing.test")}),
    "fetchfail": ("ff1", None),
    "cached": ("cached1", {"body": sts_policy("enforce", "mx-sts.routing.test")}),
    "html": ("h1", {"body": sts_policy("enforce", "mx-sts.routing.test"), "type": "text/html"}),
    "redirect": ("r1", {"status": 301, "location": "https://mta-sts.cached.routing.test/"}),
    "invalid": ("i1", {"body": "version: STSv1\r\nmode: enforce\r\nmax_age: 86400\r\n"}),
}
STS_MX = {"sts-enforce": ["5 mx-rogue", "10 mx-sts"], "sts-nomatch": ["10 mx-rogue"],
          "sts-badcert": ["10 mx-tls-bad"], "sts-testing": ["10 mx-tls-bad"],
          "fetchfail": ["10 mx-tls-bad"], "cached": ["10 mx-sts"], "invalid": ["10 mx-rogue"]}


def port_free_on_all(hosts):
    for _ in range(50):
        with socket.socket() as s:
            s.bind((hosts[0], 0))
            port = s.getsockname()[1]
        ok = True
        for h in hosts + [DOWN]:
            with socket.socket() as s:
                try:
                    s.bind((h, port))
                except OSError:
                    ok = False
        if ok:
            return port
    raise ServerUnavailable("no port free on every test address")


def closed_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unbound_conf(base, port, broken_port):
    z = lambda n: f"{n}.{ZONE}"  # noqa: E731
    data = [
        f'"{z("mx-a")} A {SINKS["mx-a"]}"', f'"{z("mx-b")} A {SINKS["mx-b"]}"',
        f'"{z("mx-busy")} A {SINKS["mx-busy"]}"', f'"{z("mx-down")} A {DOWN}"',
        f'"{z("pref")} MX 10 {z("mx-b")}"', f'"{z("pref")} MX 5 {z("mx-a")}"',
        f'"{z("down")} MX 5 {z("mx-down")}"', f'"{z("down")} MX 10 {z("mx-b")}"',
        f'"{z("busy")} MX 5 {z("mx-busy")}"', f'"{z("busy")} MX 10 {z("mx-a")}"',
        f'"{z("shuffle")} MX 10 {z("mx-a")}"', f'"{z("shuffle")} MX 10 {z("mx-b")}"',
        f'"{z("implicit")} A {SINKS["mx-b"]}"',
        f'"{z("nullmx")} MX 0 ."',
        f'"{z("noaddr")} MX 5 {z("ghost")}"', f'"{z("noaddr")} MX 10 {z("mx-b")}"',
        f'"{z("literal")} MX 5 127.0.0.2."', f'"{z("literal")} MX 10 {z("mx-b")}"',
        f'"{z("alias")} MX 10 {z("cname-mx")}"', f'"{z("cname-mx")} CNAME {z("mx-b")}"',
        f'"{z("short")} 1 IN A {SINKS["mx-a"]}"',
        f'"{z("ghost")} TXT \\"no address here\\""',
        f'"{z("mx-silent")} A {SILENT}"',
        f'"{z("silent")} MX 5 {z("mx-silent")}"', f'"{z("silent")} MX 10 {z("mx-b")}"',
        f'"{z("silent2")} MX 5 {z("mx-silent")}"', f'"{z("silent2")} MX 10 {z("mx-a")}"',
        f'"{z("mx-tls-bad")} A {TLS_SINKS["mx-tls-bad"][0]}"',
        f'"{z("mx-tls-good")} A {TLS_SINKS["mx-tls-good"][0]}"',
        f'"{z("tlsopp")} MX 10 {z("mx-tls-bad")}"',
        f'"{z("tls")} MX 5 {z("mx-tls-bad")}"', f'"{z("tls")} MX 10 {z("mx-tls-good")}"',
    ]
    for name, ip in STS_SINKS.items():
        data.append(f'"{z(name)} A {ip}"')
    for d, (sts_id, _) in STS_DOMAINS.items():
        data.append(f"'_mta-sts.{z(d)} TXT \"v=STSv1; id={sts_id};\"'")
        data.append(f'"mta-sts.{z(d)} A {STS_HTTPS}"')
    for d, mxs in STS_MX.items():
        data += [f'"{z(d)} MX {m.split()[0]} {z(m.split()[1])}"' for m in mxs]
    # The pool tests' domains: pa..pf and slow1..6 on pool-mx1, pg, ph and slowb1..3 on pool-mx2
    # (pool_server.py delays the messages of "slow" domains).
    for name, ip in POOL_MX.items():
        data.append(f'"{z(name)} A {ip}"')
    for d in ["pa", "pb", "pc", "pd", "pe", "pf"] + [f"slow{i}" for i in range(1, 7)]:
        data.append(f'"{d}.pool.{ZONE} MX 10 {z("pool-mx1")}"')
    for d in ["pg", "ph"] + [f"slowb{i}" for i in range(1, 4)]:
        data.append(f'"{d}.pool.{ZONE} MX 10 {z("pool-mx2")}"')
    # The benchmark's domains: d0..d99.bench, spread over ten MX hosts bench-mx0..9.
    for i in range(BENCH_HOSTS):
        data.append(f'"bench-mx{i}.{ZONE} A 127.0.0.{10 + i}"')
    for i in range(BENCH_DOMAINS):
        data.append(f'"d{i}.bench.{ZONE} MX 10 bench-mx{i % BENCH_HOSTS}.{ZONE}"')
    lines = "\n".join(f"  local-data: {d}" for d in data)
    return f"""server:
  interface: 127.0.0.1@{port}
  port: {port}
  do-ip6: no
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "{base}"
  pidfile: "{base}/unbound.pid"
  use-syslog: no
  logfile: "{base}/unbound.log"
  verbosity: 1
  module-config: "iterator"
  local-zone: "." refuse
  local-zone: "broken.test." transparent
  local-zone: "{ZONE}" static
{lines}
remote-control:
  control-enable: no
forward-zone:
  name: "broken.test."
  forward-addr: 127.0.0.1@{broken_port}
"""


class Unbound:
    def __init__(self, base):
        self.base = base
        self.port = closed_udp_port()
        self.proc = None

    def start(self):
        tool = shutil.which("unbound", path=SBIN_PATH)
        if not tool:
            raise ServerUnavailable("unbound not found: install unbound (scripts/install-deps.sh)")
        conf = os.path.join(self.base, "unbound.conf")
        with open(conf, "w") as f:
            f.write(unbound_conf(self.base, self.port, closed_udp_port()))
        check = subprocess.run([shutil.which("unbound-checkconf", path=SBIN_PATH), conf],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise ServerUnavailable(f"unbound-checkconf: {check.stdout}{check.stderr}")
        self.proc = subprocess.Popen([tool, "-d", "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def answers():
            if self.proc.poll() is not None:
                return True
            q = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x04mx-a\x07routing\x04test\x00\x00\x01\x00\x01")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.3)
                try:
                    s.sendto(q, ("127.0.0.1", self.port))
                    return len(s.recv(512)) > 12
                except OSError:
                    return False
        if not wait_until(answers, 15) or self.proc.poll() is not None:
            raise ServerUnavailable("unbound did not start: " +
                                    read_text(os.path.join(self.base, "unbound.log"))[-2000:])

    def stop(self):
        stop_process(self.proc)


class PoolServer:
    """pool_server.py on the POOL_MX addresses: counts connections into `stats` (JSON)."""

    def __init__(self, script, port, stats):
        self.cmd = ["/usr/bin/python3", script, "--port", str(port), "--stats", stats,
                    "--data-delay", "0.3"]
        for ip in POOL_MX.values():
            self.cmd += ["--host", ip]
        self.stats = stats
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            raise ServerUnavailable(f"pool_server.py did not start: {line} {self.proc.stderr.read()}")

    def stop(self):
        stop_process(self.proc, ask=lambda: self.proc.stdin.close())


class TlsSink:
    """aiosmtpd offering STARTTLS with `cert` on `host`:`port`; accepted messages in `out`."""

    def __init__(self, script, host, port, certs, cert, out):
        self.cmd = ["/usr/bin/python3", script, "--host", host, "--port", str(port), "--out", out,
                    "--tls-cert", os.path.join(certs, f"{cert}.crt"),
                    "--tls-key", os.path.join(certs, f"{cert}.key")]
        self.out = out
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            raise ServerUnavailable(f"aiosmtpd did not start: {line} {self.proc.stderr.read()}")

    def stop(self):
        stop_process(self.proc, ask=lambda: self.proc.stdin.close())

    def messages(self):
        try:
            with open(self.out) as f:
                return [json.loads(line) for line in f if line.strip()]
        except OSError:
            return []


def issue_cert(certs, name, dns_names):
    """A test-CA leaf certificate for `dns_names` (serverAuth): certs/NAME.crt and .key."""
    ext = os.path.join(certs, f"{name}.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n"
                "extendedKeyUsage = serverAuth\nsubjectAltName = " +
                ", ".join(f"DNS:{n}" for n in dns_names) + "\n")
    key, csr, crt = (os.path.join(certs, f"{name}.{x}") for x in ("key", "csr", "crt"))
    for cmd in (["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={dns_names[0]}"],
                ["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(certs, "ca.crt"),
                 "-CAkey", os.path.join(certs, "ca.key"), "-CAcreateserial", "-days", "30",
                 "-extfile", ext, "-out", crt]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise ServerUnavailable(f"openssl: {r.stderr[-600:]}")


class PolicyServer:
    """tests/routing/mta_sts_server.py on STS_HTTPS: the policies of STS_DOMAINS."""

    def __init__(self, script, base, certs):
        self.log = os.path.join(base, "sts-fetches.log")
        policies = {f"mta-sts.{d}.{ZONE[:-1]}": p for d, (_, p) in STS_DOMAINS.items() if p}
        path = os.path.join(base, "sts-policies.json")
        with open(path, "w") as f:
            json.dump(policies, f)
        issue_cert(certs, "mta-sts", [f"mta-sts.{d}.{ZONE[:-1]}" for d in STS_DOMAINS])
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

    def fetches(self, domain):
        with open(self.log) as f:
            return sum(1 for line in f if line.strip() == f"mta-sts.{domain}")


def check_tlsrpt(report):
    """The fields and types RFC 8460 §4.4 requires of a report."""
    import re
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    for key in ("organization-name", "contact-info", "report-id"):
        check(isinstance(report.get(key), str) and report[key], f"{key}: {report}")
    dr = report["date-range"]
    check(stamp.match(dr["start-datetime"]) and stamp.match(dr["end-datetime"]), f"dates {dr}")
    check(dr["start-datetime"] <= dr["end-datetime"], f"dates {dr}")
    results = {"starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
               "certificate-not-trusted", "validation-failure", "tlsa-invalid", "dnssec-invalid",
               "dane-required", "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid"}
    for p in report["policies"]:
        pol = p["policy"]
        check(pol["policy-type"] in ("sts", "tlsa", "no-policy-found"), f"policy-type {pol}")
        check(isinstance(pol["policy-domain"], str), f"policy-domain {pol}")
        if pol["policy-type"] != "no-policy-found":
            check(all(isinstance(x, str) for x in pol["policy-string"]), f"policy-string {pol}")
            check(all(isinstance(x, str) for x in pol["mx-host"]), f"mx-host {pol}")
        s = p["summary"]
        check(isinstance(s["total-successful-session-count"], int) and
              isinstance(s["total-failure-session-count"], int), f"summary {s}")
        details = p.get("failure-details", [])
        check(sum(d["failed-session-count"] for d in details) == s["total-failure-session-count"],
              f"failure counts {p}")
        for d in details:
            check(d["result-type"] in results, f"result-type {d}")
            for k in ("sending-mta-ip", "receiving-ip", "receiving-mx-hostname",
                      "additional-information", "failure-reason-code"):
                check(k not in d or isinstance(d[k], str), f"{k} {d}")


def run(cmd, env, stdin=None, timeout=120):
    return subprocess.run(cmd, input=stdin, capture_output=True, env=env, timeout=timeout)


class Checks:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def case(self, name, fn):
        start = time.monotonic()
        try:
            fn()
            self.passed += 1
            print(f"ok   {name} ({time.monotonic() - start:.2f}s)")
        except Exception as e:  # a failed check or a crash: reported, the next case runs
            self.failed += 1
            print(f"FAIL {name}: {e}")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def e2e(send, env, sink_dirs, tls_sinks, certs):
    message = b"Subject: routing\r\n\r\nrouted by MX\r\n"
    base = [send, "--dns-server", env["SMTPIPE_TEST_DNS"], "--mx-port", env["SMTPIPE_TEST_MX_PORT"],
            "--json", "--tls", "none", "--timeout-scale", "0.1", "-f", "sender@example.org",
            "--helo", "client.example.org"]

    def files():
        return {n: sorted(glob.glob(os.path.join(d, "*"))) for n, d in sink_dirs.items()}

    def send_to(*rcpts, extra=()):
        before = files()
        p = run(base + list(extra) + list(rcpts), env, stdin=message)
        out = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
        rows = [o for o in out if "rcpt" in o]
        after = files()
        new = {n: [f for f in after[n] if f not in before[n]] for n in after}
        return p, rows, new, p.stderr.decode(errors="replace")

    def delivered_to(domain, host, address):
        def fn():
            p, rows, new, err = send_to(f"user@{domain}")
            check(p.returncode == 0, f"exit {p.returncode}: {err}")
            check(len(rows) == 1 and rows[0]["status"] == "delivered", f"rows {rows}")
            check(rows[0]["host"] == f"{host}.{ZONE[:-1]}" if host else True, f"host {rows[0]}")
            check(rows[0]["address"] == address, f"address {rows[0]}")
            sink = [n for n, ip in SINKS.items() if ip == address][0]
            check(len(new[sink]) == 1, f"files in {sink}: {new}")
            others = [n for n in new if n != sink and new[n]]
            check(not others, f"another sink got mail: {new}")
        return fn

    def permanent_no_connection(domain, enhanced):
        def fn():
            p, rows, new, err = send_to(f"user@{domain}", extra=["--transcript"])
            check(p.returncode == 69, f"exit {p.returncode} (expected 69): {err}")
            check(rows and rows[0]["status"] == "permanent", f"rows {rows}")
            check(rows[0]["enhanced"] == enhanced, f"enhanced {rows[0]}")
            check(rows[0]["host"] is None and rows[0]["address"] is None, f"connected? {rows[0]}")
            check("connecting to" not in err, f"a connection was attempted: {err}")
            check(not any(new.values()), f"a sink got mail: {new}")
        return fn

    c = Checks()
    c.case("preference order: MX 5 before MX 10", delivered_to("pref.routing.test", "mx-a", SINKS["mx-a"]))
    c.case("first MX refuses connections: the second takes it",
           delivered_to("down.routing.test", "mx-b", SINKS["mx-b"]))
    c.case("first MX greets 450: the second takes it",
           delivered_to("busy.routing.test", "mx-a", SINKS["mx-a"]))
    c.case("implicit MX: the domain's own A record",
           delivered_to("implicit.routing.test", None, SINKS["mx-b"]))
    c.case("an MX host without address is skipped", delivered_to("noaddr.routing.test", "mx-b", SINKS["mx-b"]))
    c.case("an address as MX target is not used", delivered_to("literal.routing.test", "mx-b", SINKS["mx-b"]))
    c.case("null MX: permanent 5.1.10, exit 69, no connection",
           permanent_no_connection("nullmx.routing.test", "5.1.10"))
    c.case("NXDOMAIN: permanent 5.1.2, exit 69, no connection",
           permanent_no_connection("nope.routing.test", "5.1.2"))

    def servfail():
        p, rows, new, err = send_to("user@x.broken.test")
        check(p.returncode == 75, f"exit {p.returncode} (expected 75): {err}")
        check(rows and rows[0]["status"] == "transient", f"rows {rows}")
        check(not any(new.values()), f"a sink got mail: {new}")
    c.case("SERVFAIL: transient (exit 75), no connection", servfail)

    def several_domains():
        p, rows, new, err = send_to("a@pref.routing.test", "b@down.routing.test", "c@pref.routing.test",
                                    "d@nullmx.routing.test")
        check(p.returncode == 69, f"exit {p.returncode}: {err}")
        by = {r["rcpt"]: r for r in rows}
        check(by["a@pref.routing.test"]["address"] == SINKS["mx-a"], f"{rows}")
        check(by["c@pref.routing.test"]["address"] == SINKS["mx-a"], f"{rows}")
        check(by["b@down.routing.test"]["address"] == SINKS["mx-b"], f"{rows}")
        check(by["d@nullmx.routing.test"]["status"] == "permanent", f"{rows}")
        # One transaction per domain: mx-a got one file with both recipients.
        check(len(new["mx-a"]) == 1 and len(new["mx-b"]) == 1, f"files {new}")
        body = open(new["mx-a"][0], errors="replace").read()
        check("a@pref.routing.test" in body and "c@pref.routing.test" in body,
              f"one transaction for both pref recipients: {body[:400]}")
    c.case("several domains: each to its MX, one domain's recipients in one transaction",
           several_domains)

    def source():
        p, rows, new, err = send_to("user@pref.routing.test", extra=["--source-address", SOURCE])
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        text = open(new["mx-a"][0], errors="replace").read()
        check(f"X-Client-Addr: {SOURCE}" in text, f"the server saw: {text[:300]}")
    c.case("source address: the server sees 127.0.0.5", source)

    def source_with_server():
        p, rows, new, err = send_to("user@anything.example", extra=[
            "--server", f"{SINKS['mx-b']}:{env['SMTPIPE_TEST_MX_PORT']}", "--source-address", SOURCE])
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        text = open(new["mx-b"][0], errors="replace").read()
        check(f"X-Client-Addr: {SOURCE}" in text, f"the server saw: {text[:300]}")
    c.case("--server with --source-address: bound relay connection", source_with_server)

    def shuffle():
        seen = {"127.0.0.2": 0, "127.0.0.3": 0}
        for _ in range(24):
            p, rows, new, err = send_to("user@shuffle.routing.test")
            check(p.returncode == 0, f"exit {p.returncode}: {err}")
            seen[rows[0]["address"]] += 1
        # Each side with probability 1/2: both at least 3 of 24 unless chance is < 1e-4.
        check(min(seen.values()) >= 3, f"equal preferences not shuffled: {seen}")
    c.case("equal preferences shuffled (24 runs)", shuffle)

    def pooled_domains():
        stats_file = env.get("SMTPIPE_TEST_POOL_STATS")
        check(stats_file, "pool_server.py was not started (--pool-server)")

        def stats():
            with open(stats_file) as f:
                return json.load(f)["hosts"][POOL_MX["pool-mx1"]]
        before = stats()
        p, rows, new, err = send_to("a@pa.pool.routing.test", "b@pb.pool.routing.test",
                                    "c@pc.pool.routing.test")
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check([r["address"] for r in rows] == [POOL_MX["pool-mx1"]] * 3, f"rows {rows}")
        after = stats()
        # One connection for the three domains' transactions, ended with QUIT.
        check(after["opened"] - before["opened"] == 1, f"connections: {before} -> {after}")
        check(after["messages"] - before["messages"] == 3, f"messages: {before} -> {after}")
        check(after["quits"] - before["quits"] == 1, f"QUITs: {before} -> {after}")
    c.case("three domains with the same MX host: one pooled connection, QUIT at the end",
           pooled_domains)

    def silent():
        start = time.monotonic()
        p, rows, new, err = send_to("user@silent.routing.test",
                                    extra=["--timeout-scale", "0.005", "--transcript"])
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(rows[0]["address"] == SINKS["mx-b"], f"rows {rows}")
        check(f"mx-silent.routing.test [{SILENT}] left" in err, f"no note of the silent MX: {err}")
        check(time.monotonic() - start < 10, "the greeting timeout was not the scaled one")
    c.case("first MX accepts but never greets: greeting timeout, the second takes it", silent)

    def tls_opportunistic():
        check(tls_sinks, "the TLS listeners were not started (--aiosmtpd-server, --make-certs)")
        before = len(tls_sinks["mx-tls-bad"].messages())
        p = run([x for x in base if x not in ("--tls", "none")] + ["user@tlsopp.routing.test"],
                env, stdin=message)
        out = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
        err = p.stderr.decode(errors="replace")
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        rows = [o for o in out if "rcpt" in o]
        session = [o for o in out if "session" in o][0]["session"]
        check(rows[0]["address"] == TLS_SINKS["mx-tls-bad"][0], f"rows {rows}")
        check(session["tls"]["fallback_reason"], f"no TLS fallback reported: {session}")
        got = tls_sinks["mx-tls-bad"].messages()[before:]
        check(len(got) == 1 and got[0]["tls"] is False, f"the server got: {got}")
    c.case("opportunistic TLS fails on a routed connection: fresh plaintext connection", tls_opportunistic)

    def tls_required_next_mx():
        check(tls_sinks, "the TLS listeners were not started")
        args = [x for x in base if x not in ("--tls", "none")]
        p = run(args + ["--tls", "required", "--tls-verify", "ca", "--ca-file",
                        os.path.join(certs, "ca.crt"), "--transcript", "user@tls.routing.test"],
                env, stdin=message)
        out = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
        err = p.stderr.decode(errors="replace")
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        rows = [o for o in out if "rcpt" in o]
        check(rows[0]["host"] == "mx-tls-good.routing.test", f"rows {rows}")
        check("mx-tls-bad.routing.test [127.0.0.6] left" in err, f"no note of the first MX: {err}")
        got = tls_sinks["mx-tls-good"].messages()
        check(len(got) == 1 and got[0]["tls"] is True, f"the server got: {got}")
    c.case("TLS required and the first MX's certificate rejected: the next MX", tls_required_next_mx)
    print(f"{c.passed} passed, {c.failed} failed")
    return c.failed == 0


def sts_e2e(send, env, tls_sinks, sts_sinks, policy, certs, base):
    message = b"Subject: mta-sts\r\n\r\nunder a policy\r\n"
    rpt = os.path.join(base, "tlsrpt.json")
    args = [send, "--dns-server", env["SMTPIPE_TEST_DNS"], "--mx-port", env["SMTPIPE_TEST_MX_PORT"],
            "--json", "--timeout-scale", "0.1", "-f", "sender@example.org", "--helo",
            "client.example.org", "--ca-file", os.path.join(certs, "ca.crt"),
            "--mta-sts-port", str(policy.port), "--tlsrpt", rpt, "--transcript"]
    every = dict(tls_sinks, **sts_sinks)

    def send_to(domain, extra=()):
        before = {n: len(t.messages()) for n, t in every.items()}
        if os.path.exists(rpt):
            os.unlink(rpt)
        p = run(args + list(extra) + [f"user@{domain}.{ZONE[:-1]}"], env, stdin=message)
        out = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
        rows = [o for o in out if "rcpt" in o]
        dom = [o for o in out if "domain" in o]
        new = {n: t.messages()[before[n]:] for n, t in every.items()}
        report = json.load(open(rpt)) if os.path.exists(rpt) else None
        if report:
            check_tlsrpt(report)
        return p, rows, dom, new, report, p.stderr.decode(errors="replace")

    def only(new, name):
        return all(not v for n, v in new.items() if n != name) and len(new[name]) == 1

    def enforce():
        p, rows, dom, new, report, err = send_to("sts-enforce")
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(rows[0]["host"] == "mx-sts.routing.test", f"rows {rows}")
        check(only(new, "mx-sts") and new["mx-sts"][0]["tls"] is True, f"received {new}")
        check(dom[0]["authentication"] == "mta-sts" and dom[0]["mta_sts"] == "enforce", f"{dom}")
        check(dom[0]["tried"][0]["host"] == "mx-rogue.routing.test" and
              dom[0]["tried"][0]["address"] is None, f"mx-rogue not skipped: {dom}")
        pol = report["policies"][0]
        check(pol["policy"]["policy-type"] == "sts" and pol["policy"]["mx-host"] ==
              ["mx-sts.routing.test"] and "mode: enforce" in pol["policy"]["policy-string"], f"{pol}")
        check(pol["summary"] == {"total-successful-session-count": 1,
                                 "total-failure-session-count": 1}, f"{pol}")
        d = pol["failure-details"][0]
        check(d["result-type"] == "validation-failure" and
              d["receiving-mx-hostname"] == "mx-rogue.routing.test", f"{d}")

    def nomatch():
        p, rows, dom, new, report, err = send_to("sts-nomatch")
        check(p.returncode == 75, f"exit {p.returncode} (expected 75): {err}")
        check(rows[0]["status"] == "transient", f"rows {rows}")
        check(not any(new.values()), f"a server got mail: {new}")
        check("connecting to" not in err, f"a connection was made: {err}")

    def badcert():
        p, rows, dom, new, report, err = send_to("sts-badcert")
        check(p.returncode == 75, f"exit {p.returncode} (expected 75): {err}")
        check(not any(new.values()), f"a server got mail (plaintext?): {new}")
        d = report["policies"][0]["failure-details"][0]
        check(d["result-type"] == "certificate-not-trusted" and d["receiving-ip"] == "127.0.0.6",
              f"{report}")

    def testing():
        p, rows, dom, new, report, err = send_to("sts-testing")
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(only(new, "mx-tls-bad"), f"received {new}")
        check(dom[0]["mta_sts"] == "testing" and dom[0]["authentication"] == "none", f"{dom}")
        pol = report["policies"][0]
        check(pol["policy"]["policy-type"] == "sts" and
              pol["summary"]["total-failure-session-count"] == 1, f"{pol}")
        check(pol["failure-details"][0]["result-type"] == "certificate-not-trusted", f"{pol}")

    def testing_unverified():
        p, rows, dom, new, report, err = send_to("sts-testing", extra=["--tls-verify", "none"])
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(only(new, "mx-tls-bad") and new["mx-tls-bad"][0]["tls"] is True, f"received {new}")
        check(dom[0]["authentication"] == "none", f"{dom}")
        d = report["policies"][0]["failure-details"][0]
        check(d["result-type"] == "certificate-not-trusted", f"{report}")

    def fetchfail():
        p, rows, dom, new, report, err = send_to("fetchfail")
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(only(new, "mx-tls-bad"), f"received {new}")
        check(dom[0]["mta_sts"] is None, f"{dom}")
        pol = report["policies"][0]
        check(pol["failure-details"][0]["result-type"] == "sts-policy-fetch-error", f"{report}")
        check("404" in pol["failure-details"][0]["additional-information"], f"{report}")

    def invalid():
        p, rows, dom, new, report, err = send_to("invalid")
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(only(new, "mx-rogue"), f"received {new}")
        d = report["policies"][0]["failure-details"][0]
        check(d["result-type"] == "sts-policy-invalid" and "no mx field" in
              d["additional-information"], f"{report}")

    def switched_off():
        p, rows, dom, new, report, err = send_to("sts-enforce", extra=["--no-mta-sts"])
        check(p.returncode == 0, f"exit {p.returncode}: {err}")
        check(only(new, "mx-rogue"), f"received {new}")
        check(dom[0]["authentication"] == "pkix" and dom[0]["mta_sts"] is None, f"{dom}")
        check(report["policies"][0]["policy"]["policy-type"] == "no-policy-found", f"{report}")

    c = Checks()
    c.case("MTA-STS enforce: the unlisted MX 5 is skipped, MX 10 takes it over verified TLS", enforce)
    c.case("MTA-STS enforce, no MX matches: transient, nothing sent anywhere", nomatch)
    c.case("MTA-STS enforce, the MX certificate untrusted: transient, never plaintext", badcert)
    c.case("MTA-STS testing: the failure reported, delivered", testing)
    c.case("MTA-STS testing, --tls-verify none: reported, delivered over unverified TLS as usual",
           testing_unverified)
    c.case("MTA-STS policy fetch fails (404): as without a policy, reported", fetchfail)
    c.case("MTA-STS policy invalid (no mx): as without a policy, reported", invalid)
    c.case("--no-mta-sts: the most preferred MX", switched_off)
    print(f"{c.passed} passed, {c.failed} failed")
    return c.failed == 0
def postfix_bench(base, env, rounds=10):
    """The --bench deliveries (one message to each of the 100 bench domains, `rounds` times)
    by a private Postfix: its own config and queue directories, no relayhost, no smtpd, MX
    lookups through the system resolver, which bench_netns.sh points at this unbound. Postfix is
    stopped while the messages are injected (sendmail puts them in maildrop), then started: the
    time is from its start until its queue is empty. New connections are the delivery log lines
    without conn_use=."""
    pf = os.path.join(base, f"postfix-{time.monotonic_ns()}")
    conf, queue, data = (os.path.join(pf, d) for d in ("etc", "queue", "data"))
    for d in (conf, queue, data):
        os.makedirs(d)
    shutil.chown(data, "postfix")
    log = os.path.join(pf, "maillog")
    shutil.copy("/etc/postfix/master.cf", conf)
    with open(os.path.join(conf, "main.cf"), "w") as f:
        f.write(f"""compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.example.org
mydestination =
relayhost =
inet_interfaces = loopback-only
inet_protocols = ipv4
smtp_tls_security_level = none
smtp_host_lookup = dns
notify_classes =
""")
    postconf = lambda *a: subprocess.run(["postconf", "-c", conf, *a], check=True,  # noqa: E731
                                         capture_output=True)
    # No listener (the sinks use port 25), nothing chrooted (the resolver is the namespace's).
    postconf("-MX", "smtp/inet")
    postconf("-F", "*/*/chroot = n")
    pfx = lambda *a: subprocess.run(["postfix", "-c", conf, *a], capture_output=True, text=True)  # noqa: E731
    r = pfx("check")  # creates the queue directories (before maillog_file: check logs to stderr)
    if r.returncode != 0:
        print(f"postfix check failed: {r.stdout}{r.stderr}")
        return False
    postconf("-e", f"maillog_file = {log}", f"maillog_file_prefixes = {pf}")
    domains = [f"user@d{i}.bench.{ZONE[:-1]}" for i in range(BENCH_DOMAINS)]
    msg = b"From: bench@example.org\r\nSubject: bench\r\n\r\nrouted\r\n"
    injected = time.monotonic()
    for _ in range(rounds):
        for rcpt in domains:
            # (postdrop warns that pickup is not running: it is started below)
            subprocess.run(["sendmail", "-C", conf, "-f", "bench@example.org", rcpt], input=msg,
                           check=True, stderr=subprocess.DEVNULL)
    total = rounds * len(domains)
    print(f"postfix: {total} messages injected in {time.monotonic() - injected:.1f} s (untimed)",
          flush=True)
    sent = lambda: open(log).read().count("status=sent") if os.path.exists(log) else 0  # noqa: E731
    start = time.monotonic()
    r = pfx("start")
    if r.returncode != 0:
        print(f"postfix start failed: {r.stdout}{r.stderr}")
        return False
    try:
        wait_until(lambda: sent() >= total, 300, 0.01)
        secs = time.monotonic() - start
    finally:
        pfx("stop")
    lines = [line for line in open(log) if "status=sent" in line]
    new_connections = sum(1 for line in lines if "conn_use=" not in line)
    print(f"postfix messages={total} delivered={len(lines)} seconds={secs:.3f} "
          f"msg_per_s={total / secs:.1f} connections={new_connections}")
    return len(lines) == total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unit")
    ap.add_argument("--send")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--aiosmtpd-server", help="tests/interop/aiosmtpd_server.py")
    ap.add_argument("--make-certs", help="tests/tls/make_certs.sh")
    ap.add_argument("--sts-server", help="tests/routing/mta_sts_server.py: MTA-STS cases")
    ap.add_argument("--sts-unit", help="unit_mta_sts: its live cases (needs --sts-server)")
    ap.add_argument("--sts-send", help="smtpipe-send: the MTA-STS cases (needs --sts-server)")
    ap.add_argument("--pool", help="unit_pool: the connection pool tests (needs --pool-server)")
    ap.add_argument("--pool-server", help="tests/routing/pool_server.py")
    ap.add_argument("--bench", help="bench_routing: 100 domains over 10 smtp-sinks (127.0.0.10-19)")
    ap.add_argument("--postfix-bench", action="store_true",
                    help="also time a private Postfix's smtp client on the --bench deliveries "
                         "(needs --dns-port 53 and --mx-port 25: run by bench_netns.sh)")
    ap.add_argument("--dns-port", type=int, help="unbound's port (default: a free one)")
    ap.add_argument("--mx-port", type=int, help="the sinks' port (default: a free one)")
    ap.add_argument("--run", nargs=argparse.REMAINDER, help="run this command in the environment")
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="smtpipe-routing-")
    os.chmod(base, 0o755)
    servers = []
    silent_listener = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ok = False
    try:
        unbound = Unbound(base)
        if args.dns_port:
            unbound.port = args.dns_port
        servers.append(unbound)
        bench_ips = [f"127.0.0.{10 + i}" for i in range(BENCH_HOSTS)] if args.bench else []
        sts_ips = list(STS_SINKS.values()) if args.sts_server else []
        pool_ips = list(POOL_MX.values()) if args.pool_server else []
        port = port_free_on_all(list(SINKS.values()) + [ip for ip, _ in TLS_SINKS.values()] + [SILENT]
                                + bench_ips + sts_ips + pool_ips) if not args.mx_port else args.mx_port
        pool_env = {}
        if args.pool_server:
            pool = PoolServer(args.pool_server, port, os.path.join(base, "pool-stats.json"))
            pool.start()
            servers.append(pool)
            pool_env = dict(SMTPIPE_TEST_POOL_STATS=pool.stats,
                            SMTPIPE_TEST_POOL_PID=str(pool.proc.pid))
        for i, ip in enumerate(bench_ips):
            sink = SmtpSink(os.path.join(base, f"bench{i}"), [], host=ip, hostname=f"bench-mx{i}.routing.test")
            sink.port = port
            sink.start()
            servers.append(sink)
        silent_listener = socket.socket()
        silent_listener.bind((SILENT, port))
        silent_listener.listen(16)
        sink_dirs = {}
        for name, ip in SINKS.items():
            flags = ["-d", os.path.join(base, name, "%M."), "-c"]
            if name == "mx-busy":
                flags += ["-r", "CONNECT"]
            sink = SmtpSink(os.path.join(base, name), flags, host=ip, hostname=f"{name}.routing.test")
            sink.port = port
            sink.start()
            servers.append(sink)
            sink_dirs[name] = os.path.join(base, name)
        tls_sinks, certs = {}, None
        if args.aiosmtpd_server and args.make_certs:
            certs = os.path.join(base, "certs")
            mk = subprocess.run(["bash", args.make_certs, certs], capture_output=True, text=True,
                                timeout=60)
            if mk.returncode != 0:
                raise ServerUnavailable(f"make_certs.sh: {mk.stderr[-1000:]}")
            for name, (ip, cert) in TLS_SINKS.items():
                t = TlsSink(args.aiosmtpd_server, ip, port, certs, cert, os.path.join(base, f"{name}.jsonl"))
                t.start()
                servers.append(t)
                tls_sinks[name] = t
        policy, sts_sinks = None, {}
        if args.sts_server and certs:
            for name, ip in STS_SINKS.items():
                issue_cert(certs, name, [f"{name}.{ZONE[:-1]}"])
                t = TlsSink(args.aiosmtpd_server, ip, port, certs, name, os.path.join(base, f"{name}.jsonl"))
                t.start()
                servers.append(t)
                sts_sinks[name] = t
            policy = PolicyServer(args.sts_server, base, certs)
            policy.start()
            servers.append(policy)
        unbound.start()
        env = dict(os.environ, SMTPIPE_TEST_DNS=f"127.0.0.1@{unbound.port}",
                   SMTPIPE_TEST_MX_PORT=str(port), SMTPIPE_TEST_UNBOUND_PID=str(unbound.proc.pid),
                   **pool_env)
        if policy:
            env.update(SMTPIPE_TEST_STS_PORT=str(policy.port), SMTPIPE_TEST_STS_LOG=policy.log,
                       SMTPIPE_TEST_STS_CA=os.path.join(certs, "ca.crt"))
        ok = True
        if args.sts_send or args.sts_unit:
            ok = policy is not None
            if not ok:
                print("FAIL: the MTA-STS cases need --sts-server, --aiosmtpd-server, --make-certs")
        if ok and args.sts_send:
            ok = sts_e2e(args.sts_send, env, tls_sinks, sts_sinks, policy, certs, base)
        if ok and args.sts_unit:
            u = run([args.sts_unit, "-tc=live*"], env, timeout=120)
            sys.stdout.write(u.stdout.decode(errors="replace") + u.stderr.decode(errors="replace"))
            ok = u.returncode == 0
        if args.send:  # first: the unit tests' cache test stops unbound
            ok = ok and e2e(args.send, env, sink_dirs, tls_sinks, certs)
        if args.unit:
            # The cache test stops unbound: it runs last, on its own.
            first = run([args.unit, "-tce=*cache*"], env, timeout=240)
            sys.stdout.write(first.stdout.decode(errors="replace") + first.stderr.decode(errors="replace"))
            last = run([args.unit, "-tc=*cache*"], env, timeout=60)
            sys.stdout.write(last.stdout.decode(errors="replace") + last.stderr.decode(errors="replace"))
            ok = ok and first.returncode == 0 and last.returncode == 0
        if args.pool:
            p = run([args.pool], env, timeout=120)
            sys.stdout.write(p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace"))
            ok = ok and p.returncode == 0
        if args.bench:
            for _ in range(3):
                b = run([args.bench, str(BENCH_DOMAINS), "1", "10", "100"], env, timeout=600)
                sys.stdout.write(b.stdout.decode() + b.stderr.decode())
                ok = ok and b.returncode == 0
        if args.bench and args.postfix_bench:  # injecting the messages takes ~10 s a run
            for _ in range(3):
                ok = postfix_bench(base, env) and ok
        if args.run:
            ok = ok and subprocess.run(args.run, env=env).returncode == 0
    except ServerUnavailable as e:
        print(f"FAIL: a server could not start: {e}")
    finally:
        for s in reversed(servers):
            s.stop()
        if silent_listener:
            silent_listener.close()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
