#!/usr/bin/env bash
# Style gates: clang-format (the checked-in .clang-format) on every C++ file
# and clang-tidy (the checked-in .clang-tidy) on every source file, using
# the compile commands of a configured build directory.
#   scripts/lint.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
[ -f "$dir/compile_commands.json" ] || scripts/build.sh "$dir" >/dev/null

status=0
mapfile -t files < <(git ls-files '*.cc' '*.h')
if ! clang-format --dry-run --Werror "${files[@]}" 2>"$dir/clang-format.log"; then
  echo "clang-format would change:" >&2
  grep -o '^[^:]*' "$dir/clang-format.log" | sort -u >&2
  status=1
fi
mapfile -t sources < <(git ls-files 'src/*.cc')
if ! printf '%s\n' "${sources[@]}" |
     xargs -P "$(nproc)" -n 4 clang-tidy -p "$dir" --quiet --warnings-as-errors='*' \
       >"$dir/clang-tidy.log" 2>&1; then
  echo "clang-tidy findings:" >&2
  grep -E 'warning:|error:' "$dir/clang-tidy.log" | sort -u >&2
  status=1
fi
[ $status -eq 0 ] && echo "lint: clang-format and clang-tidy clean"
exit $status
