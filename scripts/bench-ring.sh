#!/usr/bin/env bash
# Benchmarks of a 3-daemon ring on loopback (release builds): one flooder
# alone, a sender on d1 with its reader on d3, three senders at once, and
# latency. Prints msgs/s and the daemons' CPU seconds.
#   usage: [ACCELERATED=1] scripts/bench-ring.sh [messages] [bytes]   (default 100000 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-100000}"; size="${2:-1000}"
cargo build --release -q -p spread-daemon -p spread-tools
bin="$PWD/target/release"
. scripts/daemon-user.sh
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
net="127.0.$((100 + RANDOM % 100))"
pids=()
for i in 1 2 3; do
  mkdir -p "$work/d$i"; chmod 1777 "$work/d$i"
  {
    echo "Spread_Segment $net.255:$port {"
    for j in 1 2 3; do echo "  d$j $net.$j { D $net.$j C $net.$j }"; done
    echo "}"
    echo "RuntimeDir = $work/d$i"
    [ -n "${ACCELERATED:-}" ] && echo "AcceleratedRing = true"
    [ -n "${WINDOWS:-}" ] && echo "$WINDOWS"
  } > "$work/d$i/spread.conf"
  (cd "$work/d$i" && SPREAD_SOCKET_DIR="$work/d$i" exec "$bin/spread" -n "d$i" -c spread.conf 2>daemon.log) & pids+=($!)
done
trap 'kill ${pids[*]} 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for i in 1 2 3; do for _ in $(seq 100); do [ -S "$work/d$i/$port" ] && break; sleep 0.05; done; done
sleep 0.5
ticks=$(getconf CLK_TCK)
cpu() { local t=0; for p in "${pids[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; awk -v t="$t" -v k="$ticks" 'BEGIN { printf "%.2f", t / k }'; }
rate() { sed -E 's/.*: ([0-9.]+) msgs\/s.*/\1/'; }
d() { echo "$port@$net.$1"; }

before=$(cpu)
alone=$("$bin/spflooder" -q -u solo -t agreed -m "$count" -b "$size" -s "$(d 1)" | grep msgs/s | rate)
after=$(cpu)
echo "flooder on d1 alone:           $alone msgs/s  (daemons' CPU $(awk -v a="$after" -v b="$before" 'BEGIN{printf "%.2f", a-b}') s for $count messages)"

"$bin/spflooder" -q -u rd -n 2 -ro -m "$count" -b "$size" -s "$(d 3)" > "$work/reader.out" & reader=$!
sleep 0.3
"$bin/spflooder" -q -u wr -n 2 -t agreed -m "$count" -b "$size" -s "$(d 1)" > /dev/null
wait $reader
echo "sender on d1, reader on d3:    $(grep msgs/s "$work/reader.out" | rate) msgs/s (at the reader)"

for i in 1 2 3; do
  "$bin/spflooder" -q -u "m$i" -n 3 -t agreed -m "$count" -b "$size" -s "$(d $i)" > "$work/multi$i.out" &
done
wait %4 %5 %6 2>/dev/null || wait
total=0
for i in 1 2 3; do r=$(grep msgs/s "$work/multi$i.out" | rate); total=$(awk -v a="$total" -v b="$r" 'BEGIN{print a+b}'); done
echo "three senders at once:         $total msgs/s sent in all (each sender reads all three)"

echo "latency, own message back at d1: $("$bin/splatency" -m 5000 -b 100 -s "$(d 1)" 2>/dev/null)"
echo "latency, d1 -> d3 -> d1:         $("$bin/splatency" -m 5000 -b 100 -s "$(d 1)" -r "$(d 3)" 2>/dev/null)"
