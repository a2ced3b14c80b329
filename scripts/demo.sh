#!/usr/bin/env bash
# The main job: a `spread` daemon on its embedded default configuration
# (one daemon "localhost", 127.0.0.1, port 4803, Unix socket /tmp/4803),
# two spuser clients exchanging messages through it, and a spflooder run.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "demo: $*" >&2; exit 1; }

# The embedded default is port 4803 (TCP for clients, UDP 4803-4804 for
# the ring) and the Unix socket /tmp/4803: another daemon there would
# either stop ours or, worse, answer the demo's clients in its place.
if (exec 3<>/dev/tcp/127.0.0.1/4803) 2>/dev/null; then
  fail "port 4803 is in use (another spread daemon?); stop it and run the demo again"
fi
if command -v ss >/dev/null && ss -Hlun 'sport = :4803 or sport = :4804' | grep -q .; then
  fail "UDP port 4803 or 4804 is in use (another spread daemon?); stop it and run the demo again"
fi
if [ -e /tmp/4803 ] && ! rm -f /tmp/4803 2>/dev/null; then
  fail "/tmp/4803 exists and cannot be removed by $(id -un) (left by a daemon of $(stat -c %U /tmp/4803)); remove it as that user or root"
fi

if [ ! -x target/release/spread ]; then
  echo "== building the daemon and the tools (release; a first build takes a few minutes)"
fi
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
# Serving once it says so: its start line names the ports and the socket.
for _ in $(seq 200); do
  kill -0 $daemon 2>/dev/null || break
  grep -q "clients on TCP" "$work/daemon.log" && break
  sleep 0.05
done
started=$(grep "clients on TCP" "$work/daemon.log" || true)
if [ -z "$started" ] || ! kill -0 $daemon 2>/dev/null; then
  cat "$work/daemon.log" >&2
  fail "the daemon did not start: $(tail -1 "$work/daemon.log")"
fi
case "$started" in
  *"/tmp/4803"*) ;;
  *) cat "$work/daemon.log" >&2; fail "the daemon does not hold the Unix socket /tmp/4803" ;;
esac
echo "== daemon: ${started# INFO spread: }"

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
