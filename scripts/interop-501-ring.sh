#!/usr/bin/env bash
# Mixed rings of this daemon and Spread 5.0.1 daemons (a site that upgrades
# one host at a time): two of ours and one 5.0.1, then one of ours and two
# 5.0.1. One client per daemon joins a group and exchanges AGREED, SAFE,
# FIFO and CAUSAL messages; the clients' logs are checked with our EVS
# checker (daemon/examples/interop_501_clients.rs): every client gets every message,
# all see the same memberships and the same total order.
#
# SPREAD_501_PREFIX: a 5.0.1 installation (its sbin/spread is used). Without
# it the script says it skipped and succeeds. Spread 5.0.1 builds from its
# public source (github.com/gor-has/ngspread, tag upstream-spread-5.0.1):
#   ./configure --prefix=/tmp/spread501 CFLAGS=-fcommon && make && make install
#
# As root each daemon runs in its own network namespace, on a veth into one
# bridge (10.77.0.0/24, segment 225.0.0.7), as the recordings in
# shared/spec/vectors-daemon were made; otherwise on 127.1.0.x loopback
# addresses of this host (which needs multicast routed on lo).
#
# SPREAD_INTEROP_COUNT: messages each client sends (default 200).
set -euo pipefail

if [[ -z "${SPREAD_501_PREFIX:-}" ]]; then
    echo "skipped: SPREAD_501_PREFIX not set"
    exit 0
fi
spread501="$SPREAD_501_PREFIX/sbin/spread"
[[ -x "$spread501" ]] || { echo "no 5.0.1 daemon at $spread501" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build -q -p spread-daemon --bin spread
target=${CARGO_TARGET_DIR:-$root/target}
ours="$target/debug/spread"
cargo build -q -p spread-daemon --example interop_501_clients
test_bin="$target/debug/examples/interop_501_clients"
[[ -x "$test_bin" ]] || { echo "the interop clients did not build" >&2; exit 1; }

# Not under /tmp: each daemon in a namespace gets a /tmp of its own, since
# 5.0.1 always puts its Unix socket at /tmp/<port>.
work=$(mktemp -d /var/tmp/spread-interop.XXXXXX)
chmod 755 "$work"
tag=$$
# The 5.0.1 daemon (one static binary) may itself live under /tmp.
cp "$spread501" "$work/spread501"
spread501="$work/spread501"
use_netns=0
[[ $(id -u) -eq 0 ]] && use_netns=1
if [[ $use_netns -eq 1 ]] && ! id spread >/dev/null 2>&1; then
    useradd -r -M -s /usr/sbin/nologin spread
fi

pids=()
namespaces=()
stop_daemons() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    pids=()
}
cleanup() {
    stop_daemons
    for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT

addr() { # the address of daemon $1 (1..3)
    if [[ $use_netns -eq 1 ]]; then echo "10.77.0.$1"; else echo "127.1.0.$1"; fi
}

setup_network() {
    [[ $use_netns -eq 1 ]] || return 0
    local br="sp5br-$tag"
    ip netns add "$br"
    namespaces+=("$br")
    ip -n "$br" link set lo up
    ip -n "$br" link add br0 type bridge mcast_snooping 0
    ip -n "$br" addr add 10.77.0.254/24 dev br0
    ip -n "$br" link set br0 up
    for i in 1 2 3; do
        local ns="sp5d$i-$tag"
        ip netns add "$ns"
        namespaces+=("$ns")
        ip link add "sp5v$i-$tag" type veth peer name "sp5b$i-$tag"
        ip link set "sp5v$i-$tag" netns "$ns"
        ip link set "sp5b$i-$tag" netns "$br"
        ip -n "$ns" link set "sp5v$i-$tag" name eth0
        ip -n "$ns" addr add "10.77.0.$i/24" dev eth0
        ip -n "$ns" link set lo up
        ip -n "$ns" link set eth0 up
        ip -n "$ns" route add 224.0.0.0/4 dev eth0
        ip -n "$br" link set "sp5b$i-$tag" master br0
        ip -n "$br" link set "sp5b$i-$tag" up
    done
}

in_ns() { # runs "$@" in daemon $1's network namespace, with a /tmp of its own (or here)
    local i=$1
    shift
    if [[ $use_netns -eq 1 ]]; then
        ip netns exec "sp5d$i-$tag" unshare --mount --propagation private \
            sh -c 'echo $$ >"$0" && mount -t tmpfs tmpfs /tmp && exec "$@"' "$work/d$i.pid" "$@"
    else
        sh -c 'echo $$ >"$0" && exec "$@"' "$work/d$i.pid" "$@"
    fi
}

write_conf() { # one file per daemon: only RuntimeDir differs (not hashed)
    for d in 1 2 3; do
        local conf="$work/spread-d$d.conf"
        mkdir -p "$work/run$d"
        chmod 1777 "$work/run$d"
        {
            echo "Spread_Segment 225.0.0.7:8803 {"
            for i in 1 2 3; do
                local a
                a=$(addr "$i")
                printf '\td%s\t%s { D %s C %s }\n' "$i" "$a" "$a" "$a"
            done
            echo "}"
            echo "RuntimeDir = $work/run$d"
            echo "DaemonUser = spread"
            echo "DaemonGroup = spread"
        } >"$conf"
        chmod 644 "$conf"
    done
}

# Runs one mixed ring: $1 is three words, "ours" or "501", for d1..d3.
ring() {
    local kinds=($1)
    pids=()
    for i in 1 2 3; do
        local bin=$ours
        [[ ${kinds[$((i - 1))]} == 501 ]] && bin=$spread501
        rm -f "$work/d$i.pid"
        in_ns "$i" "$bin" -n "d$i" -c "$work/spread-d$i.conf" >"$work/d$i-${kinds[$((i - 1))]}.log" 2>&1 &
    done
    # The daemons' own pids (the namespace tools may stay their parents).
    sleep 1
    for i in 1 2 3; do
        [[ -s "$work/d$i.pid" ]] && pids+=("$(cat "$work/d$i.pid")")
    done
    local daemons=""
    for i in 1 2 3; do daemons+="${daemons:+,}8803@$(addr "$i")"; done
    # The ring forms within a few seconds (SEG, GATHER, FORM, EVS).
    sleep 6
    local status=0
    local name="${kinds[0]}-${kinds[1]}-${kinds[2]}"
    local out="$work/clients-$name.log"
    local driver=("$test_bin")
    if [[ $use_netns -eq 1 ]]; then
        driver=(ip netns exec "sp5br-$tag" "${driver[@]}")
    fi
    SPREAD_INTEROP_DAEMONS=$daemons "${driver[@]}" >"$out" 2>&1 || status=$?
    grep -oE 'client #.*|EVS check.*|panicked.*|.*violation.*|.*timed out.*' "$out" || true
    stop_daemons
    if [[ $status -ne 0 ]]; then
        echo "FAILED: ring [d1 d2 d3] = [${kinds[*]}] (logs in $work)"
        return 1
    fi
    echo "passed: ring [d1 d2 d3] = [${kinds[*]}]"
}

setup_network
write_conf
failed=0
ring "ours 501 ours" || failed=1
if [[ $use_netns -eq 1 ]]; then
    ring "501 ours 501" || failed=1
else
    # Two 5.0.1 daemons on one host would share /tmp/8803.
    echo "not run: ring [d1 d2 d3] = [501 ours 501] needs root (network and mount namespaces)"
fi
if [[ $failed -ne 0 ]]; then
    echo "interop with Spread 5.0.1: FAILED (logs in $work)"
    exit 1
fi
echo "interop with Spread 5.0.1: passed (logs in $work)"
