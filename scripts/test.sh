#!/usr/bin/env bash
# Runs the whole gpsrelay test suite on a fresh Debian 12 machine:
# installs what is missing, builds with warnings as errors, runs the unit
# and integration tests (real redis-server processes started by the test
# fixture on private ports in temp dirs), then the same under
# AddressSanitizer + UndefinedBehaviorSanitizer, then every fuzz target.
#
#   scripts/test.sh                 everything
#   FUZZ_SECONDS=60 scripts/test.sh longer fuzzing
#   SKIP_SANITIZE=1 scripts/test.sh skip the sanitizer build
#   PACKAGE_TEST=1 scripts/test.sh  also build the .deb and test it in a systemd container
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build test

fuzz_seconds=${FUZZ_SECONDS:-${CI:+30}}
fuzz_seconds=${fuzz_seconds:-10}

run_suite() {
  local dir=$1
  shift
  echo "=== build $dir ($*)"
  scripts/build.sh "$dir" -DGPSRELAY_WERROR=ON "$@"
  echo "=== test $dir"
  (cd "$dir" && ctest --output-on-failure --timeout 300)
}

run_suite build
echo "=== lint"
scripts/lint.sh build
echo "=== packaging checks"
scripts/check-packaging.sh
# Optional, ~3 min: build the .deb and test it under a booted systemd
# (skips with a message where the container tool is missing).
if [ -n "${PACKAGE_TEST:-}" ]; then
  echo "=== package build and container test"
  scripts/build-deb.sh
  scripts/test-package.sh
fi
if [ -z "${SKIP_SANITIZE:-}" ]; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-sanitize -DGPSRELAY_SANITIZE=ON
fi

echo "=== fuzz (${fuzz_seconds}s per target)"
scripts/fuzz.sh "$fuzz_seconds"
echo "=== all tests passed"
