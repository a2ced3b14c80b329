#!/usr/bin/env bash
# Fuzzes the decoders of network input and a daemon node fed datagrams
# (fuzz/fuzz_targets: daemon_packet, node_datagrams,
# client_wire) for SECONDS each (default 20, or $FUZZ_SECONDS), starting
# from the seed corpus in fuzz/corpus/<target>/. Exits non-zero if a target
# crashes; the input that did it is left in fuzz/artifacts/<target>/ and can
# be replayed with `cargo fuzz run -s none <target> <file>`.
#
#   bash scripts/fuzz.sh [SECONDS]
#
# Installs cargo-fuzz from crates.io if it is missing. libFuzzer needs
# compiler flags of nightly Rust: the nightly toolchain if rustup has one,
# else the default toolchain with RUSTC_BOOTSTRAP=1.
#
# No sanitizer by default (FUZZ_SANITIZER=address to change it): the
# decoders are safe Rust, so ASan would find nothing more and runs ten
# times slower. A panic, an overflow (debug assertions are on), a hang
# (-timeout) or runaway memory all fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-${FUZZ_SECONDS:-20}}"
sanitizer="${FUZZ_SANITIZER:-none}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz (crates.io)"
  cargo install cargo-fuzz --locked -q
fi

toolchain=()
if command -v rustup >/dev/null 2>&1 && rustup toolchain list | grep -q '^nightly'; then
  toolchain=(+nightly)
  echo "== fuzz: nightly toolchain ($(cargo +nightly --version))"
else
  export RUSTC_BOOTSTRAP=1
  echo "== fuzz: no nightly toolchain, $(cargo --version) with RUSTC_BOOTSTRAP=1"
fi

targets=$(cargo "${toolchain[@]}" fuzz list)
start=$(date +%s)
mkdir -p fuzz/target
if ! cargo "${toolchain[@]}" fuzz build -s "$sanitizer" >fuzz/target/build.log 2>&1; then
  grep -v '^ *Compiling ' fuzz/target/build.log | tail -40
  echo "fuzz: build failed" >&2
  exit 1
fi
echo "== fuzz: built $(echo $targets | wc -w) targets in $(($(date +%s) - start)) s"

failed=0
summary=()
for t in $targets; do
  # New inputs go to a corpus under fuzz/target (kept between local runs,
  # ignored by git); the seeds in fuzz/corpus are only read.
  work="fuzz/target/corpus/$t"
  log="fuzz/target/$t.log"
  mkdir -p "$work" "fuzz/artifacts/$t"
  echo "== fuzz $t: ${seconds} s from $(ls "fuzz/corpus/$t" | wc -l) seeds"
  if cargo "${toolchain[@]}" fuzz run -s "$sanitizer" "$t" "$work" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1; then
    status=ok
  else
    status=CRASH
    failed=1
    # The panic message, then libFuzzer's report (input, artifact path).
    awk '/panicked at/ { n = 5 } n > 0 { print; n-- } /ERROR: libFuzzer/ { r = 1 } r' "$log" |
      grep . || tail -40 "$log"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -1)
  line="$t: $status, ${runs:-?} executions (${rate:-?}/s), ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) inputs"
  echo "   $line"
  summary+=("$line")
done

echo "== fuzz summary (${seconds} s per target, sanitizer $sanitizer)"
printf '   %s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  echo "fuzz: a target crashed; the input is in fuzz/artifacts/ (log in fuzz/target/*.log)" >&2
  exit 1
fi
