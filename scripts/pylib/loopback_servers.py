"""Servers on loopback for smtpipe's interoperability tests and benchmarks: helpers shared by
tests/interop/interop.py and benchmarks/bench.py (standard library only).

- `free_port(host)`, `port_open(port, host)`, `wait_until(predicate, timeout)`;
- `read_pid(path)`, `read_text(path)`, `kill_when_lingering(pid)`, `stop_process(proc)`: the
  pieces every server wrapper stops its processes with;
- `PrivatePostfix(base, main_cf, master_cf, files)`: a Postfix instance of its own, in a
  directory of its own (config, queue, data and log), started with `postfix -c` and stopped
  (its master killed if `postfix stop` does not end it) whatever happens;
- `SmtpSink(workdir, flags, ...)`: Postfix's smtp-sink on a free loopback port.

Postfix must be installed (scripts/install-deps.sh) and started as root: it drops privileges to
its own users. Nothing here listens on anything but loopback (127.0.0.1, or ::1 where asked).
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

SBIN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postfix/sbin"


class ServerUnavailable(Exception):
    """A server could not be started; the message says why."""


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def host_port(host, port):
    """`host:port`, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def read_pid(path):
    """The process ID in a pid file, or None."""
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def read_text(path):
    """A log file's text ("" when it is missing)."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def kill_when_lingering(pid, timeout=10):
    """SIGKILL for a master process we started and asked to stop, if it is still there after
    `timeout` seconds; its children follow it."""
    if pid and not wait_until(lambda: not os.path.exists(f"/proc/{pid}"), timeout):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop_process(proc, ask=None):
    """Stops a child process: `ask()` (SIGTERM by default), then SIGKILL after 5 seconds."""
    if proc and proc.poll() is None:
        (ask or proc.terminate)()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# The services a private instance needs; "{smtp}" is the smtpd listener's line(s).
POSTFIX_MASTER_CF = """\
{smtp}
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

# What every private instance's main.cf starts with; the caller appends its own policy.
POSTFIX_MAIN_CF_BASE = """\
compatibility_level = 3.6
config_directory = {etc}
queue_directory = {spool}
data_directory = {data}
maillog_file = {log}/maillog
maillog_file_prefixes = {log}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps = hash:{etc}/aliases
alias_database = hash:{etc}/aliases
biff = no
"""


class PrivatePostfix:
    """A Postfix instance in `base` (etc/, spool/, data/, log/). `main_cf` is appended to the
    base configuration and may use {etc}, {spool}, {data}, {log}; `smtp_services` is the
    master.cf text of the smtpd listener(s); `files` maps names to contents written to etc/."""

    def __init__(self, base, main_cf, smtp_services, files=None):
        self.base = base
        self.etc = os.path.join(base, "etc")
        self.spool = os.path.join(base, "spool")
        self.data = os.path.join(base, "data")
        self.logdir = os.path.join(base, "log")
        self.main_cf = main_cf
        self.smtp_services = smtp_services
        self.files = dict(files or {})
        self.started = False

    @staticmethod
    def requirements():
        if os.geteuid() != 0:
            raise ServerUnavailable("Postfix must be started as root (it drops to its own users)")
        for tool in ("postfix", "postalias"):
            if not shutil.which(tool, path=SBIN_PATH):
                raise ServerUnavailable(f"{tool} not found: install postfix (scripts/install-deps.sh)")
        try:
            pwd.getpwnam("postfix")
        except KeyError:
            raise ServerUnavailable("no 'postfix' user: is the postfix package installed?")

    def start(self, port, timeout=20):
        """Writes the configuration, starts the instance, waits until `port` answers."""
        self.requirements()
        for d in (self.etc, self.spool, self.data, self.logdir):
            os.makedirs(d)
        for d in (self.base, os.path.dirname(self.base)):  # the daemons must reach their dirs
            os.chmod(d, 0o755)
        pf = pwd.getpwnam("postfix")
        os.chown(self.data, pf.pw_uid, pf.pw_gid)
        fmt = dict(etc=self.etc, spool=self.spool, data=self.data, log=self.logdir)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(POSTFIX_MAIN_CF_BASE.format(**fmt) + self.main_cf.format(**fmt))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(POSTFIX_MASTER_CF.format(smtp=self.smtp_services))
        files = {"aliases": "postmaster: root\n", **self.files}
        for name, content in files.items():
            with open(os.path.join(self.etc, name), "w") as f:
                f.write(content)
        self._run(["postalias", "-c", self.etc, os.path.join(self.etc, "aliases")], "postalias")
        self.started = True  # from here on, stop() must run
        self._run(["postfix", "-c", self.etc, "start"], "postfix start", timeout=90)
        if not wait_until(lambda: port_open(port), timeout):
            raise ServerUnavailable(f"Postfix started but does not listen on 127.0.0.1:{port}"
                                    f"\n{self.log()[-2000:]}")

    def _run(self, cmd, what, timeout=60):
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise ServerUnavailable(f"{what} failed ({p.returncode}): {p.stderr.strip()}"
                                    f"\n{self.log()[-2000:]}")

    def master_pid(self):
        return read_pid(os.path.join(self.spool, "pid", "master.pid"))

    def stop(self):
        if not self.started:
            return
        self.started = False
        pid = self.master_pid()
        subprocess.run(["postfix", "-c", self.etc, "stop"], capture_output=True, timeout=60)
        kill_when_lingering(pid)

    def log(self):
        return read_text(os.path.join(self.logdir, "maillog"))


class SmtpSink:
    """Postfix's smtp-sink on a free loopback port of `host`; `flags` are smtp-sink options."""

    def __init__(self, directory, flags=(), backlog=1024, hostname="sink.example.test",
                 host="127.0.0.1"):
        self.dir = directory
        self.flags = list(flags)
        self.backlog = backlog
        self.hostname = hostname
        self.host = host
        self.port = free_port(host)
        self.proc = None

    def start(self):
        tool = shutil.which("smtp-sink", path=SBIN_PATH)
        if not tool:
            raise ServerUnavailable("smtp-sink not found: install postfix (scripts/install-deps.sh)")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(os.path.dirname(self.dir), 0o755)
        os.chmod(self.dir, 0o777)  # smtp-sink writes as the unprivileged user
        cmd = [tool, *self.flags, "-h", self.hostname]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        cmd += [host_port(self.host, self.port), str(self.backlog)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        if not wait_until(lambda: self.proc.poll() is not None or port_open(self.port, self.host), 10) \
                or self.proc.poll() is not None:
            out = self.proc.stdout.read().decode(errors="replace") if self.proc.poll() is not None else ""
            raise ServerUnavailable(f"smtp-sink did not start ({' '.join(cmd)}): {out.strip()}")
        self.command = cmd

    def stop(self):
        stop_process(self.proc)
