#!/usr/bin/env python3
"""aiosmtplib (asyncio) as a peer of smtpipe's benchmarks. Run with Debian's /usr/bin/python3
(python3-aiosmtplib).

    aiosmtplib_client.py --port P --count N --sessions C --body FILE

C concurrent tasks on one event loop, each with its own aiosmtplib.SMTP connection sending
its share of N messages with sendmail() (lock-step). asyncio sets TCP_NODELAY itself.
Exits 1 unless every message was accepted.
"""
import asyncio
import sys

import aiosmtplib

from peer_common import parse_args, shares


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
    results = await asyncio.gather(*(session(a.port, n, body) for n in shares(a.count, a.sessions)))
    return sum(results)


def main():
    a, body = parse_args(__doc__.splitlines()[0])
    return 0 if asyncio.run(run(a, body)) == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
