#!/usr/bin/python3
"""aiosmtpd on loopback for the interoperability tests (run with Debian's /usr/bin/python3,
which has python3-aiosmtpd).

Refuses the recipients named with --refuse (550 5.1.1) and --defer (451 4.3.0), accepts the
others, and appends every accepted message to --out as one JSON line: the envelope, the
content exactly as received (dot-unstuffed, CRLF line ends) base64-encoded, whether it came
over TLS and who authenticated. Prints "READY <port>" once listening, and stops when
standard input closes or on SIGTERM, so the server never outlives the driver that started it.

With --tls-cert/--tls-key it offers STARTTLS. With --auth-user/--auth-password-file it
offers AUTH PLAIN and LOGIN after TLS only (auth_require_tls), requires AUTH before MAIL,
and accepts exactly those credentials (535 otherwise).
"""
import argparse
import base64
import json
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


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
            "tls": bool(server._tls_protocol),
            "auth_user": session.auth_data.login.decode() if session.authenticated else None,
            "auth_mechanism": getattr(session, "auth_mechanism", None),
        }
        with self.lock, open(self.out, "a", encoding="ascii") as f:
            f.write(json.dumps(record) + "\n")
        return "250 2.0.0 Message accepted for delivery"


class Authenticator:
    """Checks PLAIN and LOGIN credentials against the one user configured."""

    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == self.user
              and auth_data.password == self.password)
        if ok:
            session.auth_mechanism = mechanism
        # handled=False: aiosmtpd answers a failure itself (535 5.7.8).
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument("--out", required=True, help="file to append accepted messages to")
    parser.add_argument("--refuse", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[])
    parser.add_argument("--tls-cert", help="PEM certificate: offer STARTTLS")
    parser.add_argument("--tls-key")
    parser.add_argument("--auth-user", help="offer AUTH (after TLS) and require it")
    parser.add_argument("--auth-password-file")
    args = parser.parse_args()

    options = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options["tls_context"] = context
    if args.auth_user:
        with open(args.auth_password_file) as f:
            password = f.read().rstrip("\n")
        options.update(authenticator=Authenticator(args.auth_user, password),
                       auth_require_tls=True, auth_required=True)
    controller = Controller(Handler(args.refuse, args.defer, args.out),
                            hostname=args.host, port=args.port, decode_data=False, **options)
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
