"""What the Python peers of smtpipe's benchmarks share: their command line and how they split
the messages over the sessions. Imported from the peer's own directory (sys.path[0])."""
import argparse


def parse_args(description):
    """--port P --count N --sessions C --body FILE; returns (arguments, the body's bytes)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--sessions", type=int, default=1)
    p.add_argument("--body", required=True)
    a = p.parse_args()
    with open(a.body, "rb") as f:
        return a, f.read()


def shares(count, sessions):
    """How many of `count` messages each of `sessions` sessions sends (the first ones one more)."""
    return [count // sessions + (1 if s < count % sessions else 0) for s in range(sessions)]
