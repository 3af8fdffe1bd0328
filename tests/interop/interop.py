#!/usr/bin/env python3
"""Interoperability tests: smtpipe against real SMTP servers started on loopback.

    interop.py --server {postfix,smtp-sink,aiosmtpd} --send PATH/smtpipe-send
               [--xclient-send PATH/interop-xclient-send]
               [--aiosmtpd-server aiosmtpd_server.py] [--aiosmtpd-python /usr/bin/python3]
               [--make-certs tests/tls/make_certs.sh] [--keep]

Each server is started by this driver in a temporary directory, on a free loopback port,
and stopped when the run ends, whether the checks passed, failed or crashed (SIGTERM from
the test harness included). A server that cannot run is a failure with the reason, never a
silent pass. Messages go through smtpipe-send (`--json --transcript`); the XCLIENT and PROXY
cases use interop-xclient-send, built from the demo's custom states. What the server stored
is compared byte for byte with the canonical form of the input (every CR, LF or CRLF one
line end; the server stores CRLF or LF as its format says).

TLS and AUTH: the certificates of tests/tls/make_certs.sh (made once per run in the
temporary directory) serve Postfix's STARTTLS listener and aiosmtpd's; Postfix's submission
listener authenticates through a Dovecot auth service (passwd-file) started from the same
directory. smtpipe-send's JSON ends with a {"session": ...} line that says what TLS did.

The driver uses the Python standard library only, and the loopback server helpers it shares
with benchmarks/bench.py (scripts/pylib/loopback_servers.py). Run `scripts/install-deps.sh`
first.
"""
import argparse
import base64
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts", "pylib"))
from loopback_servers import (SBIN_PATH, PrivatePostfix, ServerUnavailable, SmtpSink,  # noqa: E402
                              free_port, host_port, kill_when_lingering, read_pid, read_text,
                              stop_process, wait_until)

DOMAIN = "interop.test"
MAILDIR_USER = "smtpipe-interop"
MAILDIR_HOME = "/var/lib/smtpipe-interop"
HELO = "relay.example.org"
SENDER = "sender@example.org"


# ---- checks and the case runner -------------------------------------------------------------

class CheckFailed(Exception):
    """A check did not hold; the message says what was expected and what came."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def check_equal(actual, expected, what):
    if actual != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {actual!r}")


class Runner:
    def __init__(self, server):
        self.server = server
        self.passed = 0
        self.failed = 0

    def case(self, name, fn):
        start = time.monotonic()
        try:
            fn()
        except CheckFailed as e:
            self.failed += 1
            print(f"FAIL {self.server}: {name}: {e}", flush=True)
            return
        except ServerUnavailable as e:
            self.failed += 1
            print(f"FAIL {self.server}: {name}: the server cannot run: {e}", flush=True)
            return
        except Exception:  # a crash in a case is a failure of that case, not of the run
            self.failed += 1
            print(f"FAIL {self.server}: {name}: unexpected error\n{traceback.format_exc()}", flush=True)
            return
        self.passed += 1
        print(f"ok   {self.server}: {name} ({time.monotonic() - start:.1f} s)", flush=True)


# ---- messages and their canonical forms -----------------------------------------------------

LINE_END = re.compile(rb"\r\n|\r|\n")


def canonical_crlf(body):
    """What the server must receive: every CR, LF or CRLF one CRLF, a final line end added."""
    out = LINE_END.sub(b"\r\n", body)
    if out and not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out


def canonical_lf(body):
    """The canonical form as a server that stores LF line ends (Maildir, smtp-sink) keeps it."""
    return canonical_crlf(body).replace(b"\r\n", b"\n")


def make_message(token, subject, body, to="undisclosed-recipients:;"):
    """A message whose header lines end in bare LF (canonicalised by the client as well)."""
    head = (f"From: Interop Sender <{SENDER}>\n"
            f"To: {to}\n"
            f"Subject: {subject} [{token}]\n"
            f"Message-ID: <{token}@example.org>\n"
            "Date: Mon, 30 Nov 2026 05:00:00 +0000\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=us-ascii\n"
            "\n").encode()
    return head + body


PLAIN_BODY = (b"Hello from smtpipe.\n"
              b".A line that starts with a dot.\n"
              b"..Two dots.\n"
              b"CRLF line\r\n"
              b"bare CR line\r"
              b"last line without a line end")

# Each "end of data" look-alike below must arrive as plain text inside the one message; the
# commands after it must never become a second transaction (SMTP smuggling, CVE-2023-51764).
SMUGGLING_BODY = (b"Smuggling attempts follow.\n"
                  b"\n.\n"
                  b"MAIL FROM:<evil@example.org>\nRCPT TO:<smuggled@" + DOMAIN.encode() + b">\nDATA\n"
                  b"bare LF dot bare LF\n"
                  b"\r.\r\n"
                  b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<smuggled@" + DOMAIN.encode() + b">\r\nDATA\r\n"
                  b"bare CR dot CRLF\r\n"
                  b"\r\n.\r"
                  b"CRLF dot bare CR\r\n"
                  b"\n.\r\n"
                  b"bare LF dot CRLF\r\n"
                  b"\r\n.\n"
                  b"CRLF dot bare LF\r\n"
                  b"\r.\r"
                  b"bare CRs around a dot\r\n"
                  b".\r\n"
                  b"..\r\n"
                  b"...\n"
                  b". leading dot and space\n"
                  b"\r\n.\r\nQUIT\r\n"
                  b"the end\n")


def ptrace_env():
    """ASAN_OPTIONS for a process run under strace: LeakSanitizer cannot work under ptrace
    and aborts the process, so leak checking is off there (the other cases still check)."""
    options = os.environ.get("ASAN_OPTIONS", "")
    return {"ASAN_OPTIONS": (options + ":" if options else "") + "detect_leaks=0"}


def token():
    return uuid.uuid4().hex[:16]


# ---- smtpipe-send ---------------------------------------------------------------------------

class SendResult:
    def __init__(self, rc, stdout, stderr):
        self.rc = rc
        self.stderr = stderr
        self.transcript = [l for l in stderr.splitlines() if l[:3] in ("C: ", "S: ", "*  ")]
        self.results = []
        self.session = None  # the final {"session": ...} object
        for line in stdout.splitlines():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise CheckFailed(f"smtpipe-send wrote a line that is not JSON ({e}): {line!r}")
            if self.session is not None:
                raise CheckFailed(f"JSON after the session object: {line!r}")
            if "session" in obj:
                self.session = obj["session"]
            else:
                self.results.append(obj)
        if stdout.strip() and self.session is None:
            raise CheckFailed(f"no session object at the end of the JSON output:\n{stdout}")

    def describe(self):
        return "\n    ".join(["transcript:"] + self.transcript[-40:] +
                             ["stderr:"] + [l for l in self.stderr.splitlines() if l not in self.transcript][-10:])

    def by_rcpt(self, message=1):
        return {r["rcpt"]: r for r in self.results if r["message"] == message}


# What AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer print when a tool built
# with them (the sanitizer pass of scripts/run.sh) finds an error; any such line fails the case,
# whatever the tool's exit status.
SANITIZER_REPORT = re.compile(r"^(==\d+==ERROR: \w+Sanitizer|SUMMARY: \w+Sanitizer|\S+: runtime error: )",
                              re.MULTILINE)


def check_no_sanitizer_report(tool, stderr):
    found = SANITIZER_REPORT.search(stderr)
    check(found is None, f"{os.path.basename(tool)}: sanitizer report\n{stderr[found.start():][:4000]}"
          if found else "")


def run_send(tool, recipients, body, port, extra=(), timeout=60, host="127.0.0.1"):
    args = [tool, "--server", host_port(host, port), "--json", "--transcript", "--helo", HELO,
            "--timeout-scale", "0.1", *extra, *recipients]
    if "-f" not in extra:
        args[1:1] = ["-f", SENDER]
    p = subprocess.run(args, input=body, capture_output=True, timeout=timeout)
    check_no_sanitizer_report(tool, p.stderr.decode("utf-8", "replace"))
    return SendResult(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))


def expect_tls(res, active, verified=None, fallback=None, authenticated=None):
    """Checks the session object's account of TLS (and AUTH)."""
    tls = res.session["tls"]
    check_equal(tls["active"], active, f"session.tls.active\n    {res.describe()}")
    if active:
        check(tls["version"].startswith("TLSv1."), f"TLS version {tls['version']!r}")
        check(tls["cipher"], "no cipher reported")
    else:
        check_equal((tls["version"], tls["cipher"]), ("", ""), "version and cipher without TLS")
    if verified is not None:
        check_equal(tls["verified"], verified, "session.tls.verified")
    check_equal(tls["fallback_reason"], fallback, "session.tls.fallback_reason")
    if authenticated is not None:
        check_equal(res.session["authenticated"], authenticated, "session.authenticated")


