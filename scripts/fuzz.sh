#!/usr/bin/env bash
# Builds every libFuzzer target with clang-14 (-fsanitize=fuzzer,address,
# undefined) and runs each for SECONDS (default 60) on a copy of its seed
# corpus. A crash fails the script and leaves the input in build-fuzz/.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
scripts/install-deps.sh build test
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DGPSRELAY_FUZZ=ON \
  -DGPSRELAY_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --parallel "$(nproc)" --target fuzz_targets

status=0
for target in build-fuzz/tests/fuzz/*_fuzz; do
  name=$(basename "$target" _fuzz)
  work=build-fuzz/corpus/$name
  mkdir -p "$work"
  [ -d "tests/fuzz/corpus/$name" ] && cp -n "tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null || true
  echo "--- $name: ${seconds}s"
  if ! (cd build-fuzz && "../$target" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$name-" "corpus/$name" 2>"$name.log"); then
    echo "fuzz target $name failed; see build-fuzz/$name.log:" >&2
    tail -n 40 "build-fuzz/$name.log" >&2
    status=1
  else
    grep -E '^stat::number_of_executed_units' "build-fuzz/$name.log" || true
  fi
done
exit $status
