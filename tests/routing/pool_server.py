#!/usr/bin/python3
"""An aiosmtpd that counts its connections, for the connection pool tests (routing_env.py).

Listens on every --host (one port). Refuses recipients whose local part starts with "refuse"
(550 5.1.1); after the data of a message to a recipient starting with "drop", closes the
connection without a reply; accepts every other message (after --data-delay seconds when a
recipient's domain starts with "slow"). Rewrites --stats (JSON) after every event: per
listening address the connections opened, open now (until closed or QUIT) and at most at
once, the QUITs and RSETs received, the messages dropped and accepted; the most connections
open at once on all addresses together (peak_total); a generation counter.

On SIGUSR1 it sends "421 4.4.2 closing idle connection" on every open connection and closes
it; on SIGUSR2 it closes every open connection without a word; on SIGHUP it resets the peaks
to the connections open now. Prints "READY" once listening; stops when standard input closes
or on SIGTERM. Run with Debian's /usr/bin/python3 (python3-aiosmtpd).
"""
import argparse
import asyncio
import json
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Stats:
    def __init__(self, path, hosts):
        self.path = path
        self.lock = threading.Lock()
        self.gen = 0
        self.hosts = {h: {"opened": 0, "open": 0, "peak": 0, "quits": 0, "messages": 0,
                          "rsets": 0, "dropped": 0} for h in hosts}
        self.conns = {h: set() for h in hosts}
        self.open_total = 0
        self.peak_total = 0
        self.write()

    def write(self):
        self.gen += 1
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"gen": self.gen, "peak_total": self.peak_total, "hosts": self.hosts}, f)
        os.replace(tmp, self.path)

    def event(self, host, key, delta=1):
        with self.lock:
            h = self.hosts[host]
            h[key] += delta
            h["peak"] = max(h["peak"], h["open"])
            if key == "open":
                self.open_total += delta
                self.peak_total = max(self.peak_total, self.open_total)
            self.write()


class Handler:
    def __init__(self, stats, host, delay):
        self.stats, self.host, self.delay = stats, host, delay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse"):
            return f"550 5.1.1 <{address}>: no such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_RSET(self, server, session, envelope):
        self.stats.event(self.host, "rsets")
        return "250 2.0.0 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(r.startswith("drop") for r in envelope.rcpt_tos):
            # The message arrived, the reply never leaves: its fate is unknown to the client.
            self.stats.event(self.host, "dropped")
            server.transport.abort()
            return "250 2.0.0 never sent"
        if self.delay and any(r.rsplit("@", 1)[-1].startswith("slow") for r in envelope.rcpt_tos):
            await asyncio.sleep(self.delay)
        self.stats.event(self.host, "messages")
        return "250 2.0.0 accepted"

    async def handle_QUIT(self, server, session, envelope):
        self.stats.event(self.host, "quits")
        server.uncount()  # a connection that sent QUIT is over, whenever its close is seen
        return "221 2.0.0 bye"


class CountingSMTP(SMTP):
    def __init__(self, handler, stats, host, **kw):
        super().__init__(handler, **kw)
        self.stats, self.host = stats, host
        self.counted = False

    def connection_made(self, transport):
        first = self.transport is None
        super().connection_made(transport)
        if first and not self.counted:
            self.counted = True
            with self.stats.lock:
                self.stats.conns[self.host].add(self)
            self.stats.event(self.host, "opened")
            self.stats.event(self.host, "open")

    def connection_lost(self, error):
        super().connection_lost(error)
        self.uncount()

    def uncount(self):
        if self.counted:
            self.counted = False
            with self.stats.lock:
                self.stats.conns[self.host].discard(self)
            self.stats.event(self.host, "open", -1)


class CountingController(Controller):
    def __init__(self, stats, host, **kw):
        self.stats, self.host = stats, host
        super().__init__(hostname=host, **kw)

    def factory(self):
        return CountingSMTP(self.handler, self.stats, self.host, **self.SMTP_kwargs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", action="append", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--data-delay", type=float, default=0.0)
    args = ap.parse_args()
    stats = Stats(args.stats, args.host)
    controllers = []
    for h in args.host:
        c = CountingController(stats, h, handler=Handler(stats, h, args.data_delay), port=args.port,
                               decode_data=False, server_hostname=f"pool-{h}")
        c.start()
        controllers.append(c)

    def on_all(action):
        for c in controllers:
            with stats.lock:
                conns = list(stats.conns[c.host])
            for conn in conns:
                c.loop.call_soon_threadsafe(action, conn)

    def say_421(conn):
        if conn.transport is not None:
            conn.transport.write(b"421 4.4.2 closing idle connection\r\n")
            conn.transport.close()

    def drop(conn):
        if conn.transport is not None:
            conn.transport.abort()

    def reset_peaks(*_):
        with stats.lock:
            for h in stats.hosts.values():
                h["peak"] = h["open"]
            stats.peak_total = stats.open_total
            stats.write()

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGUSR1, lambda *_: on_all(say_421))
    signal.signal(signal.SIGUSR2, lambda *_: on_all(drop))
    signal.signal(signal.SIGHUP, reset_peaks)
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    print("READY", flush=True)
    try:
        while not done.wait(0.2):
            pass
    finally:
        for c in controllers:
            c.stop()


if __name__ == "__main__":
    main()
