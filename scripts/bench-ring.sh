#!/usr/bin/env bash
# Benchmarks of a 3-daemon ring (release builds), printed as one table:
# a flooder on d1 alone (send + read back), a sender on d1 with its reader
# on d3, one flooder per daemon, round trips d1 -> d3 -> d1 and own
# messages back at d1 (splatency), then the sender/reader pair with 100 B,
# 10 KB and 100 KB messages and with SAFE. Each row: msgs/s, MB/s, p50/p99
# latency where measured, and the daemons' CPU seconds (all three) per
# 100k messages.
#
#   usage: scripts/bench-ring.sh [--netns | --loopback] [messages]   (default 100000)
#
# --netns (the default as root): each daemon in a network namespace of its
# own, on a veth into one bridge (10.79.0.0/24), data to the multicast
# segment address 225.0.9.7: the topology of daemon/tests/link_cut.rs,
# closer to a LAN than loopback. Clients run in their daemon's namespace.
# --loopback (the default otherwise): 127.0.x.1-3 on this host's loopback.
# ACCELERATED=1 turns on AcceleratedRing; WINDOWS='Window = 200' adds lines;
# RING_KEY=1 seals the ring (RingKeyFile, a fresh key) to measure its cost;
# SPREAD_BENCH_DAEMON=path runs another daemon binary (A/B comparisons);
# BENCH_ONLY="latency sizes" runs only those groups of rows (of: flood,
# latency, sizes).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=loopback
[ "$(id -u)" = 0 ] && mode=netns
case "${1:-}" in
  --netns) mode=netns; shift ;;
  --loopback) mode=loopback; shift ;;
esac
count="${1:-100000}"
if [ "$mode" = netns ] && [ "$(id -u)" != 0 ]; then
  echo "--netns needs root (network namespaces)" >&2
  exit 1
fi
cargo build --release -q -p spread-daemon -p spread-tools
bin="$PWD/target/release"
daemon="${SPREAD_BENCH_DAEMON:-$bin/spread}"
. scripts/daemon-user.sh
# Not under /tmp: with --netns the namespaces share the file system, and
# each daemon's socket lives in its own directory.
work=$(mktemp -d /var/tmp/spread-bench.XXXXXX)
chmod 755 "$work"
port=$((20000 + RANDOM % 20000))
tag=$$
pids=()
namespaces=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$mode" = netns ]; then
  net=10.79.0
  segment=225.0.9.7
  hub="spb$tag-hub"
  ip netns add "$hub"; namespaces+=("$hub")
  ip -n "$hub" link set lo up
  ip -n "$hub" link add br0 type bridge mcast_snooping 0
  ip -n "$hub" link set br0 up
  for i in 1 2 3; do
    ns="spb$tag-d$i"
    ip netns add "$ns"; namespaces+=("$ns")
    ip link add "spbv$i-$tag" type veth peer name "spbb$i-$tag"
    ip link set "spbv$i-$tag" netns "$ns"
    ip link set "spbb$i-$tag" netns "$hub"
    ip -n "$ns" link set "spbv$i-$tag" name eth0
    ip -n "$ns" addr add "$net.$i/24" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add 224.0.0.0/4 dev eth0
    ip -n "$hub" link set "spbb$i-$tag" master br0
    ip -n "$hub" link set "spbb$i-$tag" up
  done
  on() { local i=$1; shift; ip netns exec "spb$tag-d$i" "$@"; }
else
  net="127.0.$((100 + RANDOM % 100))"
  segment="$net.255"
  on() { shift; "$@"; }
fi

if [ -n "${RING_KEY:-}" ]; then
  head -c 32 /dev/urandom > "$work/ring.key"
  chmod 600 "$work/ring.key"
fi
for i in 1 2 3; do
  mkdir -p "$work/d$i"; chmod 1777 "$work/d$i"
  {
    echo "Spread_Segment $segment:$port {"
    for j in 1 2 3; do echo "  d$j $net.$j { D $net.$j C $net.$j }"; done
    echo "}"
    echo "RuntimeDir = $work/d$i"
    [ -n "${ACCELERATED:-}" ] && echo "AcceleratedRing = true"
    [ -n "${WINDOWS:-}" ] && echo "$WINDOWS"
    [ -n "${RING_KEY:-}" ] && echo "RingKeyFile = $work/ring.key"
  } > "$work/d$i/spread.conf"
  (cd "$work/d$i" && on "$i" env SPREAD_SOCKET_DIR="$work/d$i" "$daemon" -n "d$i" -c spread.conf 2>daemon.log) &
done
# The daemons' own pids (the namespace tool may stay their parent).
for i in 1 2 3; do
  for _ in $(seq 100); do [ -S "$work/d$i/$port" ] && break; sleep 0.05; done
  [ -S "$work/d$i/$port" ] || { cat "$work/d$i/daemon.log" >&2; echo "d$i did not start" >&2; exit 1; }
