#!/usr/bin/env python3
"""LMTP interoperability (RFC 2033): smtpipe-send --lmtp against Dovecot's LMTP server.

    lmtp.py --send PATH/smtpipe-send [--keep]

Starts a private Dovecot (dovecot-lmtpd, scripts/install-deps.sh) from a configuration in a
temporary directory, listening for LMTP on a free loopback port, with a passwd-file userdb of
three users whose Maildirs live in that directory; one of them (bob) has a 1 KiB quota (the
quota plugin, count backend), so that the replies after the final "." differ per recipient.
Checks each recipient's status, code and enhanced code from smtpipe-send --json, that the
transcript holds LHLO and no EHLO or HELO, what reached each Maildir, and the exit status.
Dovecot is stopped at the end, whether the checks passed, failed or crashed.
"""
import argparse
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from interop import Runner, check, check_equal, run_send, token  # noqa: E402
from loopback_servers import (SBIN_PATH, ServerUnavailable, free_port,  # noqa: E402
                              kill_when_lingering, port_open, read_pid, read_text, wait_until)

USERS = ("alice", "bob", "carol")
OVER_QUOTA = "bob"


class DovecotLmtp:
    """Dovecot's LMTP service alone, unprivileged: mail is stored as the dovecot user."""

    CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = lmtp
ssl = no
first_valid_uid = {uid}
mail_location = maildir:~/Maildir
mail_plugins = quota
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {dir}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%n {dir}/users
}}
plugin {{
  quota = count:User quota
  quota_rule = *:storage=100M
  quota_vsizes = yes
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
  unix_listener lmtp {{
    mode = 0600
  }}
}}
"""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "dovecot-lmtp")
        self.port = free_port()
        self.started = False

    def start(self):
        tool = shutil.which("dovecot", path=SBIN_PATH)
        if not tool or not os.path.exists("/usr/lib/dovecot/lmtp"):
            raise ServerUnavailable("dovecot's LMTP server not found: install dovecot-lmtpd "
                                    "(scripts/install-deps.sh)")
        try:
            owner = pwd.getpwnam("dovecot")
        except KeyError:
            raise ServerUnavailable("no 'dovecot' user: is the dovecot-core package installed?")
        for d in ("run", "state", "mail"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        os.chmod(os.path.dirname(self.dir), 0o755)
        os.chmod(self.dir, 0o755)
        os.chown(os.path.join(self.dir, "mail"), owner.pw_uid, owner.pw_gid)
        with open(os.path.join(self.dir, "users"), "w") as f:
            for u in USERS:
                extra = "userdb_quota_rule=*:storage=1K" if u == OVER_QUOTA else ""
                f.write(f"{u}:{{PLAIN}}-:{owner.pw_uid}:{owner.pw_gid}::{self.home(u)}::{extra}\n")
        os.chmod(os.path.join(self.dir, "users"), 0o644)
        conf = os.path.join(self.dir, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(self.CONF.format(dir=self.dir, uid=owner.pw_uid, port=self.port))
        self.started = True  # from here on stop() must run
        with open(os.path.join(self.dir, "start.log"), "w") as out:
            p = subprocess.run([tool, "-c", conf], stdin=subprocess.DEVNULL, stdout=out,
                               stderr=subprocess.STDOUT, timeout=30)
        if p.returncode != 0:
            raise ServerUnavailable(f"dovecot did not start ({p.returncode}): "
                                    f"{read_text(os.path.join(self.dir, 'start.log'))[-1000:]}")
        if not wait_until(lambda: port_open(self.port), 10):
            raise ServerUnavailable(f"dovecot is not listening on {self.port}: {self.log()[-1000:]}")

    def home(self, user):
        return os.path.join(self.dir, "mail", user)

    def stored(self, user):
        """The messages in `user`'s Maildir (new/ and cur/)."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.home(user), "Maildir", "new", "*")) +
                           glob.glob(os.path.join(self.home(user), "Maildir", "cur", "*"))):
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def stop(self):
        if not self.started:
            return
        self.started = False
        pid = read_pid(os.path.join(self.dir, "run", "master.pid"))
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            kill_when_lingering(pid)

    def log(self):
        return read_text(os.path.join(self.dir, "dovecot.log"))


def commands(res):
    return [l[3:].split(" ")[0].upper() for l in res.transcript if l.startswith("C: ")]


