#!/usr/bin/env bash
# A local ring of daemons for trying things out: N daemons (default 3) on
# 127.0.100.1..N, port 4903, in one configuration, each with its own
# directory under /tmp/spread-cluster. Clients reach daemon i as
# "4903@127.0.100.i" (or its Unix socket /tmp/spread-cluster/d<i>/4903:
# each daemon is started with SPREAD_SOCKET_DIR set to its directory).
#   scripts/cluster.sh start [N] [extra spread.conf lines...]   (returns once the ring of N formed)
#   scripts/cluster.sh stop                                     (returns once every daemon exited)
#   e.g. target/release/spuser -s 4903@127.0.100.2
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
. scripts/daemon-user.sh
base=/tmp/spread-cluster
port=4903
case "${1:-}" in
  start)
    n="${2:-3}"; shift $(( $# >= 2 ? 2 : 1 ))
    cargo build ${CLUSTER_PROFILE:---release} -q -p spread-daemon -p spread-tools
    "$0" stop >/dev/null 2>&1 || true
    for i in $(seq "$n"); do
      mkdir -p "$base/d$i"; chmod 1777 "$base/d$i"
      {
        echo "Spread_Segment 127.0.100.255:$port {"
        for j in $(seq "$n"); do echo "  d$j 127.0.100.$j { D 127.0.100.$j C 127.0.100.$j }"; done
        echo "}"
        echo "RuntimeDir = $base/d$i"
        for line in "$@"; do echo "$line"; done
      } > "$base/d$i/spread.conf"
      (
        cd "$base/d$i"
        SPREAD_SOCKET_DIR="$base/d$i" nohup "$repo/target/release/spread" -n "d$i" -c spread.conf >daemon.log 2>&1 &
        echo $! > pid
      )
    done
    for i in $(seq "$n"); do
      echo "d$i: $port@127.0.100.$i (log $base/d$i/daemon.log)"
    done
    # Ready when every daemon has installed a membership of all n.
    echo "waiting for the ring of $n..."
    deadline=$((SECONDS + 30))
    for i in $(seq "$n"); do
      until grep -q "membership .* of $n daemons" "$base/d$i/daemon.log" 2>/dev/null; do
        if ! kill -0 "$(cat "$base/d$i/pid")" 2>/dev/null; then
          tail -5 "$base/d$i/daemon.log" >&2
          echo "d$i exited; its log: $base/d$i/daemon.log" >&2
          exit 1
        fi
        if [ $SECONDS -ge $deadline ]; then
          echo "no ring of $n within 30 s; the logs are in $base/d*/daemon.log" >&2
          exit 1
        fi
        sleep 0.1
      done
    done
    echo "ring of $n formed"
    echo "status: target/release/spmonitor -c $base/d1/spread.conf -n d1"
    echo "stop:   $0 stop"
    ;;
  stop)
    pids=()
    for p in "$base"/d*/pid; do
      [ -f "$p" ] || continue
      pid=$(cat "$p")
      kill "$pid" 2>/dev/null && pids+=("$pid")
      rm -f "$p"
    done
    # Gone (and their sockets removed) before this returns.
    for pid in "${pids[@]}"; do
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    done
    echo "stopped ${#pids[@]} daemons"
    ;;
  *)
    echo "usage: $0 start [N] [extra conf lines...] | stop" >&2; exit 1 ;;
esac
