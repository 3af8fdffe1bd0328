#!/usr/bin/env python3
"""aiosmtplib (asyncio) as a peer of smtpipe's benchmarks. Run with Debian's /usr/bin/python3
(python3-aiosmtplib).

    aiosmtplib_client.py --port P --count N --sessions C --body FILE

C concurrent tasks on one event loop, each with its own aiosmtplib.SMTP connection sending
its share of N messages with sendmail() (lock-step). asyncio sets TCP_NODELAY itself.
Exits 1 unless every message was accepted.
"""
import argparse
import asyncio
import sys

import aiosmtplib


async def session(port, count, body):
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="aiosmtplib.example.org",
                           use_tls=False, start_tls=False, timeout=600)
    await smtp.connect()
    sent = 0
    for _ in range(count):
        await smtp.sendmail("sender@example.org", ["rcpt@example.net"], body)
        sent += 1
    await smtp.quit()
    return sent


async def run(a, body):
    counts = [a.count // a.sessions + (1 if s < a.count % a.sessions else 0) for s in range(a.sessions)]
    results = await asyncio.gather(*(session(a.port, n, body) for n in counts))
    return sum(results)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--sessions", type=int, default=1)
    p.add_argument("--body", required=True)
    a = p.parse_args()
    with open(a.body, "rb") as f:
        body = f.read()
    return 0 if asyncio.run(run(a, body)) == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
