#!/usr/bin/env bash
# Runs every test of the project: formatting and lint gates, then the unit,
# vector-replay and real-process suites (daemons on loopback, real sockets).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
. scripts/daemon-user.sh

# What the tests create in /tmp (directories spread-*, Unix sockets named
# by their port) must be gone when they end.
tmp_entries() { ls -A /tmp 2>/dev/null | grep -E '^(spread|[0-9]+$)' | sort || true; }
tmp_before=$(tmp_entries)

echo "== cargo fmt --check"
cargo fmt --all -- --check
rustfmt --check --edition 2021 fuzz/fuzz_targets/*.rs
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets -q -- -D warnings
echo "== build (binaries used by cross-process tests)"
cargo build --workspace --bins -q
echo "== cargo test"
# Tests that need root are ignored unless asked for; as root (CI) they run.
ignored=()
[ "$(id -u)" = 0 ] && ignored=(-- --include-ignored)
cargo test --workspace -q "${ignored[@]}" 2>&1 | tee target/test-output.txt
# The bindings' own suites, each in its language against real daemons
# (bindings-*/ci.sh; each ends with "<lang>: N passed, N failed, N skipped").
binding_failures=0
: > target/bindings-summary.txt
for ci in bindings-python/ci.sh bindings-node/ci.sh bindings-java/ci.sh; do
  [ -f "$ci" ] || continue
  echo "== $ci"
  if ! bash "$ci" 2>&1 | tee target/binding-output.txt; then
    binding_failures=$((binding_failures + 1))
  fi
  tail -n 1 target/binding-output.txt >> target/bindings-summary.txt
done
# The Debian package: built from the debug build, installed into an empty
# root, its unit's command started there and a C client built against it
# (the parts that need root say skipped otherwise).
echo "== tests/deb/test_deb.py"
if ! python3 tests/deb/test_deb.py 2>&1 | tee target/binding-output.txt; then
  binding_failures=$((binding_failures + 1))
fi
tail -n 1 target/binding-output.txt >> target/bindings-summary.txt
# The decoders of network input under libFuzzer for a few seconds each: in
# CI, or when FUZZ_SECONDS is set (FUZZ_SECONDS=0 skips it).
if [ "${FUZZ_SECONDS:-}" != 0 ] && { [ "${CI:-}" = true ] || [ -n "${FUZZ_SECONDS:-}" ]; }; then
  echo "== fuzz (scripts/fuzz.sh)"
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
cat target/bindings-summary.txt
# An entry named for a process still running (spread-test-<pid>-<n>, ...)
# is another program's at work, not one this run left behind.
left=$(comm -13 <(printf '%s\n' "$tmp_before") <(tmp_entries) | while read -r e; do
  pid=$(sed -nE 's/^spread-[a-z-]*-([0-9]+)(-[0-9]+)?$/\1/p' <<<"$e")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && continue
  printf '%s ' "$e"
done)
if [ -n "$left" ]; then
  echo "left in /tmp by the tests: $left"
  echo "tmp: 0 passed, 1 failed, 0 skipped" >> target/bindings-summary.txt
  binding_failures=$((binding_failures + 1))
fi
# One closing line for the whole run: cargo's counts and the bindings'.
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     /^[a-z]+: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ { p += $2; f += $4; i += $6 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, i }' target/test-output.txt target/bindings-summary.txt
[ "$binding_failures" = 0 ]
