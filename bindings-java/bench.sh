#!/usr/bin/env bash
# Throughput of the Java binding against the Rust spflooder, on one daemon
# in one run: 1,000-byte AGREED messages, each flooder sending and reading
# back its own (a window of 200 in flight). The two alternate, ROUNDS times
# each; the table shows every round and the medians.
#
#   bash bindings-java/bench.sh            # 100,000 messages x 5 rounds
#   MESSAGES=20000 ROUNDS=3 bash bindings-java/bench.sh
#
# Builds what it needs in release (slow the first time on 2 cores).
set -euo pipefail
cd "$(dirname "$0")"
ws=$(cd .. && pwd)
MESSAGES=${MESSAGES:-100000}
ROUNDS=${ROUNDS:-5}
WARMUP=${WARMUP:-20000}

cargo build -q --release -p spread-tools -p spread-daemon -p spread-jni --manifest-path "$ws/Cargo.toml"
mvn -B -q -Dstyle.color=never -DskipTests package

. "$ws/scripts/daemon-user.sh"
dir=$(mktemp -d); chmod 1777 "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'Spread_Segment 127.0.0.255:%s {\n\tlocalhost 127.0.0.1\n}\nRuntimeDir = %s\n' "$port" "$dir" > "$dir/spread.conf"
(cd "$dir" && SPREAD_SOCKET_DIR="$dir" exec "$ws/target/release/spread" -n localhost -c spread.conf 2> "$dir/daemon.log") &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
done

rate() { sed -n 's/.*: \([0-9.]*\) msgs\/s.*/\1/p' | tail -1; }
cp="target/classes:target/test-classes"
rust=() java=()
for r in $(seq "$ROUNDS"); do
    rust+=("$("$ws/target/release/spflooder" -q -t agreed -b 1000 -m "$MESSAGES" -s "$port@127.0.0.1" \
        -u rf$r -g bench$r | rate)")
    java+=("$(java -cp "$cp" spread.Flooder -t agreed -b 1000 -m "$MESSAGES" -warmup "$WARMUP" \
        -s "$port@127.0.0.1" -u jf$r -g bench$r | rate)")
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '\n%d x %d messages of 1,000 bytes, AGREED, send and read back (window 200); Java warmed up with %d\n\n' \
    "$ROUNDS" "$MESSAGES" "$WARMUP"
printf '| round | spflooder (Rust) msgs/s | spread.Flooder (Java) msgs/s | Java / Rust |\n|---|---|---|---|\n'
for i in "${!rust[@]}"; do
    printf '| %d | %.0f | %.0f | %.0f%% |\n' $((i + 1)) "${rust[$i]}" "${java[$i]}" \
        "$(awk -v j="${java[$i]}" -v r="${rust[$i]}" 'BEGIN {print 100 * j / r}')"
done
mr=$(median "${rust[@]}") mj=$(median "${java[@]}")
printf '| median | %.0f | %.0f | %.0f%% |\n' "$mr" "$mj" "$(awk -v j="$mj" -v r="$mr" 'BEGIN {print 100 * j / r}')"
