#!/usr/bin/env python3
"""smtpipe's benchmark driver: runs every comparison side by side and writes the report.

    bench.py --build BUILD_DIR [--quick] [--sections a,b,...] [--reps N]
             [--markdown docs/benchmarks.md] [--plot docs/benchmarks-sessions.svg]
             [--json results.json]

Sections (all by default, in this order):
  dispatch    Google Benchmark: one state transition, static/runtime/switch/virtual
  throughput  whole processes against Postfix's smtp-sink: 1 KB and 100 KB bodies, 1 and 10
              connections, smtpipe vs the floor, smtp-source, smtplib, aiosmtplib, Poco,
              libcurl and nodemailer
  postfix     the same clients against a private Postfix smtpd delivering to discard:
  syscalls    strace -c -f over one connection: system calls per message
  sessions    1 to 10,000 concurrent sessions against benchmarks/sink.cpp: throughput of
              smtpipe and peers, smtpipe's user memory per idle session
  compile     compile time of generated TUs: <asio.hpp> alone vs <smtpipe.hpp> with 5, 20
              and 80 custom states in a static pipeline
  cli         the command: `smtpipe-send -n 10000` (message on stdin) vs the floor and
              smtpipe-bench in the same rounds against smtp-sink, and its system calls
              per message under strace (issue 13)

Competitors run one after the other within each round, rounds repeat (--reps), and the
tables give medians over the rounds with ratios computed within the same run: absolute
numbers on a noisy 2-core machine mean little, ratios in one run mean more. Wall time is
the client process's whole life (measured here); CPU time is the client's user+system
time from wait4(). Only loopback addresses are used. Standard library only; smtp-sink,
smtp-source, strace and Postfix come from Debian's packages (scripts/install-deps.sh).
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts", "pylib"))
from loopback_servers import (PrivatePostfix, ServerUnavailable, SmtpSink, free_port,  # noqa: E402
                              port_open, wait_until)

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with python3-aiosmtplib
SENDER = "sender@example.org"
RCPT = "rcpt@example.net"

# Targets of issue 5.
TARGETS = {
    "throughput_1": 0.85,       # smtpipe / floor, one connection
    "throughput_10": 0.85,      # smtpipe / floor, 10 connections
    "cpu": 1.5,                 # smtpipe CPU per message / floor's
    "syscalls": 4.0,            # per message, PIPELINING and DATA
    "static_vs_switch": 1.2,
    "runtime_vs_static": 2.0,
    "idle_kib": 8.0,            # user memory per idle session at 10,000 sessions
    "compile": 1.5,             # 20-state TU / asio-only TU
    "compile_separate": 1.3,    # 20-state TU, separate compilation / minimal coroutine client TU
    "cli_throughput": 0.85,     # smtpipe-send -n 10000 / floor, one connection (issue 13)
    "cli_writes": 2.0,          # write-type system calls per message, smtpipe-send
    "cli_io": 4.0,              # I/O system calls per message (every fd), smtpipe-send
}


def log(msg):
    print(msg, flush=True)


def median(values):
    return statistics.median(values) if values else float("nan")


# ---- bodies -------------------------------------------------------------------------------------

def make_body(size):
    """A canonical message of exactly `size` octets: CRLF lines, none starting with '.'."""
    out = f"From: {SENDER}\r\nTo: {RCPT}\r\nSubject: smtpipe benchmark\r\n\r\n"
    line = ("The quick brown fox jumps over the lazy dog 0123456789 " * 2)[:72] + "\r\n"
    while len(out) + len(line) <= size:
        out += line
    rest = size - len(out)
    if rest >= 3:
        out += "x" * (rest - 2) + "\r\n"
    out += " " * (size - len(out))  # (never more than 2 octets; keeps the size exact)
    return out


# ---- running a client ---------------------------------------------------------------------------

def run_process(argv, timeout=600, env=None, cwd=None, stdin_path=None):
    """Runs `argv` (standard input from `stdin_path`, else none); returns wall seconds, CPU
    seconds of the process and its children (wait4), the exit status and the output."""
    start = time.monotonic()
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=cwd)
    finally:
        if stdin_path:
            stdin.close()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return {"rc": -9, "wall": timeout, "cpu": float("nan"), "out": out.decode(errors="replace"),
                "err": "timeout\n" + err.decode(errors="replace")}
    wall = time.monotonic() - start
    return {"rc": proc.returncode, "wall": wall, "cpu": proc.cpu, "user": proc.user,
            "out": out.decode(errors="replace"),
            "err": err.decode(errors="replace")}


class _Popen(subprocess.Popen):
    """Popen that collects the child's rusage when it is reaped."""
    cpu = float("nan")
    user = float("nan")

    def _try_wait(self, wait_flags):
        try:
            pid, sts, ru = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return (self.pid, 0)
        if pid == self.pid:
            self.cpu = ru.ru_utime + ru.ru_stime
            self.user = ru.ru_utime
        return (pid, sts)


subprocess.Popen = _Popen  # noqa: the driver's own processes only


