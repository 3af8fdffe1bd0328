"""Fails when include/meson.build's header list and the headers on disk differ."""
import pathlib
import sys

root = pathlib.Path(sys.argv[1])
listed = set(sys.argv[2:])
on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*.hpp")}
missing = sorted(on_disk - listed)
stale = sorted(listed - on_disk)
for name in missing:
    print(f"header not listed in include/meson.build: {name}")
for name in stale:
    print(f"listed in include/meson.build but not on disk: {name}")
sys.exit(1 if missing or stale else 0)
