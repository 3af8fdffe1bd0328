#!/usr/bin/env python3
"""smtpipe-send and smtpipe-sendmail as commands: their output, their speed in system calls,
and the sendmail command line, against real servers on loopback.

    cli.py --send PATH/smtpipe-send --version VERSION [--server postfix|smtp-sink|aiosmtpd]
           [--make-certs tests/tls/make_certs.sh] [--aiosmtpd-server aiosmtpd_server.py]
           [--aiosmtpd-python /usr/bin/python3] [--keep]

smtp-sink (dumping what it accepts, envelope included): silence on success, -v, the progress
line through a pseudo-terminal and never in a pipe, --version, the system calls per message
(strace -f -c, 10,000 copies of 1 KB over one connection), and every sendmail option that
reaches the envelope (-f/-r, -N, -R, -V, -B), the "." line without -i, the accepted-and-ignored
options, the refused ones and the configuration files (-C, $SMTPIPE_SENDMAIL_CONF).
Postfix (the private instance of interop.py, local delivery to a Maildir): sendmail -t -i with
no options as cron and PHP run it (recipients from folded To/Cc/Bcc fields and groups, Bcc not
delivered in the header), git send-email's and cron's command lines, byte for byte, and the
quiet report of a refused recipient. aiosmtpd (STARTTLS, AUTH): the password command.

sendmail mode is reached as real callers reach it: through a link named "sendmail" (and one
named "smtpipe-sendmail", as installed) to the smtpipe-send executable.
"""
import argparse
import json
import os
import pty
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import interop  # noqa: E402
from interop import (DOMAIN, HELO, SENDER, Aiosmtpd, CheckFailed, DumpingSink, Postfix,  # noqa: E402
                     Runner, ServerUnavailable, canonical_lf, check, check_equal, make_certs,
                     make_message, split_postfix_headers, token, wait_until)

# Line-end-only message bodies: Postfix refuses bare LF on the wire, the client canonicalises.
BODY = b"Hello from smtpipe-sendmail.\n.A line that starts with a dot.\nlast line\n"


def run(argv, stdin=b"", env=None, timeout=120, stderr=subprocess.PIPE):
    full_env = dict(os.environ)
    full_env.pop("SMTPIPE_SENDMAIL_CONF", None)
    full_env.update(env or {})
    return subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=stderr,
                          env=full_env, timeout=timeout)


def expect_silent_success(p, what):
    check_equal((p.returncode, p.stdout, p.stderr), (0, b"", b""), f"{what}: exit status, stdout, stderr")


