#!/usr/bin/env bash
# CI for the Python binding: builds the wheel through pip's PEP 517 path
# (maturin), installs it into a fresh virtual environment with pytest and
# mypy, and runs the suite against real daemons (target/debug/spread).
# Last line: "python: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-}"
[ -x target/debug/spread ] || cargo build -q -p spread-daemon --bins
venv=target/py-ci-venv
rm -rf "$venv" target/wheels
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip >/dev/null
echo "== python: pip wheel ./bindings-python (maturin)"
"$venv/bin/pip" wheel -q --no-deps ./bindings-python -w target/wheels
"$venv/bin/pip" install -q target/wheels/spread_toolkit-*.whl pytest mypy
echo "== python: pytest"
set +e
(cd bindings-python && "../$venv/bin/python" -m pytest -q -p no:cacheprovider -rs tests | tee ../target/python-test-output.txt)
rc=${PIPESTATUS[0]}
set -e
# pytest's closing line, e.g. "39 passed, 1 skipped in 4.21s".
summary=$(grep -E '^=*.* in [0-9.]+s' target/python-test-output.txt | tail -1)
count() { grep -oE "[0-9]+ $1" <<<"$summary" | grep -oE '^[0-9]+' || echo 0; }
failed=$(( $(count failed) + $(count error) ))
echo "python: $(count passed) passed, $failed failed, $(count skipped) skipped"
exit "$rc"
