#!/usr/bin/python3
"""aiosmtpd on loopback for the interoperability tests (run with Debian's /usr/bin/python3,
which has python3-aiosmtpd).

Refuses the recipients named with --refuse (550 5.1.1) and --defer (451 4.3.0), accepts the
others, and appends every accepted message to --out as one JSON line: the envelope and the
content exactly as received (dot-unstuffed, CRLF line ends), base64-encoded. Prints
"READY <port>" once listening, and stops when standard input closes or on SIGTERM, so the
server never outlives the driver that started it.
"""
import argparse
import base64
import json
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, refuse, defer, out):
        self.refuse = set(refuse)
        self.defer = set(defer)
        self.out = out
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: no such user"
        if address in self.defer:
            return f"451 4.3.0 <{address}>: try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "helo": session.host_name,
            "content": base64.b64encode(envelope.original_content).decode("ascii"),
        }
        with self.lock, open(self.out, "a", encoding="ascii") as f:
            f.write(json.dumps(record) + "\n")
        return "250 2.0.0 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True, help="file to append accepted messages to")
    parser.add_argument("--refuse", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[])
    args = parser.parse_args()

    controller = Controller(Handler(args.refuse, args.defer, args.out),
                            hostname="127.0.0.1", port=args.port, decode_data=False)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    print(f"READY {args.port}", flush=True)
    try:
        done.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
