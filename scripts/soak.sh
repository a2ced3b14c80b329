#!/usr/bin/env bash
# The soak test's long form (daemon/tests/soak.rs, release builds): three
# daemons, 1,000 sessions joining and leaving 200 groups and sending with
# every service and sizes up to the largest message, one daemon restarted
# every 30 s (SIGTERM or SIGKILL, chosen by the seed) and, as root, a
# daemon's link cut for 10 s every minute (the daemons in network
# namespaces on a bridge). The EVS checker reads every session's log; each
# daemon's RSS after warm-up and at the end is printed and bounded.
#
#   usage: scripts/soak.sh [seconds]   (default 300)
#
# Every SPREAD_SOAK_* variable of daemon/tests/soak.rs may be set:
# SPREAD_SOAK_SESSIONS (1000), SPREAD_SOAK_GROUPS (200), SPREAD_SOAK_RATE
# (messages per second, all sessions: 300), SPREAD_SOAK_RESTART_EVERY (30),
# SPREAD_SOAK_PARTITION_EVERY (60), SPREAD_SOAK_PARTITION_FOR (10),
# SPREAD_SOAK_WARMUP (20), SPREAD_SOAK_SEED (replays a run's choices),
# SPREAD_SOAK_LOOPBACK=1 (loopback as root; without root it is loopback and
# the partitions are reported skipped). The whole output, daemon logs of a
# failure included, is in target/soak-output.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/daemon-user.sh
export SPREAD_SOAK_SECS="${1:-${SPREAD_SOAK_SECS:-300}}"
export SPREAD_SOAK_SESSIONS="${SPREAD_SOAK_SESSIONS:-1000}"
export SPREAD_SOAK_GROUPS="${SPREAD_SOAK_GROUPS:-200}"
export SPREAD_SOAK_RATE="${SPREAD_SOAK_RATE:-300}"
export SPREAD_SOAK_RESTART_EVERY="${SPREAD_SOAK_RESTART_EVERY:-30}"
export SPREAD_SOAK_PARTITION_EVERY="${SPREAD_SOAK_PARTITION_EVERY:-60}"
export SPREAD_SOAK_PARTITION_FOR="${SPREAD_SOAK_PARTITION_FOR:-10}"
export SPREAD_SOAK_WARMUP="${SPREAD_SOAK_WARMUP:-20}"
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target"
out="$target/soak-output.txt"
cargo build --release -q --workspace --bins
status=0
cargo test --release -q -p spread-daemon --test soak -- --nocapture >"$out" 2>&1 || status=$?
# The schedule, the figures, and a failure's reason; not the daemon logs.
grep -E '^(soak|FIGURE)|panicked|EVS violation|problems|memory grew|every log|^test result' "$out" || true
[ "$status" = 0 ] || echo "soak failed: the whole output is in $out" >&2
exit "$status"
