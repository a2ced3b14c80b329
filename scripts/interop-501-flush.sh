#!/usr/bin/env bash
# Flush Spread across implementations: one C program written against fl.h
# (scripts/interop/fl_peer.c) is built twice, with Spread 5.0.1's library
# and with ours, and three copies of it (mixed) form a Flush group: on our
# daemon [ours 501 ours], then on a 5.0.1 daemon [501 ours 501]. Each
# member checks views (members, my index, the vs-set at fl.h's offsets),
# that every message arrives in the view it was sent in, and that
# unicasts and subgroupcasts name it; each must get every member's
# messages, leave and disconnect cleanly.
#
# SPREAD_501_PREFIX: a 5.0.1 installation (include/fl.h, lib/libspread,
# sbin/spread). Without it the script says it skipped and succeeds. Spread
# 5.0.1 builds from its public source (github.com/gor-has/ngspread, tag
# upstream-spread-5.0.1):
#   ./configure --prefix=/tmp/spread501 CFLAGS=-fcommon && make && make install
#
# SPREAD_501_SRC: 5.0.1's source tree (optional). Its own examples
# fl_user.c, fl_time_memb.c and sp_time_memb.c are then compiled unchanged
# against our include/ and library, and the two time_memb programs run (a
# load member and a member joining and leaving 20 times) on our daemon.
#
# SPREAD_INTEROP_COUNT: multicasts each member sends (default 200).
set -euo pipefail

if [[ -z "${SPREAD_501_PREFIX:-}" ]]; then
    echo "skipped: SPREAD_501_PREFIX not set"
    exit 0
fi
p501=$SPREAD_501_PREFIX
for f in "$p501/sbin/spread" "$p501/include/fl.h" "$p501/lib/libspread.so"; do
    [[ -e "$f" ]] || { echo "no $f in the 5.0.1 installation" >&2; exit 1; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/daemon-user.sh
. scripts/daemon-user.sh
cargo build -q -p spread-daemon --bin spread -p spread-ffi
target=${CARGO_TARGET_DIR:-$root/target}
count=${SPREAD_INTEROP_COUNT:-200}

work=$(mktemp -d /tmp/spread-fl-interop.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# Our library under the name programs record (its soname), as installed.
ours_lib="$work/lib-ours"
mkdir -p "$ours_lib"
cp "$target/debug/libspread.so" "$ours_lib/libspread.so.3"
ln -s libspread.so.3 "$ours_lib/libspread.so"
cc -std=c11 -Wall -Wextra -Werror -O1 -o "$work/fl_peer_ours" scripts/interop/fl_peer.c \
    -I include -L "$ours_lib" -lspread -lpthread
cc -std=c11 -Wall -Wextra -O1 -o "$work/fl_peer_501" scripts/interop/fl_peer.c \
    -I "$p501/include" -L "$p501/lib" -lspread -lpthread

# One daemon at a time, on a port of its own; as root both give up root
# for the spread user in their own RuntimeDir.
# A port nobody listens on (a collision would look like a failed interop).
port=$((20000 + RANDOM % 20000))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((20000 + RANDOM % 20000)); done
mkdir -p "$work/run"
chmod 1777 "$work/run"
cat >"$work/spread.conf" <<CONF
Spread_Segment 127.0.0.255:$port {
	localhost 127.0.0.1
}
RuntimeDir = $work/run
DaemonUser = spread
DaemonGroup = spread
CONF
chmod 644 "$work/spread.conf"

peer() { # kind (ours|501), user
    local lib=$ours_lib
    [[ $1 == 501 ]] && lib="$p501/lib"
    LD_LIBRARY_PATH=$lib "$work/fl_peer_$1" "$port@127.0.0.1" "$2" flg 3 "$count"
}

# Runs one group: $1 the daemon (ours|501), $2 three peer kinds.
group() {
    local daemon=$1 kinds=($2)
    local bin="$target/debug/spread"
    [[ $daemon == 501 ]] && bin="$p501/sbin/spread"
    SPREAD_SOCKET_DIR=$work/run "$bin" -n localhost -c "$work/spread.conf" >"$work/daemon-$daemon.log" 2>&1 &
    local dpid=$!
    pids=("$dpid")
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    local ppids=() status=0 i=0
    for k in "${kinds[@]}"; do
        i=$((i + 1))
        peer "$k" "p$i$k" >"$work/peer$i-$k-on-$daemon.log" 2>&1 &
        ppids+=($!)
        sleep 0.2 # joins one after the other: views of 1, 2, 3
    done
    for p in "${ppids[@]}"; do wait "$p" || status=1; done
    kill "$dpid" 2>/dev/null || true
    wait "$dpid" 2>/dev/null || true
    pids=()
    i=0
    for k in "${kinds[@]}"; do
        i=$((i + 1))
        grep -hE '^done|^fl_peer' "$work/peer$i-$k-on-$daemon.log" | sed "s/^/  [$k lib] /" || true
    done
    if [[ $status -ne 0 ]]; then
        echo "FAILED: Flush peers [${kinds[*]}] on the $daemon daemon (logs in $work)"
        return 1
    fi
    echo "passed: Flush peers [${kinds[*]}] on the $daemon daemon"
}

# 5.0.1's own examples, unchanged, against our headers and library.
examples() {
    local ex=$SPREAD_501_SRC/examples
    for f in fl_user fl_time_memb sp_time_memb; do
        cc -w -o "$work/$f" "$ex/$f.c" "$ex/stats.c" -I include -I "$ex" \
            -L "$ours_lib" -lspread -lpthread -lm || { echo "FAILED: $f.c does not build against include/"; return 1; }
    done
    SPREAD_SOCKET_DIR=$work/run "$target/debug/spread" -n localhost -c "$work/spread.conf" >"$work/daemon-examples.log" 2>&1 &
    pids=($!)
    sleep 0.5
    local status=0
    for t in fl_time_memb sp_time_memb; do
        # -S is both the group size for the statistics and the user name.
        LD_LIBRARY_PATH=$ours_lib timeout 60 "$work/$t" -S 3 -s "$port@127.0.0.1" -g "tm$t" -t 0 20 -f >"$work/$t-load.log" 2>&1 &
        local load=$!
        sleep 0.3
        LD_LIBRARY_PATH=$ours_lib timeout 60 "$work/$t" -S 2 -s "$port@127.0.0.1" -g "tm$t" -t 1 20 -f >"$work/$t-delta.log" 2>&1 || status=1
        wait "$load" || status=1
        grep -E '_Join:|_Leave:' "$work/$t-delta.log" | sed "s/^/  [$t] /" || true
        grep -q 'Success' "$work/$t-load.log" || status=1
    done
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    pids=()
    if [[ $status -ne 0 ]]; then
        echo "FAILED: 5.0.1's time_memb examples on our library (logs in $work)"
        return 1
    fi
    echo "passed: 5.0.1's fl_user.c, fl_time_memb.c, sp_time_memb.c build unchanged; the time_memb pairs run"
}

failed=0
if [[ -n "${SPREAD_501_SRC:-}" ]]; then
    examples || failed=1
else
    echo "not run: 5.0.1's own examples (SPREAD_501_SRC not set)"
fi
group ours "ours 501 ours" || failed=1
group 501 "501 ours 501" || failed=1
if [[ $failed -ne 0 ]]; then
    echo "Flush interop with Spread 5.0.1: FAILED (logs in $work)"
    exit 1
fi
echo "Flush interop with Spread 5.0.1: passed"
rm -rf "$work"
