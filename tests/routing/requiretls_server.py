#!/usr/bin/python3
"""aiosmtpd with REQUIRETLS (RFC 8689) for dane_env.py: the options of
tests/interop/aiosmtpd_server.py (--host, --port, --out, --tls-cert, --tls-key), and after
STARTTLS it advertises REQUIRETLS and accepts the REQUIRETLS parameter of MAIL FROM
(refused with 530 5.7.10 before TLS). Each accepted message is one JSON line in --out with
"tls", "requiretls" (whether its MAIL FROM carried the parameter) and "sni" (the server name
the client sent in its TLS handshake, null when none). Prints "READY <port>",
stops when standard input closes or on SIGTERM. Run with Debian's /usr/bin/python3.
"""
import argparse
import json
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class RequireTlsSMTP(SMTP):
    async def smtp_MAIL(self, arg):
        words = (arg or "").split()
        flagged = [w for w in words[1:] if w.upper() == "REQUIRETLS"]
        self.requiretls = bool(flagged)
        if flagged and not self._tls_protocol:
            await self.push("530 5.7.10 REQUIRETLS needs TLS")
            return
        # aiosmtpd refuses parameters it does not know: REQUIRETLS is handled here.
        return await super().smtp_MAIL(" ".join(words[:1] + [w for w in words[1:] if w not in flagged]))


class RequireTlsController(Controller):
    def factory(self):
        return RequireTlsSMTP(self.handler, **self.SMTP_kwargs)


class Handler:
    def __init__(self, out):
        self.out = out
        self.lock = threading.Lock()
        self.sni = None  # of the last handshake (the tests make one connection at a time)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if server._tls_protocol:  # RFC 8689 §4: offered over TLS only
            responses.insert(len(responses) - 1, "250-REQUIRETLS")
        return responses

    async def handle_DATA(self, server, session, envelope):
        record = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                  "tls": bool(server._tls_protocol),
                  "requiretls": bool(getattr(server, "requiretls", False)),
                  "sni": self.sni}
        with self.lock, open(self.out, "a", encoding="ascii") as f:
            f.write(json.dumps(record) + "\n")
        return "250 2.0.0 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--out", required=True)
    parser.add_argument("--tls-cert", required=True)
    parser.add_argument("--tls-key", required=True)
    args = parser.parse_args()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    handler = Handler(args.out)

    def sni(_sock, name, _ctx):
        handler.sni = name
    context.sni_callback = sni
    controller = RequireTlsController(handler, hostname=args.host, port=args.port,
                                      decode_data=False, tls_context=context)
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