def lmtp_cases(run, dc, args):
    def per_recipient(chunking):
        tag = token()
        # Larger than bob's 1 KiB quota, well under the others'.
        body = (f"Subject: lmtp {tag}\r\n\r\n" + ("0123456789abcdef" * 4 + "\r\n") * 40).encode()
        rcpts = [f"{u}@example.org" for u in ("alice", OVER_QUOTA, "nobody", "carol")]
        res = run_send(args.send, rcpts, body, dc.port,
                       extra=["--lmtp"] + ([] if chunking else ["--no-chunking"]))
        by = res.by_rcpt()
        check_equal(sorted(by), sorted(rcpts), f"recipients reported\n    {res.describe()}")
        a, b, n, c = (by[r] for r in rcpts)
        check_equal((a["status"], a["code"], a["enhanced"]), ("delivered", 250, "2.0.0"), "alice")
        check_equal((c["status"], c["code"], c["enhanced"]), ("delivered", 250, "2.0.0"), "carol")
        check_equal((b["status"], b["code"], b["enhanced"]), ("permanent", 552, "5.2.2"),
                    f"bob (over quota)\n    {res.describe()}")
        check_equal((n["status"], n["code"], n["state"]), ("permanent", 550, "rcpt"), "nobody")
        for r in (a, b, c):
            check_equal(r["state"], "data", f"{r['rcpt']} decided by the reply after the dot")
        check("Saved" in a["text"] and "Quota" in b["text"], f"reply texts: {a['text']!r} {b['text']!r}")
        cmds = commands(res)
        check("LHLO" in cmds and "EHLO" not in cmds and "HELO" not in cmds,
              f"only LHLO greets: {cmds}")
        # Three accepted recipients: three replies after the end of the data: the final "."
        # or, since Dovecot offers CHUNKING, "BDAT n LAST" (RFC 2033 §4.2, RFC 3030 §4.1).
        lines = res.transcript
        ends = [i for i, l in enumerate(lines)
                if l == "C: ." or re.fullmatch(r"C: BDAT \d+ LAST", l)]
        check_equal(len(ends), 1, f"one end of data\n    {res.describe()}")
        check(("BDAT" in lines[ends[0]]) == chunking, f"BDAT only with CHUNKING: {lines[ends[0]]}")
        dot = ends[0]
        after = [l for l in lines[dot + 1:] if l.startswith("S: ") and not l.startswith("S: 221")]
        check_equal(len(after), 3, f"replies after the dot\n    {res.describe()}")
        check_equal(res.rc, 69, "exit status with permanent failures (EX_UNAVAILABLE)")
        for u, n_expected in (("alice", 1), ("carol", 1), (OVER_QUOTA, 0)):
            got = [m for m in dc.stored(u) if tag.encode() in m]
            check_equal(len(got), n_expected, f"messages in {u}'s Maildir")

    def all_delivered():
        tag = token()
        body = f"Subject: lmtp {tag}\r\n\r\nsmall\r\n".encode()
        res = run_send(args.send, ["alice@example.org", "carol@example.org"], body, dc.port,
                       extra=["--lmtp"])
        check_equal([r["status"] for r in res.results], ["delivered", "delivered"],
                    f"statuses\n    {res.describe()}")
        check_equal(res.rc, 0, "exit status")
        check_equal(res.session["pipelining"], True, "pipelined (Dovecot offers PIPELINING)")

    def lock_step():
        tag = token()
        body = f"Subject: lmtp {tag}\r\n\r\n".encode() + (b"y" * 78 + b"\r\n") * 30
        res = run_send(args.send, [f"{OVER_QUOTA}@example.org", "alice@example.org"], body,
                       dc.port, extra=["--lmtp", "--no-pipelining"])
        check_equal([(r["status"], r["code"]) for r in res.results],
                    [("permanent", 552), ("delivered", 250)], f"statuses\n    {res.describe()}")
        check_equal(res.rc, 69, "exit status")

    def without_lmtp_flag():
        # Plain SMTP to an LMTP port: Dovecot refuses EHLO and HELO, nothing is delivered.
        res = run_send(args.send, ["alice@example.org"], b"Subject: x\r\n\r\nx\r\n", dc.port)
        check(res.rc != 0, f"SMTP to an LMTP server must fail\n    {res.describe()}")
        check("LHLO" not in commands(res), "no LHLO without --lmtp")

    def needs_server():
        p = subprocess.run([args.send, "--lmtp", "alice@example.org"], input=b"x\r\n",
                           capture_output=True, timeout=30)
        check_equal(p.returncode, 64, f"--lmtp without --server: {p.stderr!r}")

    run.case("LMTP with BDAT: one reply per recipient after BDAT LAST, over quota differs",
             lambda: per_recipient(True))
    run.case("LMTP with DATA: one reply per recipient after the dot, over quota differs",
             lambda: per_recipient(False))
    run.case("LMTP: every recipient delivered, exit 0", all_delivered)
    run.case("LMTP without PIPELINING", lock_step)
    run.case("SMTP to an LMTP server fails", without_lmtp_flag)
    run.case("--lmtp needs --server", needs_server)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--send", required=True, help="the smtpipe-send executable")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    def terminate(signum, _frame):
        raise SystemExit(f"interrupted by signal {signum}")
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)

    workdir = tempfile.mkdtemp(prefix="smtpipe-interop-lmtp-")
    run = Runner("dovecot-lmtp")
    start = time.monotonic()
    dc = DovecotLmtp(workdir)
    try:
        dc.start()
        print(f"Dovecot LMTP on 127.0.0.1:{dc.port} in {dc.dir}", flush=True)
        lmtp_cases(run, dc, args)
    except ServerUnavailable as e:
        run.failed += 1
        print(f"FAIL dovecot-lmtp: the server cannot run: {e}", flush=True)
    finally:
        try:
            if run.failed:
                print(f"--- Dovecot log (last lines) ---\n{dc.log()[-3000:]}", flush=True)
            dc.stop()
        finally:
            if args.keep:
                print(f"kept {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    print(f"dovecot-lmtp: {time.monotonic() - start:.1f} s")
    print(f"{run.passed} passed, {run.failed} failed")
    return 0 if run.failed == 0 and run.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
