#!/usr/bin/env bash
# CI for the Node binding: install (builds the addon with cargo), check that
# the committed native.d.ts is what the Rust definitions generate, type-check
# the TypeScript examples, run the node:test suite against real daemons.
# Needs node >= 18 (the d.ts check needs @napi-rs/cli, node >= 20.17), npm
# and cargo. The last line is always: node: N passed, N failed, N skipped
set -uo pipefail
# One stream, so the summary is the last line whatever the tools print.
exec 2>&1

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$here"

failed_steps=()
step() {
  local name="$1"
  shift
  echo "== node: $name"
  if ! "$@"; then
    echo "== node: $name FAILED"
    failed_steps+=("$name")
    return 1
  fi
}

summary() {
  # node:test's own counts; a step that failed before the suite ran is one
  # failure so the line never reads as a clean run.
  local pass="${1:-0}" fail="${2:-0}" skip="${3:-0}"
  fail=$((fail + ${#failed_steps[@]}))
  echo "node: $pass passed, $fail failed, $skip skipped"
  [ "$fail" -eq 0 ]
}

if [ -z "${SPREAD_DAEMON_BIN:-}" ]; then
  if step "build the daemon" cargo build -q --manifest-path "$repo/Cargo.toml" -p spread-daemon --bins; then
    # Wherever cargo put it (CARGO_TARGET_DIR, a shared target directory).
    target_dir="$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
    export SPREAD_DAEMON_BIN="$target_dir/debug/spread"
  fi
fi

if [ -f package-lock.json ]; then
  step "npm ci (builds the addon)" npm ci --no-audit --no-fund || { summary; exit 1; }
else
  step "npm install (builds the addon)" npm install --no-audit --no-fund || { summary; exit 1; }
fi
step "native.d.ts matches the Rust definitions" node scripts/check-dts.js
step "tsc --strict --noEmit on the TypeScript examples" npx --no-install tsc -p test/types/tsconfig.json

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "== node: npm test"
npm test 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}
count() { sed -n "s/^# $1 \([0-9][0-9]*\)\$/\1/p" "$log" | tail -1; }
pass="$(count pass)"
fail="$(count fail)"
skipped="$(count skipped)"
cancelled="$(count cancelled)"
todo="$(count todo)"
if [ -z "$pass" ]; then
  failed_steps+=("npm test (no node:test summary)")
elif [ "$test_status" -ne 0 ] && [ "${fail:-0}" -eq 0 ] && [ "${cancelled:-0}" -eq 0 ]; then
  failed_steps+=("npm test (exit $test_status)")
fi
fail=$(( ${fail:-0} + ${cancelled:-0} ))
skipped=$(( ${skipped:-0} + ${todo:-0} ))
summary "${pass:-0}" "$fail" "$skipped"
