#!/usr/bin/env python3
"""Python's smtplib as a peer of smtpipe's benchmarks.

    smtplib_client.py --port P --count N --sessions C --body FILE

One thread per connection (C threads), each sending its share of N messages over one
smtplib.SMTP connection with sendmail() (MAIL, RCPT, DATA, lock-step; smtplib does not
pipeline). TCP_NODELAY is set on each socket. Exits 1 unless every message was accepted.
"""
import argparse
import smtplib
import socket
import sys
import threading


def session(port, count, body, counts, index):
    with smtplib.SMTP("127.0.0.1", port, local_hostname="smtplib.example.org") as smtp:
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp.ehlo()
        for _ in range(count):
            smtp.sendmail("sender@example.org", ["rcpt@example.net"], body)
            counts[index] += 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--sessions", type=int, default=1)
    p.add_argument("--body", required=True)
    a = p.parse_args()
    with open(a.body, "rb") as f:
        body = f.read()
    counts = [0] * a.sessions
    threads = []
    for s in range(a.sessions):
        n = a.count // a.sessions + (1 if s < a.count % a.sessions else 0)
        t = threading.Thread(target=session, args=(a.port, n, body, counts, s))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return 0 if sum(counts) == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