def expect_results(res, expected, copies=1, exit_code=None):
    """`expected`: {rcpt: (status, code, state)}; checked for every copy."""
    if exit_code is not None and res.rc != exit_code:
        raise CheckFailed(f"exit status {res.rc}, expected {exit_code}\n    {res.describe()}")
    check_equal(len(res.results), copies * len(expected), "number of JSON result lines")
    for m in range(1, copies + 1):
        got = res.by_rcpt(m)
        for rcpt, (status, code, state) in expected.items():
            r = got.get(rcpt)
            check(r is not None, f"no result for {rcpt} (message {m})")
            if (r["status"], r["code"], r["state"]) != (status, code, state):
                raise CheckFailed(f"message {m}, {rcpt}: expected {status}/{code}/{state}, got "
                                  f"{r['status']}/{r['code']}/{r['state']} ({r['text']})\n    {res.describe()}")
            check(isinstance(r["text"], str), f"{rcpt}: text is not a string")
            if code:
                check(r["enhanced"] is None or re.fullmatch(r"[245]\.\d{1,3}\.\d{1,3}", r["enhanced"]),
                      f"{rcpt}: bad enhanced code {r['enhanced']!r}")


def commands_and_replies(res):
    return [l for l in res.transcript if l.startswith(("C: ", "S: "))]


def check_lockstep(res):
    """Without PIPELINING every command waits for its reply: a C: line (the message data
    summary aside, which the final "." follows) is always followed by an S: line."""
    lines = commands_and_replies(res)
    for i, line in enumerate(lines):
        if line.startswith("C: ") and not line.startswith("C: <"):
            following = lines[i + 1] if i + 1 < len(lines) else "(end of transcript)"
            check(following.startswith("S: "),
                  f"not lock-step: {line!r} followed by {following!r}\n    {res.describe()}")


def check_pipelined(res, copies=1):
    """With PIPELINING, MAIL, RCPT and DATA leave together (MAIL is followed by RCPT before any
    reply), and each later MAIL follows the previous message's final "." at once."""
    lines = commands_and_replies(res)
    groups = sum(1 for i in range(len(lines) - 1)
                 if lines[i].startswith("C: MAIL FROM:") and lines[i + 1].startswith("C: RCPT TO:"))
    check_equal(groups, copies, f"pipelined MAIL+RCPT groups\n    {res.describe()}")
    # The end of the data: DATA's final "." or, with CHUNKING, the last BDAT chunk.
    riding = sum(1 for i in range(len(lines) - 1)
                 if (lines[i] == "C: ." or re.fullmatch(r"C: BDAT \d+ LAST", lines[i]))
                 and lines[i + 1].startswith(("C: MAIL FROM:", "C: QUIT")))
    check_equal(riding, copies, f"final dots or last chunks pipelined with the next MAIL or QUIT\n"
                                f"    {res.describe()}")


# ---- TLS certificates and the Dovecot auth service ---------------------------------------------

