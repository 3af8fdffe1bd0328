#!/usr/bin/env python3
"""Recipient limits (RFC 5321 §4.5.3.1.10) against a real Postfix smtpd.

    recipient_limit.py --send PATH/smtpipe-send [--keep]

Starts a private Postfix (scripts/pylib/loopback_servers.py) on a free loopback port with
`smtpd_recipient_limit = 2`, which answers the third RCPT of a transaction with
"452 4.5.3 Error: too many recipients", and the discard transport (nothing is delivered
anywhere). smtpipe-send with five recipients must deliver all five over one connection in
three transactions (2 + 2 + 1), pipelined and in lock-step, and exit 0.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from interop import Runner, check, check_equal, run_send, token  # noqa: E402
from loopback_servers import PrivatePostfix, ServerUnavailable, free_port  # noqa: E402

MAIN_CF = """\
myhostname = mx.limit.test
mydomain = limit.test
myorigin = $myhostname
mydestination =
default_transport = discard:limit-test
relay_transport = discard:limit-test
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_recipient_limit = 2
smtpd_forbid_unauth_pipelining = yes
smtpd_peername_lookup = no
"""


def cases(run, port, args):
    rcpts = [f"r{i}@example.org" for i in range(1, 6)]

    def limited(extra, pipelined):
        def case():
            body = f"Subject: limit {token()}\r\n\r\nfive recipients, two per transaction\r\n".encode()
            res = run_send(args.send, rcpts, body, port, extra=extra)
            statuses = [(r["rcpt"], r["status"], r["code"]) for r in res.results]
            check_equal(statuses, [(r, "delivered", 250) for r in rcpts],
                        f"every recipient delivered\n    {res.describe()}")
            check_equal(res.rc, 0, "exit status")
            check_equal(res.session["transactions"], 3, "transactions (2 + 2 + 1)")
            check_equal(res.session["pipelining"], pipelined, "pipelining")
            limits = [l for l in res.transcript if l.startswith("S: 452 4.5.3")]
            check_equal(len(limits), 4, f"452 4.5.3 replies (r3-r5, then r5)\n    {res.describe()}")
            mails = [l for l in res.transcript if l.startswith("C: MAIL FROM:")]
            check_equal(len(mails), 3, "MAIL commands on the one connection")
            # The recipients of each transaction: r1 r2 | r3 r4 | r5, each RCPT sent once more
            # only after its 452.
            sent = [l[len("C: RCPT TO:<"):].split(">")[0] for l in res.transcript
                    if l.startswith("C: RCPT TO:")]
            check_equal(sent, rcpts + rcpts[2:] + rcpts[4:], "RCPT order")
        return case

    run.case("smtpd_recipient_limit = 2, pipelined: 5 recipients in 3 transactions", limited([], True))
    run.case("smtpd_recipient_limit = 2, lock-step", limited(["--no-pipelining"], False))


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

    workdir = tempfile.mkdtemp(prefix="smtpipe-interop-limit-")
    run = Runner("postfix-limit")
    start = time.monotonic()
    port = free_port()
    pf = PrivatePostfix(os.path.join(workdir, "postfix"), MAIN_CF,
                        f"127.0.0.1:{port} inet n - n - - smtpd")
    try:
        try:
            pf.start(port)
        except subprocess.TimeoutExpired as e:
            raise ServerUnavailable(f"Postfix did not start: {e}")
        print(f"Postfix (smtpd_recipient_limit = 2) on 127.0.0.1:{port}", flush=True)
        cases(run, port, args)
    except ServerUnavailable as e:
        run.failed += 1
        print(f"FAIL postfix-limit: the server cannot run: {e}", flush=True)
    finally:
        try:
            if run.failed:
                print(f"--- Postfix log (last lines) ---\n{pf.log()[-3000:]}", flush=True)
            pf.stop()
        finally:
            if args.keep:
                print(f"kept {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    print(f"postfix-limit: {time.monotonic() - start:.1f} s")
    print(f"{run.passed} passed, {run.failed} failed")
    return 0 if run.failed == 0 and run.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