done
mapfile -t pids < <(pgrep -f "$daemon -n d[123] -c spread.conf")
[ "${#pids[@]}" = 3 ] || { echo "expected 3 daemons, found ${#pids[@]}" >&2; exit 1; }
for _ in $(seq 100); do grep -q "of 3 daemons" "$work/d1/daemon.log" && break; sleep 0.1; done

ticks=$(getconf CLK_TCK)
cpu_ticks() { local t=0; for p in "${pids[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
d() { echo "$port@$net.$1"; }
rate() { grep msgs/s | sed -E 's/.*: ([0-9.]+) msgs\/s.*/\1/'; }
rows=()
# row NAME MSGS_PER_S BYTES MESSAGES CPU_TICKS [P50/P99]
row() {
  local mbs cpu
  mbs=$(awk -v r="$2" -v b="$3" 'BEGIN { printf "%.1f", r * b / 1e6 }')
  cpu=$(awk -v t="$5" -v k="$ticks" -v n="$4" 'BEGIN { printf "%.2f", t / k * 100000 / n }')
  rows+=("$(printf '| %-40s | %10s | %8s | %-15s | %8s |' "$1" "$(printf '%.0f' "$2")" "$mbs" "${6:--}" "$cpu")")
}

# A flooder on d1 that sends and reads its own messages back.
alone() { # service bytes messages
  local before; before=$(cpu_ticks)
  local r; r=$(on 1 "$bin/spflooder" -q -u solo -t "$1" -m "$3" -b "$2" -s "$(d 1)" | rate)
  row "flooder on d1 alone, $2 B ${1^^}" "$r" "$2" "$3" $(($(cpu_ticks) - before))
}
# A sender on d1, its reader on d3 (the rate the reader saw).
pair() { # service bytes messages
  local before; before=$(cpu_ticks)
  on 3 "$bin/spflooder" -q -u rd -n 2 -ro -m "$3" -b "$2" -s "$(d 3)" > "$work/reader.out" &
  local reader=$!
  sleep 0.3
  on 1 "$bin/spflooder" -q -u wr -n 2 -t "$1" -m "$3" -b "$2" -s "$(d 1)" > /dev/null
  wait $reader
  row "sender d1, reader d3, $2 B ${1^^}" "$(rate < "$work/reader.out")" "$2" "$3" $(($(cpu_ticks) - before))
}
# One flooder per daemon, each reading all three; the sum of their rates.
three() { # bytes messages
  local before; before=$(cpu_ticks)
  local jobs=()
  for i in 1 2 3; do
    on "$i" "$bin/spflooder" -q -u "m$i" -n 3 -t agreed -m "$2" -b "$1" -s "$(d "$i")" > "$work/multi$i.out" &
    jobs+=($!)
  done
  wait "${jobs[@]}"
  local total=0
  for i in 1 2 3; do total=$(awk -v a="$total" -v b="$(rate < "$work/multi$i.out")" 'BEGIN { print a + b }'); done
  row "one flooder per daemon (total), $1 B" "$total" "$1" $((3 * $2)) $(($(cpu_ticks) - before))
}
# splatency: one message in flight; p50/p99 from its line.
latency() { # name messages splatency-args...
  local name=$1 n=$2; shift 2
  local before; before=$(cpu_ticks)
  local start; start=$(date +%s.%N)
  local out; out=$(on 1 "$bin/splatency" -m "$n" -b 100 "$@" 2>/dev/null)
  local secs; secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
  local p50 p99
  p50=$(grep -oE 'p50 [0-9.]+' <<<"$out" | grep -oE '[0-9.]+$')
  p99=$(grep -oE 'p99 [0-9.]+' <<<"$out" | grep -oE '[0-9.]+$')
  row "$name" "$(awk -v n="$n" -v s="$secs" 'BEGIN { print n / s }')" 100 "$n" $(($(cpu_ticks) - before)) "$p50 / $p99 us"
}

only() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }
echo "== 3 daemons, $mode ($net.1-3, segment $segment), $count messages per run${RING_KEY:+, sealed (RingKeyFile)}"
if only flood; then
  alone agreed 1000 "$count"
  pair agreed 1000 "$count"
  three 1000 "$count"
fi
if only latency; then
  latency "round trip d1 -> d3 -> d1, 100 B" 5000 -s "$(d 1)" -r "$(d 3)"
  latency "own message back at d1, 100 B" 5000 -s "$(d 1)"
  # Each message to an idle ring (its token held by the leader, d1).
  latency "own message, idle ring, at d1 (leader)" 300 -s "$(d 1)" -g 20
  latency "own message, idle ring, at d3" 300 -s "$(d 3)" -g 20
fi
if only sizes; then
  pair agreed 100 "$count"
  pair agreed 10000 $((count / 5))
  pair agreed 100000 $((count / 50))
  pair safe 1000 "$count"
fi

printf '| %-40s | %10s | %8s | %-15s | %8s |\n' "run" "msgs/s" "MB/s" "p50 / p99" "CPU s/100k"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..42})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..10})" "$(printf -- '-%.0s' {1..17})" "$(printf -- '-%.0s' {1..10})"
printf '%s\n' "${rows[@]}"
