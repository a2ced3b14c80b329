#!/usr/bin/env bash
# The Python flooder (three APIs) against the Rust spflooder on the same
# release-built daemon in the same run: 1,000-byte AGREED messages, sent
# and read back with a window of 200. Prints msgs/s and the ratio.
#   usage: bindings-python/bench/bench.sh [messages] [runs]   (default 100000 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
count="${1:-100000}"; runs="${2:-3}"
cargo build --release -q -p spread-daemon -p spread-tools
venv=target/py-bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q maturin
rm -rf target/wheels-bench
"$venv/bin/maturin" build -q --release -m bindings-python/Cargo.toml -o target/wheels-bench
"$venv/bin/pip" install -q --force-reinstall target/wheels-bench/*.whl
bin="$PWD/target/release"
. scripts/daemon-user.sh
work=$(mktemp -d); chmod 1777 "$work"
port=$((20000 + RANDOM % 20000))
printf 'Spread_Segment 127.0.0.255:%s {\n\tlocalhost 127.0.0.1\n}\nRuntimeDir = %s\n' "$port" "$work" > "$work/spread.conf"
(cd "$work" && SPREAD_SOCKET_DIR="$work" exec "$bin/spread" -c spread.conf -n localhost 2>"$work/daemon.log") & daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 200); do [ -S "$work/$port" ] && break; sleep 0.05; done
name="$work/$port"
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rust() { "$bin/spflooder" -q -t agreed -m "$count" -b 1000 -s "$name" | sed -nE 's/.*: ([0-9.]+) msgs\/s.*/\1/p'; }
py() { "$venv/bin/python" bindings-python/bench/flooder.py "$name" "$1" "$count" 1000 200 | awk '{ print $2 }'; }
declare -A results
for _ in $(seq "$runs"); do
  results[rust]+="$(rust) "
  for api in classic session aio; do results[$api]+="$(py $api) "; done
done
r=$(tr ' ' '\n' <<<"${results[rust]}" | grep . | median)
printf '%-28s %-12s %s\n' flooder "msgs/s" "of Rust"
printf '%-28s %-12.0f %s\n' "Rust spflooder" "$r" "100%"
for api in classic session aio; do
  v=$(tr ' ' '\n' <<<"${results[$api]}" | grep . | median)
  label=$(case $api in classic) echo "Python Mailbox (SpreadModule)";; session) echo "Python Session";; aio) echo "Python aio.Session";; esac)
  printf '%-28s %-12.0f %.0f%%\n' "$label" "$v" "$(awk -v a="$v" -v b="$r" 'BEGIN { print 100 * a / b }')"
done
echo "($runs runs each, medians; $count messages of 1000 bytes, AGREED, window 200, Unix socket)"