class Tools:
    """The executable, the two links that select sendmail mode, and configuration files."""

    def __init__(self, args):
        self.send = os.path.abspath(args.send)
        self.dir = os.path.join(args.workdir, "bin")
        os.makedirs(self.dir, exist_ok=True)
        self.sendmail = os.path.join(self.dir, "sendmail")
        self.smtpipe_sendmail = os.path.join(self.dir, "smtpipe-sendmail")
        for link in (self.sendmail, self.smtpipe_sendmail):
            os.symlink(self.send, link)
        self.workdir = args.workdir

    def config(self, text):
        path = os.path.join(self.workdir, f"sendmail-{token()[:8]}.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def sink_config(self, port, extra=""):
        return self.config(f"# a test configuration\nserver = 127.0.0.1:{port}\nfrom {SENDER}\n"
                           f"helo \"{HELO}\"\ntls none\ntimeout-scale 0.2\n{extra}")


def t_message(tok):
    """A message for -t: folded To, a Bcc folded over two lines, Cc with groups and comments.
    Its recipients in header order, and the message as it must leave (the Bcc field removed)."""
    a, b, c, d, e, f = (f"{n}-{tok[:6]}@{DOMAIN}" for n in ("alice", "bob", "carol", "dave", "erin", "frank"))
    head = (f"From: Cron-like Sender <{SENDER}>\n"
            f"To: Alice Example <{a}>,\n\t\"Bob, the (other)\" <{b}>\n"
            f"Subject: sendmail -t -i [{tok}]\n"
            f"Bcc: {e},\n  Frank <{f}>\n"
            f"Cc: Team: {c} (Carol), \"Dave X\" <{d}>; , undisclosed-recipients:;\n"
            f"Message-ID: <{tok}@example.org>\n"
            "Date: Mon, 30 Nov 2026 05:00:00 +0000\n"
            "\n").encode()
    msg = head + BODY + b".\nafter a lone dot\nBcc: in the body, kept\n"
    without_bcc = msg.replace(f"Bcc: {e},\n  Frank <{f}>\n".encode(), b"")
    check(without_bcc != msg and b"Bcc: e" not in without_bcc, "the test message has a Bcc field")
    return msg, [a, b, e, f, c, d], without_bcc


def dumped(sink, count):
    got = wait_until(lambda: len(sink.messages()) >= count and sink.messages(), 5) or []
    check_equal(len(got), count, "messages in the smtp-sink dump")
    return got


# ---- smtp-sink --------------------------------------------------------------------------------

def sink_cases(runner, args, tools):
    def with_sink(fn):
        def case():
            sink = DumpingSink(args.workdir, f"cli-{token()[:6]}", [])
            args.cleanups.append(sink.stop)
            sink.start()
            try:
                fn(sink)
            finally:
                sink.stop()
        return case

    r1, r2 = f"one@{DOMAIN}", f"two@{DOMAIN}"

    def send_argv(port, *extra):
        return [tools.send, "--server", f"127.0.0.1:{port}", "--tls", "none", "-f", SENDER,
                "--helo", HELO, *extra]

    def quiet(sink):
        msg = make_message(token(), "quiet", BODY, to=r1)
        expect_silent_success(run(send_argv(sink.port, r1, r2), msg), "smtpipe-send, two recipients")
        expect_silent_success(run(send_argv(sink.port, "-n", "3", r1), msg), "smtpipe-send -n 3")
        expect_silent_success(run(send_argv(sink.port, "--qualify-domain", DOMAIN, "user"), msg),
                              "smtpipe-send --qualify-domain")
        got = dumped(sink, 5)
        for headers, content in got:
            check_equal(content, canonical_lf(msg), "content")
        check_equal([h.get("X-Rcpt-Args") for h, _ in got],
                    [[f"<{r1}>", f"<{r2}>"]] + [[f"<{r1}>"]] * 3 + [[f"<user@{DOMAIN}>"]], "recipients")

    def verbose(sink):
        msg = make_message(token(), "verbose", BODY, to=r1)
        for flag in ("-v", "--verbose"):
            p = run(send_argv(sink.port, flag, "-n", "2", r1, r2), msg)
            check_equal((p.returncode, p.stdout), (0, b""), f"{flag}: exit status and stdout")
            lines = p.stderr.decode().splitlines()
            check_equal(len(lines), 5, f"{flag}: lines on stderr ({lines})")
            for i, (m, r) in enumerate([(1, r1), (1, r2), (2, r1), (2, r2)]):
                check(re.fullmatch(rf"smtpipe-send: message {m}: {re.escape(r)}: delivered \(250 .*in data\).*",
                                   lines[i]), f"{flag}: line {i + 1}: {lines[i]!r}")
            check_equal(lines[4], "smtpipe-send: 4 of 4 deliveries accepted", f"{flag}: summary")

    def version():
        want = f"smtpipe {args.version}\n".encode()
        for argv in ([tools.send, "--version"], [tools.sendmail, "--version"],
                     [tools.smtpipe_sendmail, "--version"]):
            p = run(argv)
            check_equal((p.returncode, p.stdout, p.stderr), (0, want, b""), " ".join(argv[-2:]))

    def progress(sink):
        # stderr a terminal: the line is redrawn in place and ends with the final count.
        msg = make_message(token(), "progress", BODY, to=r1)
        count = 20000
        master, slave = pty.openpty()
        proc = subprocess.Popen(send_argv(sink.port, "-n", str(count), r1), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        proc.stdin.write(msg)
        proc.stdin.close()
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            seen += chunk
        os.close(master)
        check_equal(proc.wait(60), 0, "exit status with a progress line")
        check_equal(proc.stdout.read(), b"", "stdout with a progress line")
        text = seen.decode(errors="replace")
        draws = re.findall(r"\r(\d+)/(\d+) messages, (\d+) msg/s, (\d+) refused\x1b\[K", text)
        check(len(draws) >= 2, f"the progress line was drawn {len(draws)} times: {text[-300:]!r}")
        check_equal(draws[-1][:2], (str(count), str(count)), "the last progress line's count")
        check_equal(draws[-1][3], "0", "refusals on the last progress line")
        check(int(draws[-1][2]) > 0, "the rate on the last progress line")
        done = [int(d[0]) for d in draws]
        check(done == sorted(done), f"counts go up: {done}")
        check(text.endswith("\x1b[K\r\n"), f"the line ends once, at the end: {text[-40:]!r}")
        # stderr a pipe: nothing at all.
        p = run(send_argv(sink.port, "-n", str(count), r1), msg)
        check_equal((p.returncode, p.stderr), (0, b""), "no progress line in a pipe")
        dumped(sink, 2 * count)

    def syscalls(sink):
        strace = shutil.which("strace")
        check(strace, "strace not installed (scripts/install-deps.sh)")
        body = make_message(token(), "strace", b"")
        body += b"".join(b"%04d " % i + b"x" * 64 + b"\n" for i in range(1024 // 70 + 1))
        body = body[:1023] + b"\n"
        check_equal(len(body), 1024, "message size")
        n = 10000
        trace = os.path.join(args.workdir, "strace.txt")
        p = run([strace, "-f", "-c", "-o", trace, *send_argv(sink.port, "-n", str(n), r1)], body,
                env=interop.ptrace_env(), timeout=300)
        check_equal((p.returncode, p.stdout, p.stderr), (0, b"", b""), "smtpipe-send under strace")
        calls = {}
        with open(trace) as f:
            for line in f:
                m = re.match(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
                if m and m.group(2) != "total":
                    calls[m.group(2)] = int(m.group(1))
        writes = ("write", "writev", "pwrite64", "pwritev", "pwritev2", "sendto", "sendmsg", "sendmmsg", "sendfile")
        io_calls = writes + ("read", "readv", "pread64", "preadv", "preadv2", "recvfrom", "recvmsg", "recvmmsg",
                             "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select", "pselect6",
                             "openat", "open", "close", "lseek", "fstat", "newfstatat", "statx", "mmap", "munmap",
                             "ioctl", "fcntl", "splice", "io_uring_enter")
        per_write = sum(calls.get(s, 0) for s in writes) / n
        per_io = sum(calls.get(s, 0) for s in io_calls) / n
        per_all = sum(calls.values()) / n  # epoll_ctl and futex included: printed, not limited
        summary = ", ".join(f"{s} {c / n:.2f}" for s, c in sorted(calls.items(), key=lambda x: -x[1])[:8])
        print(f"     system calls per message: {per_write:.2f} write-type, {per_io:.2f} I/O, {per_all:.2f} in all"
              f" ({summary})", flush=True)
        check(per_write <= 2, f"{per_write:.2f} write-type system calls per message (at most 2): {summary}")
        check(per_io <= 4, f"{per_io:.2f} I/O system calls per message (at most 4): {summary}")
        # Per message, not in all: start-up loads the shared libraries (libcurl's alone bring
        # some thirty, each opened and read), the spool is read once.
        check(calls.get("openat", 0) / n < 0.05 and calls.get("read", 0) / n < 0.05,
              f"files opened or read per message: openat {calls.get('openat')}, read {calls.get('read')}"
              f" in {n} messages")
        dumped(sink, n)

    def envelope(sink):
        conf = tools.sink_config(sink.port)
        env = {"SMTPIPE_SENDMAIL_CONF": conf}
        msg = make_message(token(), "envelope", BODY, to=r1)
        cases = [
            (["-i", "-f", "other@example.org", r1], "<other@example.org>", [f"<{r1}>"]),
            (["-i", "-fother@example.org", r1], "<other@example.org>", [f"<{r1}>"]),
            (["-i", "-r", "<third@example.org>", r1], "<third@example.org>", [f"<{r1}>"]),
            (["-i", "-f", "", r1], "<>", [f"<{r1}>"]),
            (["-i", r1, r2], f"<{SENDER}>", [f"<{r1}>", f"<{r2}>"]),  # the configured sender
            (["-i", "-N", "success,failure", "-R", "hdrs", "-V", "env+id=1", r1, r2],
             f"<{SENDER}> RET=HDRS ENVID=env+2Bid+3D1",
             [f"<{r1}> NOTIFY=SUCCESS,FAILURE", f"<{r2}> NOTIFY=SUCCESS,FAILURE"]),
            (["-i", "-Nnever", "-Rfull", r1], f"<{SENDER}> RET=FULL", [f"<{r1}> NOTIFY=NEVER"]),
            (["-i", "-N", "delay", r1], f"<{SENDER}>", [f"<{r1}> NOTIFY=DELAY"]),
            (["-i", "-B8BITMIME", r1], f"<{SENDER}> BODY=8BITMIME", [f"<{r1}>"]),
            (["-i", "-B", "7BIT", r1], f"<{SENDER}> BODY=7BIT", [f"<{r1}>"]),
            # A local user (cron's "root"), and -f without a domain: @ this host's name.
            (["-i", "-f", "daemon", "localuser"], f"<daemon@{socket.gethostname()}>",
             [f"<localuser@{socket.gethostname()}>"]),
        ]
        for argv, mail, rcpts in cases:
            expect_silent_success(run([tools.sendmail, *argv], msg, env), " ".join(argv))
        got = dumped(sink, len(cases))
        for (argv, mail, rcpts), (headers, content) in zip(cases, got):
            check_equal(headers.get("X-Mail-Args"), [mail], f"MAIL FROM for {' '.join(argv)}")
            check_equal(headers.get("X-Rcpt-Args"), rcpts, f"RCPT TO for {' '.join(argv)}")
            check_equal(headers.get("X-Helo-Args"), [HELO], "EHLO name from the configuration")
            check_equal(content, canonical_lf(msg), f"content for {' '.join(argv)}")

    def ignored_options(sink):
        env = {"SMTPIPE_SENDMAIL_CONF": tools.sink_config(sink.port)}
        msg = make_message(token(), "ignored", b"one\n.\ntwo\n", to=r1)
        argvs = [["-odi", "-oem", "-oi", "-h", "3", "-L", "tag", "-O", "DeliveryMode=b", "-X", "/dev/null",
                  "-Ac", "-G", "-U", "-m", "-s", "-n", "-bm", "-d0.1", "-em", "-pSMTP", "-Mrx", "--", r1],
                 ["-ti", "-oi", r1],  # switches sharing one argument, -t adding the To: recipient
                 ["-odb", "-oep", "-i", "--", r1]]
        for argv in argvs:
            expect_silent_success(run([tools.sendmail, *argv], msg, env), " ".join(argv))
        for argv, (headers, content) in zip(argvs, dumped(sink, len(argvs))):
            check_equal(headers.get("X-Rcpt-Args"), [f"<{r1}>"], f"recipients for {' '.join(argv)}")
            check_equal(content, canonical_lf(msg), f"-i/-oi: the '.' line is text ({' '.join(argv)})")

    def t_bcc(sink):
        env = {"SMTPIPE_SENDMAIL_CONF": tools.sink_config(sink.port)}
        msg, recipients, without_bcc = t_message(token())
        expect_silent_success(run([tools.sendmail, "-t", "-i"], msg, env), "sendmail -t -i")
        # Bcc is removed without -t as well; the command line adds to the header's recipients.
        expect_silent_success(run([tools.sendmail, "-i", "-t", "extra@example.org", recipients[0]], msg, env),
                              "sendmail -i -t RCPT")
        expect_silent_success(run([tools.sendmail, "-i", r1], msg, env), "sendmail -i RCPT")
        wanted = [recipients, ["extra@example.org", *recipients], [r1]]
        for rcpts, (headers, content) in zip(wanted, dumped(sink, 3)):
            check_equal(headers.get("X-Rcpt-Args"), [f"<{r}>" for r in rcpts], "envelope recipients")
            check_equal(content, canonical_lf(without_bcc), "the message without its Bcc field")

    def no_8bitmime():
        # smtp-sink -8 does not announce 8BITMIME: cron's -B8BITMIME still delivers, without BODY=.
        sink = DumpingSink(args.workdir, f"cli8-{token()[:6]}", ["-8"])
        args.cleanups.append(sink.stop)
        sink.start()
        try:
            env = {"SMTPIPE_SENDMAIL_CONF": tools.sink_config(sink.port)}
            msg = make_message(token(), "no 8BITMIME", BODY, to=r1)
            expect_silent_success(run([tools.sendmail, "-B8BITMIME", "-i", r1], msg, env), "-B8BITMIME")
            (headers, content), = dumped(sink, 1)
            check_equal(headers.get("X-Mail-Args"), [f"<{SENDER}>"], "MAIL FROM without BODY=")
            check_equal(content, canonical_lf(msg), "content")
        finally:
            sink.stop()

    def eight_bit_labelling():
        # RFC 6152: an 8-bit body to a server without 8BITMIME (smtp-sink -8) is refused before
        # any byte of it (exit 65, 5.6.3) unless --8bit-as-is; with 8BITMIME it is labelled.
        eight_bit = "Caf\u00e9 cr\u00e8me\n".encode()
        for flags, expect_8bitmime in ((["-8"], False), ([], True)):
            sink = DumpingSink(args.workdir, f"cli8b-{token()[:6]}", flags)
            args.cleanups.append(sink.stop)
            sink.start()
            try:
                msg = make_message(token(), "8-bit body", eight_bit, to=r1)
                argv = [tools.send, "--server", f"127.0.0.1:{sink.port}", "--tls", "none", "-f", SENDER,
                        "--helo", HELO]
                if expect_8bitmime:
                    expect_silent_success(run([*argv, r1], msg), "an 8-bit body to a server with 8BITMIME")
                    (headers, content), = dumped(sink, 1)
                    check_equal(headers.get("X-Mail-Args"), [f"<{SENDER}> BODY=8BITMIME"], "MAIL FROM labelled")
                    check_equal(content, canonical_lf(msg), "content")
                    continue
                p = run([*argv, "--json", r1], msg)
                # 65 (EX_DATAERR), as for every message refused before any byte of it was sent.
                check_equal(p.returncode, 65, f"exit status of a refused 8-bit body: {p.stderr[-300:]!r}")
                result = json.loads(p.stdout.decode().splitlines()[0])
                check_equal((result["status"], result.get("enhanced")), ("permanent", "5.6.3"),
                            f"the refused recipient: {result}")
                check_equal(sink.messages(), [], "messages that reached smtp-sink")
                expect_silent_success(run([*argv, "--8bit-as-is", r1], msg), "--8bit-as-is")
                (headers, content), = dumped(sink, 1)
                check_equal(headers.get("X-Mail-Args"), [f"<{SENDER}>"], "MAIL FROM unlabelled")
                check_equal(content, canonical_lf(msg), "content sent as is")
            finally:
                sink.stop()

    def large(sink):
        # Over 1 MiB the message is spooled to an unlinked file and mapped: sent twice from it,
        # byte for byte; -t edits its header (Bcc) through a second spool file; without -i a
        # "." line beyond the first MiB still ends it.
        env = {"SMTPIPE_SENDMAIL_CONF": tools.sink_config(sink.port)}
        tok = token()
        lines = b"".join(b"%07d " % i + b"y" * 62 + b"\n" for i in range(3 * 1024 * 1024 // 70))
        msg = make_message(tok, "large", lines, to=r1)
        check(len(msg) > 3 * 1024 * 1024 - 100, "a message over 1 MiB")
        expect_silent_success(run(send_argv(sink.port, "-n", "2", r1), msg), "smtpipe-send -n 2, 3 MiB")
        with_bcc = msg.replace(b"\nSubject:", f"\nBcc: {r2}\nSubject:".encode(), 1)
        expect_silent_success(run([tools.sendmail, "-t", "-i"], with_bcc, env), "sendmail -t -i, 3 MiB")
        cut = msg + b".\nnot sent\n"
        expect_silent_success(run([tools.sendmail, r1], cut, env), "sendmail without -i, 3 MiB")
        got = dumped(sink, 4)
        for i, (headers, content) in enumerate(got):
            if content != canonical_lf(msg):
                raise CheckFailed(f"large message {i + 1}: {len(content)} octets differ from the "
                                  f"{len(canonical_lf(msg))} sent")
        check_equal(got[2][0].get("X-Rcpt-Args"), [f"<{r1}>", f"<{r2}>"], "-t recipients of the large message")

    def dot_ends(sink):
        env = {"SMTPIPE_SENDMAIL_CONF": tools.sink_config(sink.port)}
        head = make_message(token(), "dot", b"")
        inputs = [(b"before\n.\nafter\n", b"before\n"),
                  (b"before\r\n.\r\nafter\r\n", b"before\r\n"),
                  (b"before\n..\nstill\n.", b"before\n..\nstill\n."),  # no line end after the dot
                  (b"before\n.x\n.\n", b"before\n.x\n")]
        for body, kept in inputs:
            expect_silent_success(run([tools.sendmail, r1], head + body, env), f"without -i: {body!r}")
        for (body, kept), (headers, content) in zip(inputs, dumped(sink, len(inputs))):
            check_equal(content, canonical_lf(head + kept), f"without -i, what is sent of {body!r}")

    def refused_options():
        env = {"SMTPIPE_SENDMAIL_CONF": tools.config("server 127.0.0.1:9\n")}
        msg = make_message(token(), "refused", BODY)
        for argv, why in ((["-bp"], "-bp"), (["-bs"], "-bs"), (["-q"], "queue"), (["-q1h"], "queue"),
                          (["-Z", r1], "unknown option"), (["-N", "sometimes", r1], "-N"),
                          (["-N", "never,success", r1], "-N"), (["-R", "body", r1], "-R"),
                          (["-B", "BINARYMIME", r1], "-B"), (["-i"], "no recipient"),
                          (["-t", "-i"], "none in To, Cc or Bcc"), (["-f"], "needs a value")):
            p = run([tools.sendmail, *argv], msg, env)
            check_equal((p.returncode, p.stdout), (64, b""), f"sendmail {' '.join(argv)}: exit status, stdout")
            check(why.encode() in p.stderr, f"sendmail {' '.join(argv)}: stderr does not say {why!r}: {p.stderr!r}")
        for argv in (["--bogus", r1], ["-n", "0", r1], [], ["--tls", "sometimes", r1]):
            p = run([tools.send, *argv], msg)
            check_equal((p.returncode, p.stdout), (64, b""), f"smtpipe-send {' '.join(argv)}")
            check(p.stderr.count(b"\n") == 2 and b"--help for usage" in p.stderr, f"usage lines: {p.stderr!r}")

    def config_files(sink):
        msg = make_message(token(), "config", BODY, to=r1)
        good = tools.sink_config(sink.port, "no-pipelining no\nallow-plaintext-auth = no\n")
        closed = tools.config(f"server 127.0.0.1:{interop.free_port()}\ntls none\ntimeout-scale 0.2\n")
        # -C wins over $SMTPIPE_SENDMAIL_CONF, which points to a closed port.
        expect_silent_success(run([tools.sendmail, "-C", good, "-i", r1], msg, {"SMTPIPE_SENDMAIL_CONF": closed}), "-C")
        expect_silent_success(run([tools.sendmail, f"-C{good}", "-i", r1], msg, {"SMTPIPE_SENDMAIL_CONF": closed}), "-CFILE")
        # The closed port: not delivered now, exit 75, one line saying why.
        p = run([tools.sendmail, "-i", r1], msg, {"SMTPIPE_SENDMAIL_CONF": closed})
        check_equal(p.returncode, 75, f"exit status for an unreachable server: {p.stderr!r}")
        check(b"ended early" in p.stderr, f"why it was not delivered: {p.stderr!r}")
        for text, why in (("serverr 127.0.0.1:25\n", "unknown key 'serverr'"), ("json\n", "unknown key 'json'"),
                          ("tls sometimes\n", "tls: needs none"), ("server\n", "server needs a value"),
                          ("no-pipelining maybe\n", "takes yes or no"),
                          ("auth-user me\n", "needs --auth-password-file")):
            path = tools.config(f"# comment\n\n{text}")
            p = run([tools.sendmail, "-i", r1], msg, {"SMTPIPE_SENDMAIL_CONF": path})
            check_equal((p.returncode, p.stdout), (78, b""), f"configuration {text.strip()!r}: exit status")
            check(why.encode() in p.stderr, f"configuration {text.strip()!r}: stderr {p.stderr!r}")
            if "needs --auth" not in why:
                check(f"{path}:3: ".encode() in p.stderr, f"the file and line: {p.stderr!r}")
        p = run([tools.sendmail, "-C", os.path.join(args.workdir, "missing.conf"), "-i", r1], msg)
        check_equal(p.returncode, 78, "-C with a missing file")
        for headers, content in dumped(sink, 2):
            check_equal(headers.get("X-Helo-Args"), [HELO], "EHLO name from -C's file")

    runner.case("silent on success: nothing on stdout or stderr, exit 0", with_sink(quiet))
    runner.case("-v/--verbose: a line per recipient and copy, and a summary", with_sink(verbose))
    runner.case("--version: the Meson project version, in both modes", version)
    runner.case("-n on a terminal: a progress line redrawn in place; none in a pipe", with_sink(progress))
    runner.case("system calls: <= 2 write-type and <= 4 I/O per message (-n 10000, 1 KB)", with_sink(syscalls))
    runner.case("sendmail -f/-r, -N, -R, -V, -B reach the envelope; the configured sender and EHLO",
                with_sink(envelope))
    runner.case("sendmail: -o*, -h, -L, -O, -X, -A, -G, -U, -m, -s, -n, -bm, -d, -e, -p, -M, -- accepted; -i/-oi",
                with_sink(ignored_options))
    runner.case("sendmail -t: To/Cc/Bcc recipients (folded, groups, comments); Bcc never sent, byte for byte",
                with_sink(t_bcc))
    runner.case("sendmail without -i: a '.' line ends the message", with_sink(dot_ends))
    runner.case("sendmail -B8BITMIME to a server without 8BITMIME: delivered without BODY=", no_8bitmime)
    runner.case("an 8-bit body: BODY=8BITMIME; refused unsent (5.6.3, exit 65) without 8BITMIME; --8bit-as-is", eight_bit_labelling)
    runner.case("a 3 MiB message: spooled and mapped, sent twice; -t and the '.' line on it", with_sink(large))
    runner.case("refused options and modes: exit 64 with the reason", refused_options)
    runner.case("configuration files: -C, $SMTPIPE_SENDMAIL_CONF, errors with file:line (exit 78)",
                with_sink(config_files))


# ---- Postfix, delivering to a Maildir ---------------------------------------------------------

def postfix_cases(runner, args, tools, pf):
    conf = tools.config(f"server = 127.0.0.1:{pf.port}\nfrom = {SENDER}\nhelo = {HELO}\n"
                        f"tls = none\ntimeout-scale = 0.2\nqualify-domain = {DOMAIN}\n")
    env = {"SMTPIPE_SENDMAIL_CONF": conf}

    def delivered(tok, recipients, want, sender=SENDER):
        files = wait_until(lambda: (lambda f: f if sorted(f) == sorted(recipients) and
                                    all(len(v) == 1 for v in f.values()) else None)(pf.maildir_files(tok)), 20)
        check(files, f"Maildir deliveries for {sorted(recipients)}: {sorted(pf.maildir_files(tok))}"
                     f"\n{pf.log()[-2000:]}")
        for rcpt, copies in files.items():
            added, rest = split_postfix_headers(copies[0])
            check_equal(added["Return-Path"], f"<{sender}>", f"Return-Path for {rcpt}")
            if rest != want:
                raise CheckFailed(f"content delivered to {rcpt} differs:\n    expected {want!r}\n    got      {rest!r}")
            head = rest.split(b"\n\n", 1)[0]
            check(not re.search(rb"(?im)^bcc:", head), f"a Bcc field delivered to {rcpt}")

    def t_and_i():
        # Postfix's cleanup removes Bcc fields itself: the smtp-sink case checks that none leaves.
        tok = token()
        msg, recipients, without_bcc = t_message(tok)
        expect_silent_success(run([tools.sendmail, "-t", "-i"], msg, env), "sendmail -t -i")
        delivered(tok, recipients, canonical_lf(without_bcc))

    def git_send_email():
        # git send-email: sendmail -i -f <sender> <recipients...>, the message with its own From.
        tok = token()
        r1, r2 = f"maintainer-{tok[:6]}@{DOMAIN}", f"list-{tok[:6]}@{DOMAIN}"
        msg = make_message(tok, "[PATCH] a patch", b"---\n file | 1 +\n.\n-- \n2.39.5\n", to=r1)
        expect_silent_success(run([tools.sendmail, "-i", "-f", "patcher@example.org", r1, r2], msg, env),
                              "sendmail -i -f ...")
        delivered(tok, [r1, r2], canonical_lf(msg), sender="patcher@example.org")

    def cron():
        # Debian's cron: sendmail -FCronDaemon -i -B8BITMIME -oem <user>, the user unqualified
        # (qualify-domain in the configuration); here without From:, so that the From: field
        # -F names is added.
        tok = token()
        user = f"root-{tok[:6]}"
        msg = (f"To: {user}\nSubject: Cron <root@host> run-parts [{tok}]\n"
               "Content-Type: text/plain; charset=UTF-8\n\noutput of the job\n").encode()
        expect_silent_success(run([tools.sendmail, "-FCronDaemon", "-i", "-B8BITMIME", "-oem", user], msg, env),
                              "cron's sendmail command")
        delivered(tok, [f"{user}@{DOMAIN}"], canonical_lf(f'From: "CronDaemon" <{SENDER}>\n'.encode() + msg))

    def quiet_failure():
        tok = token()
        ok, bad = f"ok-{tok[:6]}@{DOMAIN}", f"reject550@{DOMAIN}"
        msg = make_message(tok, "one refused", BODY, to=ok)
        p = run([tools.sendmail, "-i", ok, bad], msg, env)
        check_equal((p.returncode, p.stdout), (69, b""), "exit status and stdout with a refused recipient")
        lines = p.stderr.decode().splitlines(keepends=True)
        check_equal(len(lines), 2, f"lines on stderr: {lines}")
        check(lines[0].startswith(f"smtpipe-sendmail: {bad}: permanent (550 5.1.1 in rcpt)"), f"line 1: {lines[0]!r}")
        check_equal(lines[1], "smtpipe-sendmail: 1 of 2 deliveries accepted, 1 permanent\n", "summary line")
        delivered(tok, [ok], canonical_lf(msg))
        p = run([tools.sendmail, "-v", "-i", ok], make_message(token(), "verbose", BODY, to=ok), env)
        check_equal(p.returncode, 0, "sendmail -v: exit status")
        check(re.fullmatch(rf"smtpipe-sendmail: {re.escape(ok)}: delivered \(250 [^\n]*\n"
                           r"smtpipe-sendmail: 1 of 1 deliveries accepted\n", p.stderr.decode()),
              f"sendmail -v: stderr {p.stderr!r}")

    runner.case("sendmail -t -i, no options: To/Cc/Bcc (folded, groups), Bcc not delivered, byte for byte", t_and_i)
    runner.case("git send-email's sendmail -i -f SENDER RCPT...: byte for byte", git_send_email)
    runner.case("cron's sendmail -FCronDaemon -i -B8BITMIME -oem USER: qualified, From: added, byte for byte", cron)
    runner.case("a refused recipient: one line for it, a summary, exit 69; -v", quiet_failure)


# ---- aiosmtpd: STARTTLS and AUTH with a password command ------------------------------------------

def aiosmtpd_cases(runner, args, tools):
    user, password = "cli-user", "pw-" + token()
    pwfile = os.path.join(args.workdir, "cli-password")

    def case():
        certs = make_certs(args)
        with open(pwfile, "w") as f:
            f.write(password + "\n")
        server = Aiosmtpd(args.workdir, args.aiosmtpd_python, args.aiosmtpd_server, [], [],
                          certs=certs, auth=(user, pwfile))
        args.cleanups.append(server.stop)
        server.start()
        try:
            rcpt = f"auth@{DOMAIN}"
            msg = make_message(token(), "password command", BODY, to=rcpt)
            ca = os.path.join(certs, "ca.crt")
            common = ["--server", f"127.0.0.1:{server.port}", "--tls", "required", "--ca-file", ca,
                      "-f", SENDER, "--auth-user", user]
            expect_silent_success(run([tools.send, *common, "--auth-password-command", f"cat '{pwfile}'", rcpt], msg),
                                  "--auth-password-command")
            p = run([tools.send, *common, "--auth-password-command", "exit 3", rcpt], msg)
            check_equal(p.returncode, 64, "a failing password command")
            check(b"password command failed" in p.stderr, f"stderr: {p.stderr!r}")
            conf = tools.config(f"server 127.0.0.1:{server.port}\ntls required\nca-file {ca}\nfrom {SENDER}\n"
                                f"auth-user {user}\nauth-password-command printf '%s\\n' '{password}'\n")
            expect_silent_success(run([tools.sendmail, "-t", "-i"], msg, {"SMTPIPE_SENDMAIL_CONF": conf}),
                                  "sendmail with auth-password-command in the configuration")
            got = wait_until(lambda: len(server.messages()) >= 2 and server.messages(), 5) or []
            check_equal([(m["tls"], m["auth_user"]) for m in got], [(True, user)] * 2,
                        "TLS and the authenticated user, as aiosmtpd saw them")
        finally:
            server.stop()

    runner.case("--auth-password-command and the auth-password-command key, STARTTLS + AUTH", case)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--send", required=True)
    parser.add_argument("--version", required=True, help="the Meson project version --version must print")
    parser.add_argument("--server", choices=["smtp-sink", "postfix", "aiosmtpd"], action="append")
    parser.add_argument("--aiosmtpd-server", default=os.path.join(HERE, "aiosmtpd_server.py"))
    parser.add_argument("--aiosmtpd-python", default="/usr/bin/python3")
    parser.add_argument("--make-certs", default=os.path.join(HERE, "..", "tls", "make_certs.sh"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    servers = args.server or ["smtp-sink", "postfix", "aiosmtpd"]

    def terminate(signum, _frame):
        raise SystemExit(f"interrupted by signal {signum}")
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)

    args.workdir = tempfile.mkdtemp(prefix="smtpipe-cli-")
    args.cleanups = []
    runner = Runner("cli")
    start = time.monotonic()
    pf = None
    try:
        tools = Tools(args)
        if "smtp-sink" in servers:
            sink_cases(runner, args, tools)
        if "aiosmtpd" in servers:
            aiosmtpd_cases(runner, args, tools)
        if "postfix" in servers:
            try:
                pf = Postfix(args.workdir, make_certs(args))
                args.cleanups.append(pf.stop)
                pf.start()
                postfix_cases(runner, args, tools, pf)
            except (ServerUnavailable, subprocess.TimeoutExpired) as e:
                runner.failed += 1
                print(f"FAIL cli: Postfix cannot run: {e}", flush=True)
    finally:
        for cleanup in reversed(args.cleanups):
            try:
                cleanup()
            except Exception as e:
                print(f"warning: cleanup failed: {e}", flush=True)
        if pf is not None:
            if runner.failed:
                print(f"--- Postfix log (last lines) ---\n{pf.log()[-3000:]}", flush=True)
            for path in pf.delivered:
                try:
                    os.unlink(path)
                except OSError:
                    pass
        if args.keep:
            print(f"kept {args.workdir}")
        else:
            shutil.rmtree(args.workdir, ignore_errors=True)
    print(f"cli: {time.monotonic() - start:.1f} s")
    print(f"{runner.passed} passed, {runner.failed} failed")
    return 0 if runner.failed == 0 and runner.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