def make_certs(args):
    """The certificates of tests/tls/make_certs.sh in <workdir>/certs, made once per run:
    ca.crt (the trust anchor the TLS cases give smtpipe-send), server.crt/key for localhost
    and 127.0.0.1, and the rest. Readable by the servers' unprivileged users."""
    if getattr(args, "certs", None):
        return args.certs
    check(args.make_certs, "--make-certs not given")
    certs = os.path.join(args.workdir, "certs")
    p = subprocess.run(["bash", args.make_certs, certs], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise ServerUnavailable(f"make_certs.sh failed ({p.returncode}): {p.stderr.strip()[-1000:]}")
    os.chmod(args.workdir, 0o755)
    os.chmod(certs, 0o755)
    args.certs = certs
    return certs


class Dovecot:
    """Dovecot's auth service only (no mail protocol), from a configuration in the temporary
    directory: one user in a passwd-file with a plaintext password (so that CRAM-MD5 and
    SCRAM-SHA-256 work), a client socket for Postfix's smtpd_sasl_type = dovecot."""

    CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols =
ssl = no
auth_mechanisms = plain login cram-md5 scram-sha-256
disable_plaintext_auth = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
service auth {{
  unix_listener {socket} {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
"""

    def __init__(self, workdir, socket_path):
        self.dir = os.path.join(workdir, "dovecot")
        self.socket = socket_path
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.user = "interop-user"
        self.password = "pw-" + token()
        self.started = False

    def start(self):
        tool = shutil.which("dovecot", path=SBIN_PATH)
        if not tool:
            raise ServerUnavailable("dovecot not found: install dovecot-core (scripts/install-deps.sh)")
        try:
            pwd.getpwnam("dovecot")
        except KeyError:
            raise ServerUnavailable("no 'dovecot' user: is the dovecot-core package installed?")
        for d in ("run", "state"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        os.chmod(self.dir, 0o755)
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write(f"{self.user}:{{PLAIN}}{self.password}\n")
        dovecot = pwd.getpwnam("dovecot")  # its auth process reads the passwd-file
        os.chown(os.path.join(self.dir, "passwd"), 0, dovecot.pw_gid)
        os.chmod(os.path.join(self.dir, "passwd"), 0o640)
        with open(self.conf, "w") as f:
            f.write(self.CONF.format(dir=self.dir, socket=self.socket))
        # Dovecot forks into the background: its output goes to a file, never to a pipe this
        # driver would wait on. From here on stop() must run (it finds the master by its pid file).
        self.started = True
        with open(os.path.join(self.dir, "start.log"), "w") as out:
            p = subprocess.run([tool, "-c", self.conf], stdin=subprocess.DEVNULL, stdout=out,
                               stderr=subprocess.STDOUT, timeout=30)
        if p.returncode != 0:
            with open(os.path.join(self.dir, "start.log"), errors="replace") as f:
                raise ServerUnavailable(f"dovecot did not start ({p.returncode}): {f.read().strip()[-1000:]}")
        if not wait_until(lambda: os.path.exists(self.socket), 10):
            raise ServerUnavailable(f"dovecot made no auth socket {self.socket}: {self.log()[-1000:]}")

    def stop(self):
        if not self.started:
            return
        self.started = False
        pid = read_pid(os.path.join(self.dir, "run", "master.pid"))
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)  # the master we started stops its children
            except ProcessLookupError:
                return
            kill_when_lingering(pid)

    def log(self):
        return read_text(os.path.join(self.dir, "dovecot.log"))


# ---- Postfix smtpd delivering to a Maildir --------------------------------------------------

# The listeners of the private instance (scripts/pylib adds the services every instance needs).
POSTFIX_LISTENERS = """\
# service type  private unpriv  chroot  wakeup  maxproc command
{smtp_port} inet n - n - - smtpd
{proxy_port} inet n - n - - smtpd
  -o smtpd_upstream_proxy_protocol=haproxy
  -o smtpd_peername_lookup=no
# STARTTLS offered, with the test certificate for localhost (and 127.0.0.1).
{tls_port} inet n - n - - smtpd
  -o smtpd_tls_security_level=may
  -o smtpd_tls_cert_file={certs}/server.crt
  -o smtpd_tls_key_file={certs}/server.key
  -o smtpd_tls_received_header=yes
# Submission: TLS required, then AUTH through Dovecot, and nothing without it.
{submission_port} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_cert_file={certs}/server.crt
  -o smtpd_tls_key_file={certs}/server.key
  -o smtpd_tls_received_header=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sasl_type=dovecot
  -o smtpd_sasl_path={sasl_socket}
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
"""

# Appended to the shared base main.cf; {etc} is filled in by PrivatePostfix.
POSTFIX_MAIN_CF = f"""\
myhostname = mx.{DOMAIN}
mydomain = {DOMAIN}
myorigin = $myhostname
mydestination = {DOMAIN}, localhost
smtpd_banner = $myhostname ESMTP smtpipe interop
# Every local part of {DOMAIN} goes to one local user's Maildir.
local_recipient_maps =
luser_relay = {MAILDIR_USER}@localhost
home_mailbox = Maildir/
# Mixed results: some recipients refused for good, some for now.
smtpd_recipient_restrictions = check_recipient_access texthash:{{etc}}/recipient_access,
    permit_mynetworks, reject_unauth_destination
smtpd_authorized_xclient_hosts = 127.0.0.1
# Strict about what the client may send: a bare LF anywhere, or a command sent ahead of a
# reply it must wait for, ends the session with an error.
smtpd_forbid_bare_newline = reject
smtpd_forbid_bare_newline_exclusions =
smtpd_forbid_unauth_pipelining = yes
# Headers as the client wrote them: no Date/Message-ID/From added, no address rewriting.
local_header_rewrite_clients =
always_add_missing_headers = no
smtputf8_enable = no
"""

RECIPIENT_ACCESS = f"""\
reject550@{DOMAIN} 550 5.1.1 no such user here
reject551@{DOMAIN} 550 5.1.1 no such user here either
defer450@{DOMAIN} 450 4.2.0 mailbox busy, try again later
"""


class Postfix(PrivatePostfix):
    """The private instance of scripts/pylib with four listeners (plain, PROXY, STARTTLS,
    submission) and local delivery to the Maildir of MAILDIR_USER."""

    def __init__(self, workdir, certs):
        self.certs = certs
        # The Dovecot auth socket the submission listener talks to (see Dovecot).
        self.sasl_socket = os.path.join(workdir, "dovecot", "auth-postfix")
        ports = set()
        while len(ports) < 4:
            ports.add(free_port())
        self.port, self.proxy_port, self.tls_port, self.submission_port = sorted(ports)
        listeners = POSTFIX_LISTENERS.format(smtp_port=f"127.0.0.1:{self.port}",
                                             proxy_port=f"127.0.0.1:{self.proxy_port}",
                                             tls_port=f"127.0.0.1:{self.tls_port}",
                                             submission_port=f"127.0.0.1:{self.submission_port}",
                                             certs=certs, sasl_socket=self.sasl_socket)
        super().__init__(os.path.join(workdir, "postfix"), POSTFIX_MAIN_CF, listeners,
                         files={"recipient_access": RECIPIENT_ACCESS})
        self.delivered = set()  # Maildir files of this run, removed at the end

    def ensure_maildir_user(self):
        try:
            pw = pwd.getpwnam(MAILDIR_USER)
        except KeyError:
            p = subprocess.run(["useradd", "--system", "--home-dir", MAILDIR_HOME, "--create-home",
                                "--shell", "/usr/sbin/nologin", MAILDIR_USER],
                               capture_output=True, text=True)
            if p.returncode != 0:
                raise ServerUnavailable(f"cannot create the local user {MAILDIR_USER}: {p.stderr.strip()}")
            pw = pwd.getpwnam(MAILDIR_USER)
        if not os.path.isdir(pw.pw_dir):
            os.makedirs(pw.pw_dir, mode=0o755)
            os.chown(pw.pw_dir, pw.pw_uid, pw.pw_gid)
        self.maildir = os.path.join(pw.pw_dir, "Maildir")

    def start(self):
        self.requirements()
        self.ensure_maildir_user()
        super().start(self.port)  # master binds every listener at once

    # -- what Postfix did with our messages

    def wait_removed(self, queue_ids, timeout=20):
        """Waits until the queue manager is done with every queue ID (all deliveries tried)."""
        pending = lambda: [q for q in queue_ids if f"{q}: removed" not in self.log()]
        if not wait_until(lambda: not pending(), timeout):
            raise CheckFailed(f"Postfix did not finish delivering {pending()}\n{self.log()[-3000:]}")

    def maildir_files(self, tok):
        """{X-Original-To: [file contents]} for every delivered message carrying `tok`."""
        found = {}
        new = os.path.join(self.maildir, "new")
        if not os.path.isdir(new):
            return found
        for name in sorted(os.listdir(new)):
            path = os.path.join(new, name)
            with open(path, "rb") as f:
                data = f.read()
            if tok.encode() not in data:
                continue
            added, _ = split_postfix_headers(data)
            found.setdefault(added.get("X-Original-To", "?"), []).append(data)
            self.delivered.add(path)
        return found


def split_postfix_headers(data):
    """Splits what Postfix put on top of the message (local's Return-Path, X-Original-To and
    Delivered-To, smtpd's Received with its continuation lines) from the message itself.
    Exactly those four headers, in that order, or the check fails."""
    lines = data.split(b"\n")
    pos = 0
    added = {}
    for name in (b"Return-Path", b"X-Original-To", b"Delivered-To", b"Received"):
        check(pos < len(lines) and lines[pos].startswith(name + b": "),
              f"expected the {name.decode()} header Postfix adds, found "
              f"{lines[pos][:80] if pos < len(lines) else b'end of file'!r}")
        value = lines[pos][len(name) + 2:]
        pos += 1
        while pos < len(lines) and lines[pos][:1] in (b" ", b"\t"):
            value += b"\n" + lines[pos]
            pos += 1
        added[name.decode()] = value.decode("utf-8", "replace")
    return added, b"\n".join(lines[pos:])


def queue_ids(res):
    ids = set()
    for r in res.results:
        m = re.search(r"queued as ([0-9A-Za-z]+)", r["text"])
        if r["status"] == "delivered" and m:
            ids.add(m.group(1))
    return sorted(ids)


def postfix_cases(run, pf, args):
    send = args.send

    def deliver_and_compare(body, accepted, refused=None, extra=(), copies=1, exit_code=0,
                            sender=SENDER, transactions=None, port=None, tls=False):
        """Sends `body` to `accepted` (+ `refused`: {rcpt: (status, code)}), checks the JSON
        results, waits for Postfix to deliver, and compares every Maildir copy byte for byte.
        `tls`: whether Postfix's Received header must say the message came over TLS."""
        tok = token()
        msg = make_message(tok, "interop", body, to=", ".join(accepted))
        refused = refused or {}
        rcpts = list(accepted) + list(refused)
        res = run_send(send, rcpts, msg, port or pf.port, extra=(*extra, "-n", str(copies)))
        expected = {r: ("delivered", 250, "data") for r in accepted}
        expected.update({r: (st, code, "rcpt") for r, (st, code) in refused.items()})
        expect_results(res, expected, copies=copies, exit_code=exit_code)
        ids = queue_ids(res)
        check_equal(len(ids), (transactions or copies) if accepted else 0,
                    "distinct queue IDs (one per transaction)")
        pf.wait_removed(ids)
        files = pf.maildir_files(tok)
        check_equal(sorted(files), sorted(accepted), "recipients with a Maildir delivery")
        want = canonical_lf(msg)
        for rcpt, copies_found in files.items():
            check_equal(len(copies_found), copies, f"copies delivered to {rcpt}")
            for data in copies_found:
                added, rest = split_postfix_headers(data)
                check_equal(added["Return-Path"], f"<{sender}>", "Return-Path")
                check(added["Received"].startswith(f"from {HELO} (localhost [127.0.0.1])"),
                      f"Received header: {added['Received']!r}")
                # smtpd_tls_received_header: "(using TLSv1.3 with cipher ... (256/256 bits)".
                used_tls = re.search(r"\(using TLSv1\.[23] with cipher [A-Z0-9_-]+ ", added["Received"])
                check(bool(used_tls) == tls, f"Received header {'without' if tls else 'with'} TLS: "
                                             f"{added['Received']!r}")
                if rest != want:
                    raise CheckFailed(f"content delivered to {rcpt} differs from the canonical input:\n"
                                      f"    expected {want!r}\n    got      {rest!r}")
        check(not any(complaint in pf.log() for complaint in
                      ("bare <LF>", "improper command pipelining", "synchronization")),
              f"Postfix complained about the client:\n{pf.log()[-2000:]}")
        return res

    r1, r2 = f"alice@{DOMAIN}", f"bob@{DOMAIN}"

    def pipelined():
        res = deliver_and_compare(PLAIN_BODY, [r1, r2])
        check_pipelined(res)

    def lockstep():
        res = deliver_and_compare(PLAIN_BODY, [r1, r2], extra=["--no-pipelining"])
        check_lockstep(res)

    def null_sender():
        deliver_and_compare(PLAIN_BODY, [r1], extra=["-f", ""], sender="")

    def several_pipelined():
        before = pf.log().count("disconnect from")
        res = deliver_and_compare(PLAIN_BODY, [r1, r2], copies=3)
        check_pipelined(res, copies=3)
        check(wait_until(lambda: pf.log().count("disconnect from") > before, 5), "no disconnect logged")
        last = [l for l in pf.log().splitlines() if "disconnect from" in l][-1]
        # bdat=3 with CHUNKING (Postfix offers it by default), data=3 without.
        check("mail=3 " in last and ("data=3 " in last or "bdat=3 " in last),
              f"expected one connection with 3 transactions, Postfix logged: {last}")

    def several_lockstep():
        res = deliver_and_compare(PLAIN_BODY, [r1, r2], copies=2, extra=["--no-pipelining"])
        check_lockstep(res)

    def recipient_batches():
        rcpts = [f"batch{i}@{DOMAIN}" for i in range(5)]
        res = deliver_and_compare(PLAIN_BODY, rcpts, extra=["--max-recipients", "2"], transactions=3)
        mails = [l for l in res.transcript if l.startswith("C: MAIL FROM:")]
        check_equal(len(mails), 3, "MAIL transactions for 5 recipients, 2 per transaction")

    def mixed(extra):
        def case():
            deliver_and_compare(
                PLAIN_BODY, [r1, r2],
                refused={f"reject550@{DOMAIN}": ("permanent", 550), f"defer450@{DOMAIN}": ("transient", 450)},
                extra=extra, exit_code=69)
        return case

    def transient_only():
        deliver_and_compare(PLAIN_BODY, [r1], refused={f"defer450@{DOMAIN}": ("transient", 450)},
                            exit_code=75)

    def all_refused():
        res = deliver_and_compare(PLAIN_BODY, [],
                                  refused={f"reject550@{DOMAIN}": ("permanent", 550),
                                           f"reject551@{DOMAIN}": ("permanent", 550)},
                                  exit_code=69)
        check(not any(l.startswith("C: <") for l in res.transcript), "message data sent without a recipient")

    def smuggling(extra):
        def case():
            deliver_and_compare(SMUGGLING_BODY, [r1], extra=extra)
            check(f"smuggled@{DOMAIN}" not in pf.log(), "a smuggled transaction reached Postfix")
            new = os.path.join(pf.maildir, "new")
            for name in os.listdir(new):
                with open(os.path.join(new, name), "rb") as f:
                    check(b"X-Original-To: smuggled@" not in f.read(1000), "a smuggled message was delivered")
        return case

    def check_bdat(res, copies, chunks=1):
        """Every copy went with BDAT (Postfix advertises CHUNKING): `chunks` BDAT commands per
        copy, the last one LAST, and never DATA."""
        sent = [l for l in res.transcript if l.startswith("C: ")]
        check("C: DATA" not in sent, f"DATA sent although Postfix offers CHUNKING\n    {res.describe()}")
        check_equal(sum(1 for l in sent if re.fullmatch(r"C: BDAT \d+ LAST", l)), copies,
                    f"BDAT ... LAST commands\n    {res.describe()}")
        check_equal(sum(1 for l in sent if l.startswith("C: BDAT ")), copies * chunks,
                    f"BDAT commands\n    {res.describe()}")

    def bdat_kinds(copies):
        def case():
            eight_bit = "Caf\u00e9 cr\u00e8me, \u00fcber, \u65e5\u672c\n".encode() * 3
            big = b"".join(b"%07d " % i + b"b" * 70 + b"\n" for i in range(2_500_000 // 79))
            for name, body, chunks in (("plain", PLAIN_BODY, 1), ("smuggling", SMUGGLING_BODY, 1),
                                       ("8-bit", eight_bit, 1), ("headers only", b"", 1),
                                       ("2.5 MB", big, 3)):
                try:
                    res = deliver_and_compare(body, [r1, r2], copies=copies)
                    check_bdat(res, copies, chunks)
                    check_pipelined(res, copies=copies)
                    mails = [l for l in res.transcript if l.startswith("C: MAIL FROM:")]
                    check(all(("BODY=8BITMIME" in l) == (name == "8-bit") for l in mails),
                          f"BODY=8BITMIME exactly on the 8-bit body: {mails}")
                except CheckFailed as e:
                    raise CheckFailed(f"{name} body: {e}") from None
        return case

    def bdat_lockstep():
        res = deliver_and_compare(SMUGGLING_BODY, [r1], copies=2, extra=["--no-pipelining"])
        check_bdat(res, 2)
        check_lockstep(res)

    def no_chunking():
        res = deliver_and_compare(PLAIN_BODY, [r1], extra=["--no-chunking"])
        check("C: DATA" in res.transcript and not any(l.startswith("C: BDAT") for l in res.transcript),
              f"--no-chunking still sent BDAT\n    {res.describe()}")

    def bdat_writes():
        strace = shutil.which("strace")
        check(strace, "strace not installed (scripts/install-deps.sh)")
        n = 200
        tok = token()
        msg = make_message(tok, "bdat writes", PLAIN_BODY, to=r1)
        trace = os.path.join(args.workdir, "strace-bdat.txt")
        argv = [strace, "-f", "-e", "trace=write,writev,sendto,sendmsg", "-o", trace, send,
                "-f", SENDER, "--server", f"127.0.0.1:{pf.port}", "--helo", HELO, "-n", str(n), r1]
        p = subprocess.run(argv, input=msg, capture_output=True, timeout=300,
                           env={**os.environ, **ptrace_env()})
        check_equal(p.returncode, 0, f"smtpipe-send under strace: {p.stderr[-500:]!r}")
        with open(trace) as f:
            calls = [l for l in f if re.search(r"\b(write|writev|sendto|sendmsg)\([3-9]|\b(write|writev|sendto|sendmsg)\(\d\d", l)]
        per_message = len(calls) / n
        print(f"     BDAT, pipelined: {per_message:.2f} socket writes per message ({len(calls)} for {n})", flush=True)
        check(per_message <= 2, f"{per_message:.2f} socket writes per message (at most 2)")
        check(any("BDAT " in l for l in calls), "no BDAT command in the traced writes")
        def delivered():
            return len(pf.maildir_files(tok).get(r1, [])) == n
        check(wait_until(delivered, 60), "not every traced copy reached the Maildir")

    def xclient_case(proxy):
        def case():
            check(args.xclient_send, "--xclient-send not given")
            tok = token()
            msg = make_message(tok, "xclient" if not proxy else "proxy", PLAIN_BODY, to=r1)
            with tempfile.NamedTemporaryFile(dir=args.workdir, suffix=".eml") as f:
                f.write(msg)
                f.flush()
                cmd = [args.xclient_send, "--helo", HELO]
                if proxy:
                    cmd += ["--proxy", "192.0.2.44:40044", "127.0.0.1", str(pf.proxy_port)]
                else:
                    cmd += ["--xclient", "NAME=client.example.org", "--xclient", "ADDR=192.0.2.10",
                            "127.0.0.1", str(pf.port)]
                cmd += [SENDER, r1, f.name]
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            check_no_sanitizer_report(cmd[0], p.stderr)
            transcript = p.stderr
            check(p.returncode == 0 and " delivered 250 data " in p.stdout,
                  f"exit {p.returncode}, results {p.stdout!r}\n{transcript}")
            if proxy:
                check("C: XCLIENT" not in transcript, "XCLIENT sent on the proxy port (not offered there)")
            else:
                check_equal(transcript.count("C: XCLIENT "), 1, "XCLIENT commands sent")
                check_equal(transcript.count(f"C: EHLO {HELO}"), 2, "EHLO commands (again after XCLIENT)")
                check("S: 220 " in transcript.split("C: XCLIENT ", 1)[1].split("\n", 2)[1],
                      f"XCLIENT not answered 220:\n{transcript}")
            qid = re.search(r"queued as ([0-9A-Za-z]+)", p.stdout)
            check(qid, f"no queue ID in {p.stdout!r}")
            pf.wait_removed([qid.group(1)])
            files = pf.maildir_files(tok)
            check_equal(list(files), [r1], "recipients with a Maildir delivery")
            added, rest = split_postfix_headers(files[r1][0])
            want_from = (f"from {HELO} (unknown [192.0.2.44])" if proxy
                         else f"from {HELO} (client.example.org [192.0.2.10])")
            check(added["Received"].startswith(want_from),
                  f"Received header should start with {want_from!r}: {added['Received']!r}")
            check_equal(rest, canonical_lf(msg), "delivered content")
        return case

    # -- TLS and AUTH

    ca = os.path.join(pf.certs, "ca.crt")
    verified_tls = ["--tls", "required", "--tls-verify", "host", "--ca-file", ca]

    def starttls_verified():
        # The certificate names localhost; --server is an address, so --tls-name says whom to expect.
        res = deliver_and_compare(PLAIN_BODY, [r1, r2], port=pf.tls_port, tls=True,
                                  extra=[*verified_tls, "--tls-name", "localhost"])
        expect_tls(res, active=True, verified=True)
        check_equal(res.session["tls"]["server_name"], "localhost", "SNI sent")
        check_equal(res.session["tls"]["verify_result"], "ok", "verify_result")
        check_equal([l for l in res.transcript if l.startswith("C: EHLO")], [f"C: EHLO {HELO}"] * 2,
                    "EHLO before and after STARTTLS")
        check_pipelined(res)

    def starttls_ip_literal():
        # No --tls-name: 127.0.0.1 is checked against the certificate's IP address, no SNI sent.
        res = deliver_and_compare(PLAIN_BODY, [r1], port=pf.tls_port, tls=True,
                                  extra=[*verified_tls, "--no-pipelining"])
        expect_tls(res, active=True, verified=True)
        check_equal(res.session["tls"]["server_name"], "", "SNI for an IP literal")
        check_lockstep(res)

    def opportunistic_fallback():
        # The default policy without the test CA: the certificate is not trusted, so the message
        # goes over a fresh plaintext connection, and the result says so.
        res = deliver_and_compare(PLAIN_BODY, [r1], port=pf.tls_port, tls=False)
        expect_tls(res, active=False, verified=False, fallback="server certificate rejected")
        check_equal(sum(1 for l in res.transcript if l.startswith("S: 220 mx.")), 2, "connections (banners)")
        check("TLS with 127.0.0.1" in res.stderr and "sent without TLS" in res.stderr,
              f"no note of the fallback on stderr:\n{res.stderr[-500:]}")

    def required_untrusted():
        tok = token()
        msg = make_message(tok, "untrusted", PLAIN_BODY, to=r1)
        res = run_send(send, [r1], msg, pf.tls_port, extra=["--tls", "required"])
        expect_results(res, {r1: ("transient", 0, "")}, exit_code=75)
        expect_tls(res, active=False, verified=False)
        check_equal(res.session["error"], "server certificate rejected", "session error")
        check_equal(res.session["tls"]["verify_result"], "unable to get local issuer certificate",
                    "verification error")
        check("server certificate rejected (in starttls): unable to get local issuer certificate"
              in res.stderr, f"stderr does not name the verification error:\n{res.stderr[-500:]}")
        check(not any(l.startswith(("C: MAIL", "C: EHLO", "C: QUIT")) for l in
                      res.transcript[res.transcript.index("C: STARTTLS"):]),
              f"plaintext after STARTTLS\n    {res.describe()}")

    dovecot = Dovecot(args.workdir, pf.sasl_socket)
    args.cleanups.append(dovecot.stop)

    def submission(mechanism, pipelining=True):
        def case():
            if not dovecot.started:
                dovecot.start()
            pwfile = os.path.join(args.workdir, "submission-password")
            with open(pwfile, "w") as f:
                f.write(dovecot.password + "\n")
            extra = [*verified_tls, "--tls-name", "localhost", "--auth-user", dovecot.user,
                     "--auth-password-file", pwfile]
            if mechanism:
                extra += ["--auth-mech", mechanism]
            if not pipelining:
                extra.append("--no-pipelining")
            before = pf.log().count("sasl_method=")
            res = deliver_and_compare(PLAIN_BODY, [r1], port=pf.submission_port, tls=True, extra=extra)
            expect_tls(res, active=True, verified=True, authenticated=True)
            used = mechanism or "SCRAM-SHA-256"  # the strongest of what Dovecot offers
            check(any(l.startswith(f"C: AUTH {used}") for l in res.transcript),
                  f"AUTH {used} not sent\n    {res.describe()}")
            check(dovecot.password not in res.stderr + "".join(map(str, res.results)),
                  "the password appears in smtpipe-send's output")
            sent = [l for l in commands_and_replies(res) if l.startswith("C: ")]
            exchange = sent[sent.index("C: STARTTLS") + 2:]  # after the second EHLO
            exchange = exchange[:next(i for i, l in enumerate(exchange) if l.startswith("C: MAIL"))]
            check(exchange and all(l in (f"C: AUTH {used}", f"C: AUTH {used} <redacted>", "C: <redacted>")
                                   for l in exchange),
                  f"AUTH lines not all redacted: {exchange}")
            logged = wait_until(lambda: pf.log().count("sasl_method=") > before and
                                [l for l in pf.log().splitlines() if "sasl_method=" in l][-1], 5)
            check(logged and f"sasl_method={used}, sasl_username={dovecot.user}" in logged,
                  f"Postfix did not log the authentication: {logged!r}")
        return case

    def submission_refused():
        if not dovecot.started:
            dovecot.start()
        pwfile = os.path.join(args.workdir, "wrong-password")
        with open(pwfile, "w") as f:
            f.write("not-" + dovecot.password)
        msg = make_message(token(), "wrong password", PLAIN_BODY, to=r1)
        res = run_send(send, [r1], msg, pf.submission_port,
                       extra=[*verified_tls, "--tls-name", "localhost", "--auth-user", dovecot.user,
                              "--auth-password-file", pwfile, "--auth-mech", "PLAIN"])
        expect_results(res, {r1: ("permanent", 535, "auth")}, exit_code=69)
        check_equal(res.session["error"], "authentication refused by the server", "session error")
        check_equal(sum(1 for l in res.transcript if l.startswith("C: AUTH")), 1, "AUTH commands (no retry)")
        check(not any(l.startswith("C: MAIL") for l in res.transcript), "MAIL after a refused AUTH")
        # And without credentials Postfix refuses the recipient: it really requires AUTH.
        res = run_send(send, [r1], msg, pf.submission_port, extra=[*verified_tls, "--tls-name", "localhost"])
        check_equal(res.rc, 69, f"exit status without AUTH\n    {res.describe()}")
        check(res.results and res.results[0]["code"] == 554, f"RCPT without AUTH: {res.results}")

    run.case("pipelined delivery to two recipients, exact Maildir content", pipelined)
    run.case("lock-step delivery (--no-pipelining), exact Maildir content", lockstep)
    run.case("null sender (-f '') arrives as Return-Path: <>", null_sender)
    run.case("three messages over one pipelined connection (-n 3)", several_pipelined)
    run.case("two messages over one lock-step connection (-n 2 --no-pipelining)", several_lockstep)
    run.case("five recipients in batches of two (--max-recipients 2)", recipient_batches)
    run.case("mixed recipients: 250, 550, 450 in one pipelined group (exit 69)", mixed([]))
    run.case("mixed recipients in lock-step (exit 69)", mixed(["--no-pipelining"]))
    run.case("accepted and deferred recipients only (exit 75)", transient_only)
    run.case("every recipient refused: no message data sent (exit 69)", all_refused)
    run.case("bare LFs, leading dots and smuggling sequences, pipelined", smuggling([]))
    run.case("bare LFs, leading dots and smuggling sequences, lock-step", smuggling(["--no-pipelining"]))
    run.case("BDAT (CHUNKING): plain, smuggling, 8-bit, headers-only, 2.5 MB bodies, byte-exact", bdat_kinds(1))
    run.case("BDAT (CHUNKING): the same bodies three per connection, pipelined", bdat_kinds(3))
    run.case("BDAT in lock-step (--no-pipelining), two per connection", bdat_lockstep)
    run.case("--no-chunking sends DATA although Postfix offers CHUNKING", no_chunking)
    run.case("pipelined BDAT: at most 2 socket writes per message (strace, 200 messages)", bdat_writes)
    run.case("XCLIENT state (demo): Postfix records NAME and ADDR in Received", xclient_case(False))
    run.case("PROXY v1 header state (demo): smtpd_upstream_proxy_protocol sees the origin", xclient_case(True))
    run.case("STARTTLS required and verified (--tls-name localhost): Received shows TLS", starttls_verified)
    run.case("STARTTLS verified against the IP address SAN, lock-step", starttls_ip_literal)
    run.case("default opportunistic TLS, untrusted certificate: plaintext on a new connection",
             opportunistic_fallback)
    run.case("--tls required, untrusted certificate: exit 75, the verification error on stderr",
             required_untrusted)
    run.case("submission with Dovecot SASL: the strongest mechanism (SCRAM-SHA-256)", submission(None))
    run.case("submission with Dovecot SASL: CRAM-MD5", submission("CRAM-MD5"))
    run.case("submission with Dovecot SASL: PLAIN", submission("PLAIN", pipelining=False))
    run.case("submission with Dovecot SASL: LOGIN", submission("LOGIN"))
    run.case("submission: a wrong password is 535 (exit 69), no AUTH means no delivery", submission_refused)


# ---- Postfix smtp-sink ------------------------------------------------------------------------

DUMP_SEPARATOR = b"=====SMTPIPE-INTEROP-DUMP=====\n"


class DumpingSink(SmtpSink):
    """The smtp-sink of scripts/pylib, dumping every message it accepts to one file."""

    def __init__(self, workdir, name, flags, host="127.0.0.1"):
        directory = os.path.join(workdir, "sink-" + name)
        self.dump = os.path.join(directory, "dump")
        separator = DUMP_SEPARATOR.decode().replace("\n", "\\n")
        super().__init__(directory, [*flags, "-D", self.dump, "-S", separator], backlog=16,
                         hostname="sink.interop.test", host=host)

    def messages(self):
        """The dumped messages: (smtp-sink's own headers as a dict of lists, the message)."""
        try:
            with open(self.dump, "rb") as f:
                data = f.read()
        except OSError:
            return []
        out = []
        for part in data.split(DUMP_SEPARATOR)[1:]:
            lines = part.split(b"\n")
            headers = {}
            pos = 0
            while pos < len(lines) and lines[pos].startswith(b"X-"):
                name, _, value = lines[pos].decode().partition(": ")
                headers.setdefault(name, []).append(value)
                pos += 1
            check(pos + 2 < len(lines) and lines[pos].startswith(b"Received: from "),
                  f"smtp-sink dump: no Received header after its X- headers: {part[:300]!r}")
            pos += 3  # Received is always three lines
            body = b"\n".join(lines[pos:])
            check(body.endswith(b"\n\n"), f"smtp-sink dump does not end with an empty line: {body[-40:]!r}")
            out.append((headers, body[:-1]))
        return out


def sink_cases(run, args):
    def session(flags, copies, extra, body, check_mode, host="127.0.0.1"):
        def case():
            sink = DumpingSink(args.workdir, f"{'p' if '-p' in flags else 'pipe'}-{token()[:6]}", flags, host)
            args.cleanups.append(sink.stop)
            sink.start()
            rcpts = [f"one@{DOMAIN}", f"two@{DOMAIN}"]
            tok = token()
            msg = make_message(tok, "smtp-sink", body, to=", ".join(rcpts))
            res = run_send(args.send, rcpts, msg, sink.port, extra=(*extra, "-n", str(copies)), host=host)
            expect_results(res, {r: ("delivered", 250, "data") for r in rcpts}, copies=copies, exit_code=0)
            check_mode(res, copies)
            dumped = wait_until(lambda: len(sink.messages()) >= copies and sink.messages(), 5) or []
            check_equal(len(dumped), copies, "messages in the smtp-sink dump")
            for headers, content in dumped:
                check_equal(headers.get("X-Mail-Args"), [f"<{SENDER}>"], "X-Mail-Args")
                check_equal(headers.get("X-Rcpt-Args"), [f"<{r}>" for r in rcpts], "X-Rcpt-Args")
                check_equal(headers.get("X-Helo-Args"), [HELO], "X-Helo-Args")
                if content != canonical_lf(msg):
                    raise CheckFailed(f"dumped content differs:\n    expected {canonical_lf(msg)!r}\n"
                                      f"    got      {content!r}")
            sink.stop()
        return case

    pipelined = lambda res, copies: check_pipelined(res, copies)
    lockstep = lambda res, copies: check_lockstep(res)
    run.case("three messages over one pipelined connection", session([], 3, [], PLAIN_BODY, pipelined))
    run.case("-p (no PIPELINING): two messages in strict lock-step",
             session(["-p"], 2, [], PLAIN_BODY, lockstep))
    run.case("--no-pipelining although PIPELINING is offered", session([], 2, ["--no-pipelining"], PLAIN_BODY, lockstep))
    run.case("smuggling sequences arrive as text, pipelined", session([], 2, [], SMUGGLING_BODY, pipelined))
    run.case("IPv6 loopback: --server [::1]:PORT", session(["-6"], 1, [], PLAIN_BODY, pipelined, host="::1"))

    def refused_before_connecting():
        # Nothing listens on the port: a connection attempt would give 75 (transient).
        port = free_port()
        for body, why in ((b"Subject: x\n\nNUL \0 here\n", "NUL octet"),
                          (b"Subject: x\n\n" + b"x" * 999 + b"\n", "line longer than 998")):
            res = run_send(args.send, [f"one@{DOMAIN}"], body, port)
            check_equal(res.rc, 65, f"exit status for a body with a {why}")
            check_equal([(r["status"], r["code"]) for r in res.results], [("permanent", 0)], "results")
            check(not res.transcript, f"something was sent: {res.transcript}")
        res = run_send(args.send, ["not an address"], b"x\n", port)
        check_equal(res.rc, 65, "exit status for an invalid recipient")
    run.case("invalid input refused before connecting (exit 65)", refused_before_connecting)


# ---- aiosmtpd ---------------------------------------------------------------------------------

class Aiosmtpd:
    def __init__(self, workdir, python, script, refuse, defer, certs=None, auth=None):
        self.out = os.path.join(workdir, f"aiosmtpd-{token()[:8]}.jsonl")
        self.python = python
        self.script = script
        self.refuse = refuse
        self.defer = defer
        self.certs = certs  # offer STARTTLS with server.crt
        self.auth = auth    # (user, password file): offer AUTH after TLS, require it
        self.port = free_port()
        self.proc = None

    def start(self):
        if not os.path.exists(self.python):
            raise ServerUnavailable(f"{self.python} not found")
        probe = subprocess.run([self.python, "-c", "import aiosmtpd.controller"], capture_output=True, text=True)
        if probe.returncode != 0:
            raise ServerUnavailable(f"aiosmtpd is not importable by {self.python} (install python3-aiosmtpd, "
                                    f"scripts/install-deps.sh): {probe.stderr.strip().splitlines()[-1:]}")
        cmd = [self.python, self.script, "--port", str(self.port), "--out", self.out]
        for r in self.refuse:
            cmd += ["--refuse", r]
        for r in self.defer:
            cmd += ["--defer", r]
        if self.certs:
            cmd += ["--tls-cert", os.path.join(self.certs, "server.crt"),
                    "--tls-key", os.path.join(self.certs, "server.key")]
        if self.auth:
            cmd += ["--auth-user", self.auth[0], "--auth-password-file", self.auth[1]]
        # stdin stays open: the server stops when it closes, so it never outlives this driver.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            self.stop()
            raise ServerUnavailable(f"aiosmtpd did not start: {line.strip()} {self.proc.stderr.read().strip()}")

    def stop(self):
        stop_process(self.proc, ask=lambda: self.proc.stdin.close())

    def messages(self):
        try:
            with open(self.out) as f:
                return [json.loads(l) for l in f if l.strip()]
        except OSError:
            return []


def aiosmtpd_cases(run, args):
    ok1, ok2 = f"first@{DOMAIN}", f"second@{DOMAIN}"
    bad, later = f"refused@{DOMAIN}", f"later@{DOMAIN}"

    def with_server(fn):
        def case():
            server = Aiosmtpd(args.workdir, args.aiosmtpd_python, args.aiosmtpd_server, [bad], [later])
            args.cleanups.append(server.stop)
            server.start()
            try:
                fn(server)
            finally:
                server.stop()
        return case

    def per_recipient(server):
        tok = token()
        msg = make_message(tok, "aiosmtpd", PLAIN_BODY, to=ok1)
        res = run_send(args.send, [ok1, bad, later, ok2], msg, server.port)
        expect_results(res, {ok1: ("delivered", 250, "data"), bad: ("permanent", 550, "rcpt"),
                             later: ("transient", 451, "rcpt"), ok2: ("delivered", 250, "data")},
                       exit_code=69)
        check(not any("PIPELINING" in l for l in res.transcript), "aiosmtpd offered PIPELINING?")
        check_lockstep(res)
        got = wait_until(server.messages, 5) or []
        check_equal(len(got), 1, "messages aiosmtpd accepted")
        check_equal(got[0]["mail_from"], SENDER, "envelope sender")
        check_equal(got[0]["rcpt_tos"], [ok1, ok2], "envelope recipients (the refused ones left out)")
        check_equal(got[0]["helo"], HELO, "EHLO name")
        content = base64.b64decode(got[0]["content"])
        if content != canonical_crlf(msg):
            raise CheckFailed(f"content differs:\n    expected {canonical_crlf(msg)!r}\n    got      {content!r}")

    def several(server):
        tok = token()
        msg = make_message(tok, "aiosmtpd several", SMUGGLING_BODY, to=ok1)
        res = run_send(args.send, [ok1, later], msg, server.port, extra=["-n", "3", "-f", ""])
        expect_results(res, {ok1: ("delivered", 250, "data"), later: ("transient", 451, "rcpt")},
                       copies=3, exit_code=75)
        check_lockstep(res)
        got = wait_until(lambda: len(server.messages()) >= 3 and server.messages(), 5) or []
        check_equal(len(got), 3, "messages aiosmtpd accepted over one connection")
        for m in got:
            check_equal(m["mail_from"], "<>", "null sender (aiosmtpd keeps the brackets)")
            check_equal(m["rcpt_tos"], [ok1], "envelope recipients")
            check_equal(base64.b64decode(m["content"]), canonical_crlf(msg), "content")

    run.case("per-recipient results: 250, 550, 451, 250 in lock-step (exit 69)", with_server(per_recipient))
    run.case("three messages over one connection, null sender, smuggling body (exit 75)", with_server(several))

    # -- STARTTLS and AUTH: aiosmtpd checks the credentials and offers AUTH only after TLS.
    user = "interop-user"
    password = "pw-" + token()
    pwfile = os.path.join(args.workdir, "aiosmtpd-password")
    wrongfile = os.path.join(args.workdir, "aiosmtpd-wrong-password")

    def with_tls_server(fn, auth=True):
        def case():
            certs = make_certs(args)
            for path, pw in ((pwfile, password + "\n"), (wrongfile, "not-" + password)):
                with open(path, "w") as f:
                    f.write(pw)
            server = Aiosmtpd(args.workdir, args.aiosmtpd_python, args.aiosmtpd_server, [bad], [later],
                              certs=certs, auth=(user, pwfile) if auth else None)
            args.cleanups.append(server.stop)
            server.start()
            try:
                fn(server, os.path.join(certs, "ca.crt"))
            finally:
                server.stop()
        return case

    def authenticated(mechanism):
        def case(server, ca):
            msg = make_message(token(), f"AUTH {mechanism}", PLAIN_BODY, to=ok1)
            res = run_send(args.send, [ok1], msg, server.port,
                           extra=["--tls", "required", "--ca-file", ca, "--auth-user", user,
                                  "--auth-password-file", pwfile, "--auth-mech", mechanism])
            expect_results(res, {ok1: ("delivered", 250, "data")}, exit_code=0)
            expect_tls(res, active=True, verified=True, authenticated=True)
            got = wait_until(server.messages, 5) or []
            check_equal(len(got), 1, "messages aiosmtpd accepted")
            check_equal((got[0]["tls"], got[0]["auth_user"], got[0]["auth_mechanism"]), (True, user, mechanism),
                        "TLS and the authenticated user, as aiosmtpd saw them")
            check_equal(base64.b64decode(got[0]["content"]), canonical_crlf(msg), "content")
            auth = [l for l in res.transcript if l.startswith("C: ")]
            auth = auth[auth.index("C: STARTTLS") + 2:]
            auth = auth[:next(i for i, l in enumerate(auth) if l.startswith("C: MAIL"))]
            want = (["C: AUTH PLAIN <redacted>"] if mechanism == "PLAIN"
                    else ["C: AUTH LOGIN", "C: <redacted>", "C: <redacted>"])
            check_equal(auth, want, "the AUTH exchange in the transcript")
            check(password not in res.stderr, "the password appears on stderr")
        return case

    def wrong_password(server, ca):
        msg = make_message(token(), "wrong password", PLAIN_BODY, to=ok1)
        res = run_send(args.send, [ok1], msg, server.port,
                       extra=["--tls", "required", "--ca-file", ca, "--auth-user", user,
                              "--auth-password-file", wrongfile])
        expect_results(res, {ok1: ("permanent", 535, "auth")}, exit_code=69)
        expect_tls(res, active=True, verified=True, authenticated=False)
        check_equal(sum(1 for l in res.transcript if l.startswith("C: AUTH")), 1, "AUTH commands (no retry)")
        check(not any(l.startswith("C: MAIL") for l in res.transcript), "MAIL after a refused AUTH")
        check_equal(server.messages(), [], "messages aiosmtpd accepted")

    def no_auth_in_clear(server, ca):
        msg = make_message(token(), "plaintext", PLAIN_BODY, to=ok1)
        for extra in (["--tls", "none"], ["--tls", "none", "--allow-plaintext-auth"]):
            res = run_send(args.send, [ok1], msg, server.port,
                           extra=[*extra, "--auth-user", user, "--auth-password-file", pwfile])
            expect_results(res, {ok1: ("transient", 0, "")}, exit_code=75)
            check_equal(res.session["error"], "authentication not available", f"session error ({extra})")
            check(not any(l.startswith("C: AUTH") for l in res.transcript), f"AUTH sent in clear ({extra})")
        check_equal(server.messages(), [], "messages aiosmtpd accepted")

    def untrusted_required(server, ca):
        msg = make_message(token(), "untrusted", PLAIN_BODY, to=ok1)
        res = run_send(args.send, [ok1], msg, server.port,
                       extra=["--tls", "required", "--auth-user", user, "--auth-password-file", pwfile])
        expect_results(res, {ok1: ("transient", 0, "")}, exit_code=75)
        check("unable to get local issuer certificate" in res.stderr,
              f"stderr does not name the verification error:\n{res.stderr[-400:]}")
        check(not any(l.startswith("C: AUTH") for l in res.transcript), "AUTH after a refused certificate")

    def opportunistic_fallback(server, ca):
        msg = make_message(token(), "fallback", PLAIN_BODY, to=ok1)
        res = run_send(args.send, [ok1], msg, server.port)  # the default: opportunistic, system CAs
        expect_results(res, {ok1: ("delivered", 250, "data")}, exit_code=0)
        expect_tls(res, active=False, verified=False, fallback="server certificate rejected")
        got = wait_until(server.messages, 5) or []
        check_equal([m["tls"] for m in got], [False], "the message came without TLS")

    run.case("STARTTLS, AUTH PLAIN checked by aiosmtpd", with_tls_server(authenticated("PLAIN")))
    run.case("STARTTLS, AUTH LOGIN checked by aiosmtpd", with_tls_server(authenticated("LOGIN")))
    run.case("a wrong password: 535, exit 69, no MAIL", with_tls_server(wrong_password))
    run.case("--tls none: no AUTH in clear, even with --allow-plaintext-auth (not offered)",
             with_tls_server(no_auth_in_clear))
    run.case("--tls required, untrusted certificate: exit 75, no AUTH", with_tls_server(untrusted_required))
    run.case("default opportunistic TLS, untrusted certificate: delivered in plaintext, reported",
             with_tls_server(opportunistic_fallback, auth=False))


# ---- main ---------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=["postfix", "smtp-sink", "aiosmtpd"], required=True)
    parser.add_argument("--send", required=True, help="the smtpipe-send executable")
    parser.add_argument("--xclient-send", help="the interop-xclient-send executable")
    parser.add_argument("--aiosmtpd-server", default=os.path.join(os.path.dirname(__file__), "aiosmtpd_server.py"))
    parser.add_argument("--aiosmtpd-python", default="/usr/bin/python3")
    parser.add_argument("--make-certs", default=os.path.join(os.path.dirname(__file__), "..", "tls", "make_certs.sh"),
                        help="tests/tls/make_certs.sh, run into the temporary directory")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    # The harness stops a test with SIGTERM: turn it into an exception so cleanups run.
    def terminate(signum, _frame):
        raise SystemExit(f"interrupted by signal {signum}")
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)

    args.workdir = tempfile.mkdtemp(prefix=f"smtpipe-interop-{args.server}-")
    args.cleanups = []
    run = Runner(args.server)
    start = time.monotonic()
    pf = None
    try:
        if args.server == "postfix":
            pf = Postfix(args.workdir, make_certs(args))
            args.cleanups.append(pf.stop)
            try:
                pf.start()
            except (ServerUnavailable, subprocess.TimeoutExpired) as e:
                raise ServerUnavailable(f"Postfix cannot run: {e}")
            print(f"Postfix {pf.port} (PROXY {pf.proxy_port}) in {pf.base}", flush=True)
            postfix_cases(run, pf, args)
        elif args.server == "smtp-sink":
            sink_cases(run, args)
        else:
            aiosmtpd_cases(run, args)
    except ServerUnavailable as e:
        run.failed += 1
        print(f"FAIL {args.server}: the server cannot run: {e}", flush=True)
    finally:
        for cleanup in reversed(args.cleanups):
            try:
                cleanup()
            except Exception as e:  # keep cleaning up the rest
                print(f"warning: cleanup failed: {e}", flush=True)
        if pf is not None:
            if run.failed:
                print(f"--- Postfix log (last lines) ---\n{pf.log()[-4000:]}", flush=True)
            for path in pf.delivered:
                try:
                    os.unlink(path)
                except OSError:
                    pass
        if args.keep:
            print(f"kept {args.workdir}")
        else:
            shutil.rmtree(args.workdir, ignore_errors=True)
    print(f"{args.server}: {time.monotonic() - start:.1f} s")
    print(f"{run.passed} passed, {run.failed} failed")
    return 0 if run.failed == 0 and run.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
