#!/usr/bin/env python3
"""An HTTPS MTA-STS policy server for the routing tests (loopback only).

    mta_sts_server.py --host 127.0.0.20 --cert C --key K --policies P.json --log FETCHES

Serves /.well-known/mta-sts.txt per Host header from P.json: {"mta-sts.DOMAIN": {"status": 200,
"type": "text/plain", "body": "...", "location": "..."}}; unknown hosts get 404. Every request
for the policy appends its host name to FETCHES (the tests count fetches). Prints
"READY PORT" once listening; stops when its standard input closes.
"""
import argparse
import http.server
import json
import ssl
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--policies", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    with open(args.policies) as f:
        policies = json.load(f)
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
            if self.path == "/.well-known/mta-sts.txt":
                with lock, open(args.log, "a") as log:
                    log.write(host + "\n")
            p = policies.get(host) if self.path == "/.well-known/mta-sts.txt" else None
            if not p:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = p.get("body", "").encode()
            self.send_response(p.get("status", 200))
            self.send_header("Content-Type", p.get("type", "text/plain"))
            if "location" in p:
                self.send_header("Location", p["location"])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"READY {server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
