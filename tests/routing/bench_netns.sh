#!/usr/bin/env bash
# The routing benchmark with Postfix's smtp client beside smtpipe (docs/benchmarks.md): in a
# network and mount namespace of its own (root), where loopback is private, unbound answers on
# 127.0.0.1:53, the ten bench smtp-sinks listen on port 25, and /etc/resolv.conf (bind-mounted,
# only inside the namespace) names 127.0.0.1: Postfix's resolver finds the test zone's MX
# records as smtpipe does. Nothing outside the namespace is touched.
#
#   tests/routing/bench_netns.sh build/tests/routing/bench_routing
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=$(realpath "$1")
exec unshare --net --mount bash -euo pipefail -c '
  ip link set lo up
  conf=$(mktemp)
  echo "nameserver 127.0.0.1" > "$conf"
  mount --bind "$conf" /etc/resolv.conf
  /usr/bin/python3 "$0" --bench "$1" --postfix-bench --dns-port 53 --mx-port 25
' "$here/routing_env.py" "$bench"
