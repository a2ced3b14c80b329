#!/usr/bin/env bash
# Throughput of one daemon: spflooder sends and reads back N messages of
# each size through a release-built daemon on the embedded default
# configuration; prints msgs/s, MB/s and the daemon's CPU seconds.
#   usage: scripts/bench-flooder.sh [messages] [sizes...]   (default 100000 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-100000}"; shift || true
sizes=("${@:-1000}")
cargo build --release -q -p spread-daemon -p spread-tools
bin="$PWD/target/release"
. scripts/daemon-user.sh
work=$(mktemp -d); chmod 1777 "$work"
port=$((20000 + RANDOM % 20000))
printf 'Spread_Segment 127.0.0.255:%s {\n\tlocalhost 127.0.0.1\n}\nRuntimeDir = %s\n' "$port" "$work" > "$work/spread.conf"
(cd "$work" && SPREAD_SOCKET_DIR="$work" exec "$bin/spread" -c spread.conf -n localhost 2>"$work/daemon.log") & daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 200); do [ -S "$work/$port" ] && break; sleep 0.05; done
ticks=$(getconf CLK_TCK)
cpu() { awk -v t="$ticks" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$daemon/stat"; }
printf '%-8s %-10s %-12s %-10s %-14s\n' bytes messages msgs/s MB/s daemon_cpu_s
for size in "${sizes[@]}"; do
  before=$(cpu)
  line=$("$bin/spflooder" -q -t agreed -m "$count" -b "$size" -s "$work/$port" | grep 'msgs/s')
  after=$(cpu)
  rate=$(sed -E 's/.*: ([0-9.]+) msgs\/s.*/\1/' <<<"$line")
  mbs=$(sed -E 's/.* ([0-9.]+) MB\/s.*/\1/' <<<"$line")
  printf '%-8s %-10s %-12s %-10s %-14s\n' "$size" "$count" "$rate" "$mbs" "$(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", a - b }')"
done
