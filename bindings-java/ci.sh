#!/usr/bin/env bash
# CI for the Java binding: builds the native library and the daemon with
# cargo (through Maven), runs the JUnit suite with `mvn verify`, and ends
# with one line: "java: N passed, N failed, N skipped" from Surefire's
# reports. Exits non-zero if the build or any test failed.
#
# Needs JDK 17+, Maven 3.8+ and cargo. CARGO_PROFILE=release tests the
# optimized library (the default here is the faster dev build; `mvn
# package` alone builds release).
set -uo pipefail
cd "$(dirname "$0")"

for tool in java mvn cargo; do
    if ! command -v "$tool" > /dev/null; then
        echo "bindings-java/ci.sh: $tool is not installed (needs JDK 17+, Maven 3.8+, cargo)"
        echo "java: 0 passed, 1 failed, 0 skipped"
        exit 1
    fi
done

profile="${CARGO_PROFILE:-dev}"
outdir=debug
[ "$profile" = release ] && outdir=release

rm -rf target/surefire-reports
# Debian's Maven prints colour resets even in batch mode; they are dropped
# so that the closing line stands alone.
mvn -B -q -Dstyle.color=never verify -Dcargo.profile="$profile" -Dcargo.outdir="$outdir" "$@" 2>&1 |
    sed -u 's/\x1b\[[0-9;]*m//g'
status=${PIPESTATUS[0]}
echo

tests=0 failed=0 skipped=0
shopt -s nullglob
for report in target/surefire-reports/TEST-*.xml; do
    head=$(grep -m1 -o '<testsuite [^>]*>' "$report")
    field() { printf '%s\n' "$head" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
    tests=$((tests + $(field tests)))
    failed=$((failed + $(field failures) + $(field errors)))
    skipped=$((skipped + $(field skipped)))
done
passed=$((tests - failed - skipped))

if [ "$failed" -gt 0 ]; then
    echo "failed tests (details in bindings-java/target/surefire-reports/):"
    grep -l -E '<(failure|error)' target/surefire-reports/TEST-*.xml | sed 's/^/  /'
fi
if [ "$status" -eq 0 ] && [ "$tests" -eq 0 ]; then
    echo "no test report found"
    status=1
fi
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && echo "mvn verify failed (exit $status) outside the tests"
echo "java: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
