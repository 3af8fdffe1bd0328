#!/usr/bin/env bash
# benchmarks/run.sh - Build the benchmark suite in release mode and run every comparison.
#
#   bash benchmarks/run.sh [--quick] [--sections dispatch,throughput,postfix,syscalls,sessions,compile,cli]
#                          [--reps N]
#
# Installs what is missing (scripts/install-deps.sh), configures build-bench/ with
# -Dbenchmarks=enabled -Dbuildtype=release (tests off; examples on, for smtpipe-send), builds, raises the fd
# limit for 10,000 sessions, then runs benchmarks/bench.py, which writes docs/benchmarks.md
# and docs/benchmarks-sessions.svg. Run it on a quiet machine (load < 0.5): the script warns
# otherwise. Root is needed for the private Postfix instance (it drops privileges itself).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
# nodemailer's peer needs node and npm (Debian's, or NodeSource's node, which bundles npm);
# without them bench.py skips nodemailer.
if ! command -v npm > /dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm > /dev/null 2>&1 ||
    echo "run.sh: node/npm not installable: nodemailer will be skipped" >&2
fi

dir=build-bench
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" -Dbenchmarks=enabled -Dbuildtype=release -Dtests=disabled \
    -Dexamples=enabled > /dev/null
else
  meson setup "$dir" --wrap-mode=nodownload -Dbenchmarks=enabled -Dbuildtype=release \
    -Dtests=disabled -Dexamples=enabled > /dev/null
fi
ninja -C "$dir" benchmarks/smtpipe-bench benchmarks/smtpipe-bench-floor benchmarks/smtpipe-bench-sink \
  examples/smtpipe-send \
  $(ninja -C "$dir" -t targets all | sed -n 's/^\(benchmarks\/smtpipe-bench-[a-z]*\): .*/\1/p' | sort -u)

# 10,000 sockets in the client and as many in the sink (separate processes), plus the rest.
ulimit -n 65536 2> /dev/null || ulimit -n "$(ulimit -Hn)"

exec /usr/bin/python3 benchmarks/bench.py --build "$dir" "$@"