class Clients:
    """The command line of each competitor: argv(port, count, sessions, size)."""

    def __init__(self, build, workdir):
        b = os.path.join(build, "benchmarks")
        self.exe = {
            "floor": os.path.join(b, "smtpipe-bench-floor"),
            "smtpipe": os.path.join(b, "smtpipe-bench"),
            "poco": os.path.join(b, "smtpipe-bench-poco"),
            "curl": os.path.join(b, "smtpipe-bench-curl"),
            "sink": os.path.join(b, "smtpipe-bench-sink"),
            "dispatch": os.path.join(b, "smtpipe-bench-dispatch"),
            "smtpipe-send": os.path.join(build, "examples", "smtpipe-send"),
        }
        self.workdir = workdir
        self.bodies = {}
        for size in (1024, 102400):
            body = make_body(size)
            crlf = os.path.join(workdir, f"body-{size}.eml")
            lf = os.path.join(workdir, f"body-{size}.lf")
            with open(crlf, "w", newline="") as f:
                f.write(body)
            with open(lf, "w", newline="") as f:
                f.write(body.replace("\r\n", "\n"))
            self.bodies[size] = (crlf, lf)
        self.node_ready = self._prepare_node()

    def _prepare_node(self):
        node_dir = os.path.join(HERE, "node")
        if not shutil.which("node") or not shutil.which("npm"):
            log("  nodemailer skipped: node/npm not installed")
            return False
        if not os.path.isdir(os.path.join(node_dir, "node_modules", "nodemailer")):
            p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=node_dir,
                               capture_output=True, text=True)
            if p.returncode != 0:
                log(f"  nodemailer skipped: npm ci failed: {p.stderr.strip()[-500:]}")
                return False
        return True

    def available(self, name):
        if name in ("floor", "smtpipe", "smtpipe-nopipe", "smtpipe-runtime", "smtpipe-2threads",
                    "smtpipe-data"):
            return os.path.exists(self.exe["smtpipe" if name.startswith("smtpipe") else name])
        if name in ("poco", "curl"):
            return os.path.exists(self.exe[name])
        if name == "smtp-source":
            return os.path.exists("/usr/sbin/smtp-source")
        if name in ("smtplib", "aiosmtplib"):
            if not os.path.exists(SYSTEM_PYTHON):
                return False
            if name == "aiosmtplib":
                return subprocess.run([SYSTEM_PYTHON, "-c", "import aiosmtplib"],
                                      capture_output=True).returncode == 0
            return True
        if name == "nodemailer":
            return self.node_ready
        return False

    def argv(self, name, port, count, sessions, size):
        crlf, lf = self.bodies[size]
        common = ["--port", str(port), "--count", str(count), "--sessions", str(sessions), "--body", crlf]
        if name == "floor":
            return [self.exe["floor"], *common]
        if name == "smtpipe":
            return [self.exe["smtpipe"], *common]
        if name == "smtpipe-nopipe":
            return [self.exe["smtpipe"], *common, "--no-pipelining"]
        if name == "smtpipe-data":
            return [self.exe["smtpipe"], *common, "--no-chunking"]
        if name == "smtpipe-runtime":
            return [self.exe["smtpipe"], *common, "--runtime"]
        if name == "smtpipe-2threads":
            return [self.exe["smtpipe"], *common, "--threads", "2"]
        if name in ("poco", "curl"):
            return [self.exe[name], *common]
        if name == "smtp-source":
            return ["/usr/sbin/smtp-source", "-d", "-s", str(sessions), "-m", str(count), "-F", lf,
                    "-f", SENDER, "-t", RCPT, "-M", "source.example.org", f"127.0.0.1:{port}"]
        if name == "smtplib":
            return [SYSTEM_PYTHON, os.path.join(HERE, "peers", "smtplib_client.py"), *common]
        if name == "aiosmtplib":
            return [SYSTEM_PYTHON, os.path.join(HERE, "peers", "aiosmtplib_client.py"), *common]
        if name == "nodemailer":
            return ["node", os.path.join(HERE, "node", "nodemailer_client.js"), *common]
        raise ValueError(name)


LABELS = {
    "floor": "floor (hand-written, pipelined)",
    "smtpipe": "smtpipe (PIPELINING; BDAT if offered)",
    "smtpipe-data": "smtpipe (PIPELINING, DATA)",
    "smtpipe-nopipe": "smtpipe (lock-step)",
    "smtpipe-runtime": "smtpipe (runtime machine)",
    "smtpipe-2threads": "smtpipe (PIPELINING, 2 threads)",
    "smtp-source": "Postfix smtp-source",
    "smtplib": "Python smtplib",
    "aiosmtplib": "aiosmtplib",
    "poco": "Poco SMTPClientSession",
    "curl": "libcurl SMTP",
    "nodemailer": "nodemailer (pooled)",
}


def run_matrix(clients, port, configs, names, reps, what):
    """configs: [(size, sessions, counts{name: N})]; returns {(size, sessions, name): [runs]}."""
    results = {}
    for rep in range(reps):
        for size, sessions, counts in configs:
            for name in names:
                if not clients.available(name) or (name == "smtpipe-2threads" and sessions == 1):
                    continue
                n = counts[name]
                r = run_process(clients.argv(name, port, n, sessions, size))
                key = (size, sessions, name)
                if r["rc"] != 0:
                    log(f"  {what} {name} {size}B x{sessions}: FAILED rc={r['rc']} {r['err'].strip()[-300:]}")
                    results.setdefault(key, [])
                    continue
                run = {"msgs": n, "wall": r["wall"], "cpu": r["cpu"], "rate": n / r["wall"],
                       "cpu_per_1000": r["cpu"] / n * 1000, "user_per_1000": r["user"] / n * 1000}
                results.setdefault(key, []).append(run)
                log(f"  {what} round {rep + 1}/{reps} {size:>6}B x{sessions:<3} {name:<16}"
                    f" {run['rate']:9.0f} msg/s  cpu {run['cpu_per_1000']:.3f} s/1000")
    return results


def summarize(results):
    out = {}
    for key, runs in results.items():
        if runs:
            out[key] = {"rate": median([r["rate"] for r in runs]),
                        "cpu_per_1000": median([r["cpu_per_1000"] for r in runs]),
                        "user_per_1000": median([r["user_per_1000"] for r in runs]),
                        "runs": len(runs), "msgs": runs[0]["msgs"]}
    return out


# ---- sections -------------------------------------------------------------------------------------

