#!/usr/bin/env python3
"""Python's smtplib as a peer of smtpipe's benchmarks.

    smtplib_client.py --port P --count N --sessions C --body FILE

One thread per connection (C threads), each sending its share of N messages over one
smtplib.SMTP connection with sendmail() (MAIL, RCPT, DATA, lock-step; smtplib does not
pipeline). TCP_NODELAY is set on each socket. Exits 1 unless every message was accepted.
"""
import smtplib
import socket
import sys
import threading

from peer_common import parse_args, shares


def session(port, count, body, counts, index):
    with smtplib.SMTP("127.0.0.1", port, local_hostname="smtplib.example.org") as smtp:
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp.ehlo()
        for _ in range(count):
            smtp.sendmail("sender@example.org", ["rcpt@example.net"], body)
            counts[index] += 1


def main():
    a, body = parse_args(__doc__.splitlines()[0])
    counts = [0] * a.sessions
    threads = []
    for s, n in enumerate(shares(a.count, a.sessions)):
        t = threading.Thread(target=session, args=(a.port, n, body, counts, s))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return 0 if sum(counts) == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
