#!/usr/bin/env bash
# The main job: a `spread` daemon on its embedded default configuration
# (one daemon "localhost", 127.0.0.1, port 4803, Unix socket /tmp/4803),
# two spuser clients exchanging messages through it, and a spflooder run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p spread-daemon -p spread-tools
bin="$PWD/target/release"
work=$(mktemp -d)
if [ -e /etc/spread.conf ]; then
  echo "note: /etc/spread.conf exists, so the daemon uses it instead of the embedded default" >&2
fi
# Run from an empty directory: no ./spread.conf, so the embedded default.
# Started as root, the daemon gives up root as 5.0.1 does: by default it
# becomes user 'spread' in a chroot at /var/run/spread, which a fresh
# machine has not; the demo names a user and directory that exist instead.
conf=()
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$work"
  printf 'Spread_Segment 127.0.0.255:4803 {\n\tlocalhost 127.0.0.1\n}\nRuntimeDir = %s\nDaemonUser = nobody\nDaemonGroup = %s\n' \
    "$work" "$(id -gn nobody)" > "$work/spread.conf"
  conf=(-c spread.conf)
  echo "note: as root, the daemon runs as user nobody, chrooted to $work"
fi
(cd "$work" && exec "$bin/spread" "${conf[@]}") 2>"$work/daemon.log" & daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 200); do [ -S /tmp/4803 ] && break; sleep 0.05; done
[ -S /tmp/4803 ] || { cat "$work/daemon.log"; echo "the daemon did not start" >&2; exit 1; }
echo "== daemon: $(head -1 "$work/daemon.log")"

echo "== bob joins group 'demo' over the Unix socket and listens"
{ echo "j demo"; sleep 1.5; echo "q"; } | "$bin/spuser" -u bob -s 4803 >"$work/bob.out" &
bob=$!
sleep 0.5
echo "== alice joins 'demo' over TCP and says hello"
{ echo "j demo"; sleep 0.3; printf 's demo\nhello from alice\n'; sleep 0.5; echo "q"; } \
  | "$bin/spuser" -u alice -s 4803@127.0.0.1 >"$work/alice.out"
wait $bob
echo "-- what bob received:"
grep -A1 -E "received SAFE message|membership for group demo|JOIN of" "$work/bob.out"
grep -q "hello from alice" "$work/bob.out" || { echo "bob did not receive alice's message" >&2; exit 1; }

echo "== spflooder: 100000 AGREED messages of 1000 bytes, sent and read back"
"$bin/spflooder" -q -u flooder -t agreed -m 100000 -b 1000 -s 4803
echo "== done"