def section_dispatch(clients, args):
    exe = clients.exe["dispatch"]
    if not os.path.exists(exe):
        log("dispatch: skipped (libbenchmark-dev missing)")
        return None
    reps = 3 if args.quick else 9
    out_json = os.path.join(args.workdir, "dispatch.json")
    p = subprocess.run([exe, f"--benchmark_repetitions={reps}", "--benchmark_min_time=0.1",
                        "--benchmark_enable_random_interleaving=true",
                        "--benchmark_out_format=json", f"--benchmark_out={out_json}"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        log(f"dispatch: failed: {p.stderr[-1000:]}")
        return None
    with open(out_json) as f:
        data = json.load(f)
    per = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        name = b["run_name"].split("/")
        variant, extra = name[1], name[2]
        ns = b["cpu_time"] / b["transitions_per_iteration"]
        per.setdefault((variant, extra), []).append(ns)
    res = {f"{v}/{e}": median(vals) for (v, e), vals in per.items()}
    for k, v in sorted(res.items()):
        log(f"  dispatch {k:<14} {v:7.1f} ns/transition")
    return {"ns": res, "context": data.get("context", {}), "reps": reps}


def section_throughput(clients, args):
    sink = SmtpSink(os.path.join(args.workdir, "smtp-sink"), flags=["-m", "2048"], backlog=1024)
    sink.start()
    try:
        q = args.quick
        fast = {1024: 5000 if q else 20000, 102400: 1000 if q else 4000}
        lock = {1024: 2500 if q else 10000, 102400: 500 if q else 2000}
        slow = {1024: 1500 if q else 5000, 102400: 300 if q else 1000}
        kind = {"floor": fast, "smtpipe": fast, "smtpipe-2threads": fast, "smtpipe-runtime": fast,
                "smtpipe-nopipe": lock, "smtp-source": lock,
                "poco": lock, "curl": lock, "smtplib": slow, "aiosmtplib": slow, "nodemailer": slow}
        names = list(kind)
        configs = [(size, sessions, {n: kind[n][size] for n in names})
                   for size in (1024, 102400) for sessions in (1, 10)]
        raw = run_matrix(clients, sink.port, configs, names, args.reps, "sink")
    finally:
        sink.stop()
    return {"summary": summarize(raw), "names": names, "sink": " ".join(sink.command[:-2])}


POSTFIX_DISCARD_MAIN_CF = """\
myhostname = mx.bench.test
mydomain = bench.test
myorigin = $myhostname
mydestination =
# Everything goes to the discard transport: smtpd and cleanup do their whole job (the queue
# file is written and fsync'ed before the 250), nothing is delivered anywhere.
default_transport = discard:benchmark
relay_transport = discard:benchmark
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_forbid_unauth_pipelining = no
smtpd_peername_lookup = no
smtpd_client_connection_count_limit = 0
smtpd_client_message_rate_limit = 0
default_process_limit = 100
# No flow control stalls: the clients are measured, not Postfix's throttling.
in_flow_delay = 0
smtputf8_enable = no
"""


def section_postfix(clients, args):
    port = free_port()
    # The queue on tmpfs when there is one: fsync then costs no disk latency, and the clients'
    # differences are not drowned in the disk's.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    base = tempfile.mkdtemp(prefix="smtpipe-bench-postfix-", dir=shm)
    args.cleanup_dirs.append(base)
    pf = PrivatePostfix(os.path.join(base, "postfix"), POSTFIX_DISCARD_MAIN_CF,
                        f"127.0.0.1:{port} inet n - n - - smtpd")
    try:
        pf.start(port)
        q = args.quick
        n = {"floor": 500 if q else 2000, "smtpipe": 500 if q else 2000,
             "smtpipe-data": 500 if q else 2000}
        # Postfix offers CHUNKING: "smtpipe" sends BDAT, "smtpipe-data" DATA (issue 10).
        names = ["floor", "smtpipe", "smtpipe-data", "smtpipe-nopipe", "smtp-source", "poco", "curl", "smtplib",
                 "aiosmtplib", "nodemailer"]
        counts = {name: n.get(name, 300 if q else 1000) for name in names}
        configs = [(size, s, counts) for size in (1024, 102400) for s in (1, 10)]
        raw = run_matrix(clients, port, configs, names, args.reps, "postfix")
    except ServerUnavailable as e:
        log(f"postfix: skipped: {e}")
        return None
    finally:
        pf.stop()
    return {"summary": summarize(raw), "names": names}


STRACE_TOTAL = re.compile(r"^100\.00\s+\S+\s+\S+\s+(\d+)\s+(\d+)?\s*total", re.M)
STRACE_LINE = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d+)?\s*(\w+)\s*$", re.M)


def section_syscalls(clients, args):
    if not shutil.which("strace"):
        log("syscalls: skipped (strace missing)")
        return None
    sink = SmtpSink(os.path.join(args.workdir, "smtp-sink-strace"), flags=["-m", "64"])
    sink.start()
    out = {}
    try:
        n = 2000 if args.quick else 10000
        for name in ("floor", "smtpipe", "smtpipe-nopipe", "smtp-source", "smtplib"):
            if not clients.available(name):
                continue
            trace = os.path.join(args.workdir, f"strace-{name}.txt")
            r = run_process(["strace", "-c", "-f", "-o", trace, *clients.argv(name, sink.port, n, 1, 1024)])
            if r["rc"] != 0:
                log(f"  syscalls {name}: FAILED {r['err'][-300:]}")
                continue
            with open(trace) as f:
                text = f.read()
            m = STRACE_TOTAL.search(text)
            calls = {mm.group(3): int(mm.group(1)) for mm in STRACE_LINE.finditer(text)
                     if mm.group(3) != "total"}
            total = int(m.group(1)) if m else sum(calls.values())
            top = sorted(((c / n, s) for s, c in calls.items() if c / n >= 0.05), reverse=True)
            out[name] = {"per_msg": total / n, "msgs": n, "top": [(s, round(v, 2)) for v, s in top]}
            log(f"  syscalls {name:<16} {total / n:6.2f} per message  "
                + ", ".join(f"{s} {v:.2f}" for v, s in top[:6]))
    finally:
        sink.stop()
    return out


# Write-type and I/O system calls, counted on every file descriptor (issue 13's definition).
WRITE_CALLS = ("write", "writev", "pwrite64", "pwritev", "pwritev2", "sendto", "sendmsg", "sendmmsg", "sendfile")
IO_CALLS = WRITE_CALLS + ("read", "readv", "pread64", "preadv", "preadv2", "recvfrom", "recvmsg", "recvmmsg",
                          "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select", "pselect6",
                          "openat", "open", "close", "lseek", "fstat", "newfstatat", "statx", "mmap", "munmap",
                          "ioctl", "fcntl", "splice", "io_uring_enter")


def section_cli(clients, args):
    """smtpipe-send, the command, as a user runs it: `-n N RCPT < message` over one connection,
    against the floor and smtpipe-bench in the same rounds; then its system calls."""
    exe = clients.exe["smtpipe-send"]
    if not os.path.exists(exe):
        log(f"cli: skipped ({exe} missing: configure with -Dexamples=enabled)")
        return None
    crlf, _ = clients.bodies[1024]
    n = 5000 if args.quick else 10000
    sink = SmtpSink(os.path.join(args.workdir, "smtp-sink-cli"), flags=["-m", "2048"], backlog=1024)
    sink.start()
    send_argv = lambda port: [exe, "--server", f"127.0.0.1:{port}", "--tls", "none", "-f", SENDER,  # noqa: E731
                              "-n", str(n), RCPT]
    runs = {}
    out = {"msgs": n}
    try:
        for rep in range(args.reps):
            for name in ("floor", "smtpipe-send", "smtpipe"):
                if name == "smtpipe-send":
                    r = run_process(send_argv(sink.port), stdin_path=crlf)
                else:
                    r = run_process(clients.argv(name, sink.port, n, 1, 1024))
                if r["rc"] != 0 or (name == "smtpipe-send" and (r["out"] or r["err"])):
                    log(f"  cli {name}: FAILED rc={r['rc']} {r['err'].strip()[-300:]}")
                    continue
                runs.setdefault(name, []).append({"rate": n / r["wall"], "cpu_per_1000": r["cpu"] / n * 1000})
                log(f"  cli round {rep + 1}/{args.reps} {name:<14} {n / r['wall']:9.0f} msg/s")
        out["rates"] = {k: {"rate": median([x["rate"] for x in v]),
                            "cpu_per_1000": median([x["cpu_per_1000"] for x in v]), "runs": len(v)}
                        for k, v in runs.items()}
        if shutil.which("strace"):
            trace = os.path.join(args.workdir, "strace-smtpipe-send.txt")
            r = run_process(["strace", "-c", "-f", "-o", trace, *send_argv(sink.port)], stdin_path=crlf)
            if r["rc"] == 0:
                with open(trace) as f:
                    text = f.read()
                calls = {mm.group(3): int(mm.group(1)) for mm in STRACE_LINE.finditer(text)
                         if mm.group(3) != "total"}
                out["syscalls"] = {"writes": sum(calls.get(c, 0) for c in WRITE_CALLS) / n,
                                   "io": sum(calls.get(c, 0) for c in IO_CALLS) / n,
                                   "all": sum(calls.values()) / n,
                                   "top": [(c, round(v / n, 2)) for c, v in
                                           sorted(calls.items(), key=lambda x: -x[1])[:6]]}
                log(f"  cli syscalls per message: {out['syscalls']['writes']:.2f} write-type, "
                    f"{out['syscalls']['io']:.2f} I/O, {out['syscalls']['all']:.2f} in all")
            else:
                log(f"  cli syscalls: FAILED {r['err'][-300:]}")
        else:
            log("  cli syscalls: skipped (strace missing)")
    finally:
        sink.stop()
    return out


class HoldSink:
    """benchmarks/sink.cpp on a free port; with hold, greetings wait for SIGUSR1."""

    def __init__(self, exe, workdir, hold):
        self.port_file = os.path.join(workdir, f"sink-port-{time.monotonic_ns()}")
        argv = [exe, "--port-file", self.port_file, "--backlog", "4096"]
        if hold:
            argv.append("--hold")
        self.proc = subprocess.Popen(argv + ["0"], stdin=subprocess.DEVNULL)
        if not wait_until(lambda: os.path.exists(self.port_file) and open(self.port_file).read().strip(), 10):
            self.stop()
            raise ServerUnavailable("smtpipe-bench-sink did not start")
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def section_sessions(clients, args):
    levels = [1, 10, 100, 1000, 10000]
    # nodemailer 6.10 overflows its stack (RangeError) with 1,000 pooled connections.
    peer_max = {"floor": 1000, "smtp-source": 1000, "aiosmtplib": 1000, "nodemailer": 100}
    q = args.quick
    base_n = 5000 if q else 20000
    slow_n = 1500 if q else 5000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 30000:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(hard, 65536), max(hard, 65536)))
        except (ValueError, OSError):
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            except (ValueError, OSError):
                pass
    fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if fd_limit < 10000 + 100:  # each process (client, sink) holds one end of each connection
        levels = [c for c in levels if c + 100 <= fd_limit]
        log(f"  sessions: fd limit {fd_limit}: levels {levels}")
    names = ["smtpipe", "floor", "smtp-source", "aiosmtplib", "nodemailer"]
    rates = {}
    memory = {}
    for rep in range(args.reps if not q else 1):
        for c in levels:
            # smtpipe with the sink holding greetings: memory while every session is idle, one
            # message per session (its result is part of a session's memory).
            n = c
            sink = HoldSink(clients.exe["sink"], args.workdir, hold=True)
            try:
                argv = clients.argv("smtpipe", sink.port, n, c, 1024) + ["--release-pid", str(sink.proc.pid)]
                r = run_process(argv)
                if r["rc"] == 0:
                    d = json.loads(r["out"].strip().splitlines()[-1])
                    kib = (d["rss_idle_kib"] - d["rss_before_kib"]) / c
                    memory.setdefault(c, []).append({"per_session_kib": kib,
                                                     "held_rate": n / d["seconds"],
                                                     "rss_idle_kib": d["rss_idle_kib"],
                                                     "rss_before_kib": d["rss_before_kib"]})
                    log(f"  sessions round {rep + 1} x{c:<6} smtpipe idle: {kib:6.2f} KiB/session,"
                        f" then {n / d['seconds']:8.0f} msg/s (from release)")
                else:
                    log(f"  sessions x{c} smtpipe (held) FAILED: {r['err'][-300:]} {r['out'][-300:]}")
            finally:
                sink.stop()
            # Every client, the same way: a fresh sink, wall time of the whole process.
            for name in names:
                if c > peer_max.get(name, 10 ** 9) or not clients.available(name):
                    continue
                nn = max(slow_n if name in ("aiosmtplib", "nodemailer") else base_n, 2 * c)
                if name == "smtp-source":
                    nn = max(base_n // 2, 2 * c)
                sink = HoldSink(clients.exe["sink"], args.workdir, hold=False)
                try:
                    r = run_process(clients.argv(name, sink.port, nn, c, 1024), timeout=900)
                finally:
                    sink.stop()
                if r["rc"] != 0:
                    log(f"  sessions x{c} {name} FAILED rc={r['rc']}: {r['err'].strip()[-300:]}")
                    continue
                rate = nn / r["wall"]
                rates.setdefault((name, c), []).append({"rate": rate, "cpu_per_1000": r["cpu"] / nn * 1000})
                log(f"  sessions round {rep + 1} x{c:<6} {name:<12} {rate:9.0f} msg/s"
                    f"  cpu {r['cpu'] / nn * 1000:.3f} s/1000")
    summary = {k: {"rate": median([x["rate"] for x in v]),
                   "cpu_per_1000": median([x["cpu_per_1000"] for x in v])} for k, v in rates.items() if v}
    mem = {c: {"per_session_kib": median([x["per_session_kib"] for x in v]),
               "held_rate": median([x["held_rate"] for x in v]),
               "rss_idle_kib": median([x["rss_idle_kib"] for x in v])} for c, v in memory.items()}
    return {"rates": summary, "memory": mem, "levels": levels, "names": names}


def compile_tu(states):
    """A TU that includes <smtpipe.hpp> and runs a static pipeline with `states` custom states
    (inserted after ehlo, as a group) through deliver(): the runner is instantiated for it."""
    lines = ["#include <smtpipe.hpp>", "#include <asio/co_spawn.hpp>", "#include <asio/detached.hpp>",
             "#include <asio/io_context.hpp>", "namespace {"]
    for i in range(states):
        lines.append(f"struct s{i} {{ static constexpr std::string_view name = \"s{i}\";"
                     f" int n = {i}; asio::awaitable<smtpipe::transition> run(smtpipe::session& s) {{"
                     f" if (s.local_state() == n) co_return smtpipe::transition::next();"
                     f" co_return smtpipe::transition::next(); }} }};")
    group = ", ".join(f"s{i}" for i in range(states))
    if states:
        lines.append(f"using P = smtpipe::pipeline<smtpipe::insert_after<smtpipe::state_id::ehlo,"
                     f" smtpipe::group<{group}>>>;")
    else:
        lines.append("using P = smtpipe::default_pipeline;")
    lines += ["}",
              "int main() {",
              "  asio::io_context io;",
              "  std::vector<smtpipe::message> messages(1);",
              "  messages[0].sender = \"a@example.org\";",
              "  messages[0].recipients = {\"b@example.net\"};",
              "  messages[0].body = smtpipe::body_source::copy(\"hello\\n\");",
              "  smtpipe::session_options options;",
              "  asio::co_spawn(io, [&]() -> asio::awaitable<void> {",
              "    auto r = co_await smtpipe::deliver(\"127.0.0.1\", \"25\", P{}, messages, options);",
              "    (void)r;",
              "  }, asio::detached);",
              "  io.run();",
              "}"]
    return "\n".join(lines) + "\n"


# What the least Asio coroutine SMTP-ish client costs to compile: connect, a timeout through
# the awaitable operators, one write, reads until a reply line; no protocol.
ASIO_CLIENT_TU = """\
#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <string>
using namespace asio::experimental::awaitable_operators;
asio::awaitable<void> client(asio::ip::tcp::endpoint ep) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::socket s(ex);
  co_await s.async_connect(ep, asio::use_awaitable);
  asio::steady_timer t(ex, std::chrono::seconds(30));
  std::string in;
  co_await asio::async_write(s, asio::buffer(std::string("EHLO x\\r\\n")), asio::use_awaitable);
  auto r = co_await (asio::async_read_until(s, asio::dynamic_buffer(in), "\\r\\n", asio::use_awaitable) ||
                     t.async_wait(asio::use_awaitable));
  (void)r;
}
int main() {
  asio::io_context io;
  asio::co_spawn(io, client({asio::ip::make_address("127.0.0.1"), 25}), asio::detached);
  io.run();
}
"""


MINIMAL_CLIENT_TU = "asio.hpp + a minimal coroutine client"
SEPARATE_TU = "smtpipe, 20 custom states, separate compilation"


def section_compile(clients, args):
    cxx = os.environ.get("CXX", "c++")
    flags = ["-std=c++20", "-O3", "-pthread", "-DASIO_DISABLE_STD_ALIGNED_ALLOC", "-I", os.path.join(ROOT, "include"), "-c", "-o", "/dev/null"]
    tus = {"asio.hpp alone": "#include <asio.hpp>\nint main() {}\n",
           MINIMAL_CLIENT_TU: ASIO_CLIENT_TU,
           "smtpipe.hpp, nothing instantiated": "#include <smtpipe.hpp>\nint main() {}\n",
           "smtpipe, default pipeline": compile_tu(0)}
    for n in (5, 20, 80):
        tus[f"smtpipe, {n} custom states"] = compile_tu(n)
    # SMTPIPE_SEPARATE_COMPILATION: the session machinery comes from one other TU (src.hpp),
    # compiled once per program and timed on its own.
    tus[SEPARATE_TU] = "#define SMTPIPE_SEPARATE_COMPILATION\n" + compile_tu(20)
    tus["smtpipe/impl/src.hpp (once per program)"] = (
        "#define SMTPIPE_SEPARATE_COMPILATION\n#include <smtpipe/impl/src.hpp>\n")
    paths = {}
    for name, text in tus.items():
        path = os.path.join(args.workdir, "tu_" + re.sub(r"[^a-z0-9]+", "_", name) + ".cpp")
        with open(path, "w") as f:
            f.write(text)
        paths[name] = path
    reps = 1 if args.quick else 2
    times = {}
    for rep in range(reps):
        for name, path in paths.items():
            r = run_process([cxx, *flags, path], timeout=1200)
            if r["rc"] != 0:
                log(f"  compile {name}: FAILED {r['err'][-500:]}")
                continue
            times.setdefault(name, []).append({"cpu": r["cpu"], "wall": r["wall"]})
            log(f"  compile round {rep + 1}/{reps} {name:<28} cpu {r['cpu']:6.2f} s  wall {r['wall']:6.2f} s")
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return {"cpu": {k: median([x["cpu"] for x in v]) for k, v in times.items()},
            "wall": {k: median([x["wall"] for x in v]) for k, v in times.items()},
            "compiler": version, "flags": " ".join(flags[:3]), "reps": reps}


# ---- report -----------------------------------------------------------------------------------------

def verdict(value, target, higher_is_better):
    if value != value:  # NaN
        return "n/a"
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "**missed**"


def fmt(x, digits=2):
    return "n/a" if x is None or x != x else f"{x:.{digits}f}"


def machine_info():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cxx = os.environ.get("CXX", "c++")
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout.splitlines()
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "compiler": version[0] if version else cxx,
            "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 1)}


def write_plot(res, args):
    s = res.get("sessions")
    if not s or not shutil.which("gnuplot"):
        return None
    data = os.path.join(args.workdir, "sessions.dat")
    names = [n for n in s["names"] if any((n, c) in s["rates"] for c in s["levels"])]
    with open(data, "w") as f:
        for name in names:
            f.write(f"# {name}\n")
            for c in s["levels"]:
                if (name, c) in s["rates"]:
                    f.write(f"{c} {s['rates'][(name, c)]['rate']:.1f}\n")
            f.write("\n\n")
    plots = ", ".join(f"'{data}' index {i} with linespoints lw 2 title '{LABELS[n]}'"
                      for i, n in enumerate(names))
    script = f"""
set terminal svg size 800,480 dynamic font 'sans,12' background rgb 'white'
set output '{args.plot}'
set title 'Throughput vs concurrent sessions (1 KB messages, loopback sink, one process per client)'
set xlabel 'concurrent sessions'
set ylabel 'messages per second'
set logscale x
set xrange [0.7:14000]
set yrange [0:*]
set key outside right top
set grid
plot {plots}
"""
    p = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if p.returncode != 0:
        log(f"plot: gnuplot failed: {p.stderr}")
        return None
    return args.plot


def report(res, args, started, finished):
    m = res["machine"]
    lines = ["# Benchmarks", "",
             "Generated by `bash benchmarks/run.sh" + (" --quick" if args.quick else "") + "` "
             "(benchmarks/bench.py); do not edit by hand. How to run and what each program is: "
             "[benchmarks/README.md](../benchmarks/README.md).", "",
             f"- **Date:** {started} to {finished} (UTC)",
             f"- **Machine:** {m['cpu']}, {m['cores']} cores, {m['mem_gib']} GiB, Linux {m['kernel']}",
             f"- **Compiler:** {m['compiler']}; release build (`-Dbuildtype=release`: -O3), "
             "C++20, standalone Asio 1.22, one thread and one `io_context` for smtpipe",
             f"- **Load average** at start / end: {res['load'][0]} / {res.get('load_end', '?')}",
             f"- **Rounds:** {args.reps} (medians over rounds; ratios within this run)"
             + (" — **quick mode**: fewer messages and rounds" if args.quick else ""), ""]

    # Targets table
    lines += ["## Targets", "", "| target | measured | goal | verdict |", "|---|---:|---:|---|"]
    tp = res.get("throughput")
    if tp:
        sm = tp["summary"]
        for sessions, key in ((1, "throughput_1"), (10, "throughput_10")):
            a, f_ = sm.get((1024, sessions, "smtpipe")), sm.get((1024, sessions, "floor"))
            if a and f_:
                v = a["rate"] / f_["rate"]
                lines.append(f"| throughput, 1 KB, {sessions} connection{'s' if sessions > 1 else ''}: "
                             f"smtpipe / floor | {v:.2f}x | ≥ {TARGETS[key]}x | {verdict(v, TARGETS[key], True)} |")
        a, f_ = sm.get((1024, 10, "smtpipe-2threads")), sm.get((1024, 10, "floor"))
        if a and f_:
            v = a["rate"] / f_["rate"]
            lines.append(f"| throughput, 1 KB, 10 connections: smtpipe on 2 threads (2 cores) / floor "
                         f"| {v:.2f}x | ≥ {TARGETS['throughput_10']}x | "
                         f"{verdict(v, TARGETS['throughput_10'], True)} |")
        a, s_ = sm.get((1024, 1, "smtpipe")), sm.get((1024, 1, "smtp-source"))
        if a and s_:
            v = a["rate"] / s_["rate"]
            lines.append(f"| throughput, 1 KB, 1 connection: smtpipe / smtp-source | {v:.2f}x | ≥ 3x | "
                         f"{verdict(v, 3.0, True)} |")
        for sessions in (1, 10):
            a, f_ = sm.get((1024, sessions, "smtpipe")), sm.get((1024, sessions, "floor"))
            if a and f_:
                v = a["cpu_per_1000"] / f_["cpu_per_1000"]
                lines.append(f"| CPU per message, 1 KB, {sessions} conn.: smtpipe / floor | {v:.2f}x | "
                             f"≤ {TARGETS['cpu']}x | {verdict(v, TARGETS['cpu'], False)} |")
    sc = res.get("syscalls")
    if sc and "smtpipe" in sc:
        v = sc["smtpipe"]["per_msg"]
        lines.append(f"| system calls per message, PIPELINING + DATA | {v:.2f} | ≤ 4 | "
                     f"{verdict(v, TARGETS['syscalls'], False)} |")
    cl = res.get("cli")
    if cl and "rates" in cl:
        a, f_ = cl["rates"].get("smtpipe-send"), cl["rates"].get("floor")
        if a and f_:
            v = a["rate"] / f_["rate"]
            lines.append(f"| `smtpipe-send -n {cl['msgs']:,}`, 1 KB, 1 connection / floor | {v:.2f}x | "
                         f"≥ {TARGETS['cli_throughput']}x | {verdict(v, TARGETS['cli_throughput'], True)} |")
    if cl and "syscalls" in cl:
        for key, what in (("writes", "write-type"), ("io", "I/O")):
            v = cl["syscalls"][key]
            lines.append(f"| `smtpipe-send`: {what} system calls per message (every fd) | {v:.2f} | "
                         f"≤ {TARGETS['cli_' + key]:.0f} | {verdict(v, TARGETS['cli_' + key], False)} |")
    dp = res.get("dispatch")
    if dp:
        ns = dp["ns"]
        for extra in ("+0", "+10"):
            st, sw, rt = ns.get(f"static/{extra}"), ns.get(f"switch/{extra}"), ns.get(f"runtime/{extra}")
            if st and sw:
                v = st / sw
                lines.append(f"| dispatch ({extra} custom states): static / switch | {v:.2f}x | ≤ 1.2x | "
                             f"{verdict(v, TARGETS['static_vs_switch'], False)} |")
            if st and rt:
                v = rt / st
                lines.append(f"| dispatch ({extra} custom states): runtime / static | {v:.2f}x | ≤ 2x | "
                             f"{verdict(v, TARGETS['runtime_vs_static'], False)} |")
    ss = res.get("sessions")
    if ss and ss["memory"]:
        top = max(ss["memory"])
        v = ss["memory"][top]["per_session_kib"]
        lines.append(f"| user memory per idle session at {top:,} sessions | {v:.2f} KiB | ≤ 8 KiB | "
                     f"{verdict(v, TARGETS['idle_kib'], False)} |")
    cp = res.get("compile")
    if cp and "asio.hpp alone" in cp["cpu"] and "smtpipe, 20 custom states" in cp["cpu"]:
        v = cp["cpu"]["smtpipe, 20 custom states"] / cp["cpu"]["asio.hpp alone"]
        lines.append(f"| compile time, 20-state TU / `<asio.hpp>` TU | {v:.2f}x | ≤ 1.5x | "
                     f"{verdict(v, TARGETS['compile'], False)} |")
        floor_tu = cp["cpu"].get(MINIMAL_CLIENT_TU)
        if floor_tu:
            w = floor_tu / cp["cpu"]["asio.hpp alone"]
            lines.append(f"| (bound) minimal Asio coroutine client TU / `<asio.hpp>` TU | {w:.2f}x | "
                         "— | any TU that instantiates an Asio coroutine client pays this |")
            sep = cp["cpu"].get(SEPARATE_TU)
            if sep:
                v = sep / floor_tu
                lines.append(f"| compile time, 20-state TU with separate compilation / minimal "
                             f"coroutine client TU | {v:.2f}x | ≤ 1.3x | "
                             f"{verdict(v, TARGETS['compile_separate'], False)} |")
    lines.append("")

    if dp:
        lines += ["## 1. Dispatch cost (no sockets)", "",
                  "One state transition of the same in-memory conversation (banner, ehlo, 100 × "
                  "(mail, rcpt, data, rset → jump mail), quit → close), states that do no I/O; "
                  "'+10': ten pass-through states after rcpt. Google Benchmark, median CPU time "
                  f"of {dp['reps']} repetitions, interleaved.", "",
                  "| states | static pipeline | runtime `state_machine` | hand-written `switch` | virtual chain "
                  "| static / switch | runtime / static |", "|---|---:|---:|---:|---:|---:|---:|"]
        for extra in ("+0", "+10"):
            g = lambda v: dp["ns"].get(f"{v}/{extra}", float("nan"))  # noqa: E731
            lines.append(f"| {extra} | {g('static'):.1f} ns | {g('runtime'):.1f} ns | {g('switch'):.1f} ns | "
                         f"{g('virtual'):.1f} ns | {g('static') / g('switch'):.2f}x | "
                         f"{g('runtime') / g('static'):.2f}x |")
        lines.append("")

    def throughput_table(section, title, sizes, note):
        sm = section["summary"]
        out = [title, "", note, ""]
        for size in sizes:
            for sessions in (1, 10):
                fl = sm.get((size, sessions, "floor"))
                src = sm.get((size, sessions, "smtp-source"))
                out += [f"**{size // 1024} KB bodies, {sessions} connection{'s' if sessions > 1 else ''}**", "",
                        "| client | messages | msg/s | CPU s / 1000 msg | of which user | vs floor "
                        "| vs smtp-source | CPU vs floor |",
                        "|---|---:|---:|---:|---:|---:|---:|---:|"]
                for name in section["names"]:
                    r = sm.get((size, sessions, name))
                    if not r:
                        continue
                    vf = r["rate"] / fl["rate"] if fl else float("nan")
                    vs = r["rate"] / src["rate"] if src else float("nan")
                    cf = r["cpu_per_1000"] / fl["cpu_per_1000"] if fl else float("nan")
                    out.append(f"| {LABELS[name]} | {r['msgs']:,} | {r['rate']:,.0f} | {r['cpu_per_1000']:.3f} | "
                               f"{r.get('user_per_1000', float('nan')):.3f} | "
                               f"{fmt(vf)}x | {fmt(vs)}x | {fmt(cf)}x |")
                out.append("")
        return out

    if tp:
        lines += throughput_table(
            tp, "## 2. Throughput against smtp-sink (loopback)", (1024, 102400),
            f"`{tp['sink']}`. N messages per run, one recipient each, the same canonical body "
            "for every client; each connection is reused for its share of the messages. msg/s = "
            "N / the client process's wall time (start-up included); CPU = the client's user + "
            "system time. TCP_NODELAY is set wherever the client allows it (Poco: stalls on "
            "Nagle's algorithm with bodies over ~1 KiB without it; nodemailer: through its "
            "`getSocket` hook; smtp-source: as it is).")
    pfr = res.get("postfix")
    if pfr:
        lines += throughput_table(
            pfr, "## 3. Throughput against Postfix smtpd (loopback, discard transport)", (1024, 102400),
            "A private Postfix 3.7 instance in a temporary directory on tmpfs (/dev/shm; "
            "scripts/pylib/loopback_servers.py): smtpd, cleanup (queue file written and "
            "fsync'ed before the 250), qmgr, and the discard transport; "
            "`in_flow_delay = 0`. Postfix offers CHUNKING: smtpipe sends BDAT (pipelined, the last "
            "chunk with the next MAIL), smtpipe (DATA) is the same client with `--no-chunking`. "
            "Postfix is the bottleneck here; the table shows how much of "
            "it each client leaves on the table.")
    if sc:
        lines += ["## 4. System calls per message", "",
                  f"`strace -c -f`, one connection to smtp-sink, {next(iter(sc.values()))['msgs']:,} "
                  "messages of 1 KB (start-up calls included).", "",
                  "| client | calls / message | main calls per message |", "|---|---:|---|"]
        for name, v in sc.items():
            lines.append(f"| {LABELS[name]} | {v['per_msg']:.2f} | "
                         + ", ".join(f"{s} {c}" for s, c in v["top"][:6]) + " |")
        lines.append("")
    if ss:
        lines += ["## 5. Concurrent sessions and memory", "",
                  "Against benchmarks/sink.cpp (epoll, one thread). smtpipe runs every session on "
                  "one `io_context` in one thread. Memory: the sink holds its greetings until "
                  "every session is connected and waiting for the banner; user memory per session "
                  "= (RSS then − RSS before connecting) / sessions; then the sink is released.", "",
                  "| sessions | smtpipe KiB / idle session | smtpipe RSS idle | "
                  + " | ".join(f"{LABELS[n]} msg/s" for n in ss["names"]) + " |",
                  "|---:|---:|---:|" + "---:|" * len(ss["names"])]
        for c in ss["levels"]:
            mem = ss["memory"].get(c)
            cells = [f"{ss['rates'][(n, c)]['rate']:,.0f}" if (n, c) in ss["rates"] else "—"
                     for n in ss["names"]]
            small = c < 1000  # fixed costs (Asio, the first allocations) dominate the delta
            lines.append(f"| {c:,} | {fmt(mem['per_session_kib']) if mem and not small else '—'} | "
                         f"{(str(round(mem['rss_idle_kib'] / 1024, 1)) + ' MiB') if mem else 'n/a'} | "
                         + " | ".join(cells) + " |")
        lines += ["", "Peers stop at 1,000 sessions (one thread per connection for the floor; "
                  "smtp-source and aiosmtplib slow down past it) and nodemailer at 100 (with "
                  "1,000 pooled connections nodemailer 6.10 dies with `RangeError: Maximum call "
                  "stack size exceeded`). N = max(20,000, 2 × sessions) messages for the C/C++ "
                  "clients, 5,000 for the scripted ones; each point is the client process's "
                  "whole life, connections included.", ""]
        if res.get("plot"):
            lines += [f"![throughput vs sessions]({os.path.basename(res['plot'])})", ""]
    if cp:
        lines += ["## 6. Compile cost", "",
                  f"`{cp['compiler']}`, `{cp['flags']} -c`, CPU time (user + system) of the "
                  f"compiler, median of {cp['reps']}. The smtpipe TUs include `<smtpipe.hpp>` and "
                  "call `deliver()` with a static pipeline, which instantiates the runner, the "
                  "session and every state's coroutine.", "",
                  "| TU | CPU s | wall s | vs `<asio.hpp>` | vs minimal coroutine client |",
                  "|---|---:|---:|---:|---:|"]
        base = cp["cpu"].get("asio.hpp alone")
        client = cp["cpu"].get(MINIMAL_CLIENT_TU)
        for name, v in cp["cpu"].items():
            lines.append(f"| {name} | {v:.2f} | {cp['wall'][name]:.2f} | "
                         f"{fmt(v / base) if base else 'n/a'}x | "
                         f"{(fmt(v / client) + 'x') if client else 'n/a'} |")
        lines.append("")
    if cl and "rates" in cl:
        lines += cli_section_lines(cl)
    if args.notes and os.path.exists(args.notes):
        with open(args.notes) as f:
            lines += [f.read().rstrip(), ""]
    with open(args.markdown, "w") as f:
        f.write("\n".join(lines))


def cli_section_lines(cl):
    """The report's section on smtpipe-send (also pasted by hand from a `--sections cli` run)."""
    labels = {"floor": LABELS["floor"], "smtpipe-send": "`smtpipe-send -n N` (the command, message on stdin)",
              "smtpipe": "smtpipe-bench (the library alone)"}
    fl = cl["rates"].get("floor")
    out = ["## 7. smtpipe-send, the command", "",
           f"`smtpipe-send --server 127.0.0.1:PORT --tls none -f SENDER -n {cl['msgs']:,} RCPT < body-1024.eml` "
           "against smtp-sink (`-m 2048`), one connection, in the same rounds as the floor and "
           "smtpipe-bench (the same 1 KB message); the command must print nothing. msg/s = N / the "
           "process's wall time, start-up, reading the message and the report included.", "",
           "| client | msg/s | CPU s / 1000 msg | vs floor |", "|---|---:|---:|---:|"]
    for name in ("floor", "smtpipe-send", "smtpipe"):
        r = cl["rates"].get(name)
        if r:
            out.append(f"| {labels[name]} | {r['rate']:,.0f} | {r['cpu_per_1000']:.3f} | "
                       f"{fmt(r['rate'] / fl['rate']) if fl else 'n/a'}x |")
    sc = cl.get("syscalls")
    if sc:
        out += ["", f"`strace -c -f`, the same command: {sc['writes']:.2f} write-type and {sc['io']:.2f} "
                f"I/O system calls per message on every file descriptor ({sc['all']:.2f} in all); "
                "main calls per message: " + ", ".join(f"{c} {v}" for c, v in sc["top"]) + "."]
    return out + [""]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sections", default="dispatch,throughput,postfix,syscalls,sessions,compile,cli")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--markdown", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    ap.add_argument("--plot", default=os.path.join(ROOT, "docs", "benchmarks-sessions.svg"))
    ap.add_argument("--notes", default=os.path.join(HERE, "notes.md"),
                    help="hand-written analysis appended to the report")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.reps is None:
        args.reps = 1 if args.quick else 3
    sections = args.sections.split(",")
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    args.workdir = tempfile.mkdtemp(prefix="smtpipe-bench-")
    args.cleanup_dirs = []
    os.chmod(args.workdir, 0o755)

    def terminate(signum, _frame):
        raise SystemExit(f"interrupted by signal {signum}")
    signal.signal(signal.SIGTERM, terminate)

    res = {"machine": machine_info(), "load": [round(x, 2) for x in os.getloadavg()]}
    log(f"bench: {res['machine']['cpu']}, {res['machine']['cores']} cores, load {res['load']}")
    if res["load"][0] > 0.5:
        log("bench: WARNING: the machine is busy (load > 0.5): numbers will be noisy")
    clients = Clients(args.build, args.workdir)
    t0 = time.monotonic()
    try:
        for name in sections:
            log(f"== {name}")
            s = time.monotonic()
            res[name] = globals()[f"section_{name}"](clients, args)
            log(f"== {name}: {time.monotonic() - s:.0f} s")
        res["load_end"] = ", ".join(str(round(x, 2)) for x in os.getloadavg())
        res["plot"] = write_plot(res, args) if "sessions" in sections else None
    finally:
        if not os.environ.get("BENCH_KEEP"):
            for d in [args.workdir, *args.cleanup_dirs]:
                shutil.rmtree(d, ignore_errors=True)
    finished = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    report(res, args, started, finished)
    if args.json:
        def plain(x):  # tuple keys -> "a/b/c"
            if isinstance(x, dict):
                return {("/".join(map(str, k)) if isinstance(k, tuple) else k): plain(v) for k, v in x.items()}
            return [plain(v) for v in x] if isinstance(x, (list, tuple)) else x
        with open(args.json, "w") as f:
            json.dump(plain(res), f, indent=1, default=str)
    log(f"bench: done in {(time.monotonic() - t0) / 60:.1f} min; report {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
