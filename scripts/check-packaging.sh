#!/usr/bin/env bash
# Fast packaging checks for every CI run (seconds; no package build):
#   - systemd-analyze verify of systemd/gpsrelay.service, offline: the unit
#     is checked inside a scratch root holding the host's systemd units and
#     stand-ins for the binaries it names; any complaint fails;
#   - systemd-analyze security --offline=yes: the exposure level must be at
#     most $MAX_EXPOSURE (default 2.0);
#   - the sysusers.d entry parses (systemd-sysusers into a scratch root);
#   - the man pages: groff -wall and "man --warnings" (what lintian runs)
#     must print nothing.
# Installs systemd, groff and man-db with apt-get if they are missing.
# Prints one line per check; exits 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
unit=systemd/gpsrelay.service

scripts/install-deps.sh packaging

failures=0
ok() { echo "check-packaging: ok   $*"; }
bad() {
  echo "check-packaging: FAIL $*"
  failures=$((failures + 1))
}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gpsrelay-check.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# systemd-analyze verify resolves the unit's dependencies and executables
# under --root, so the scratch root gets the host's units and executable
# stand-ins at the paths the unit names. Man pages are checked below.
verify_root=$scratch/verify
mkdir -p "$verify_root/etc/systemd/system" "$verify_root/lib/systemd"
cp -a /lib/systemd/system "$verify_root/lib/systemd/"
cp "$unit" "$verify_root/etc/systemd/system/"
for exe in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$unit" | sort -u); do
  mkdir -p "$verify_root$(dirname "$exe")"
  printf '#!/bin/sh\n' >"$verify_root$exe"
  chmod 755 "$verify_root$exe"
done
if out=$(systemd-analyze verify --man=no --root="$verify_root" gpsrelay.service 2>&1) &&
  [ -z "$out" ]; then
  ok "systemd-analyze verify $unit"
else
  bad "systemd-analyze verify $unit:"
  sed 's/^/    /' <<<"$out"
fi

# --offline needs systemd >= 250.
if out=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1); then
  level=$(sed -n 's/.*Overall exposure level for gpsrelay.service: \([0-9.]*\).*/\1/p' <<<"$out")
  if [ -z "$level" ]; then
    bad "systemd-analyze security: no 'Overall exposure level' line"
    sed 's/^/    /' <<<"$out" | tail -n 5
  elif awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }'; then
    ok "systemd-analyze security --offline=yes: exposure $level (limit $MAX_EXPOSURE)"
  else
    bad "systemd-analyze security --offline=yes: exposure $level above $MAX_EXPOSURE; failing items:"
    grep '✗' <<<"$out" | sed 's/^/    /'
  fi
else
  bad "systemd-analyze security --offline=yes $unit failed:"
  sed 's/^/    /' <<<"$out" | tail -n 5
fi

mkdir -p "$scratch/sysusers/etc"
if out=$(systemd-sysusers --root="$scratch/sysusers" "$root/systemd/gpsrelay.sysusers" 2>&1) &&
  grep -q '^gpsrelay:' "$scratch/sysusers/etc/passwd" &&
  grep -q '^gpsrelay:' "$scratch/sysusers/etc/group"; then
  ok "systemd-sysusers systemd/gpsrelay.sysusers creates user and group gpsrelay"
else
  bad "systemd-sysusers systemd/gpsrelay.sysusers:"
  sed 's/^/    /' <<<"$out"
fi

for page in man/gpsrelayd.8 man/gpsrelay.conf.5 man/gpsrelayctl.1; do
  if [ ! -f "$page" ]; then
    bad "$page is missing"
    continue
  fi
  # The same invocation as lintian's manpage check, plus groff -wall.
  out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
    man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null || echo "man exited $?")
  out+=$(groff -z -wall -mandoc "$page" 2>&1 || echo "groff exited $?")
  if [ -z "$out" ] && head -n 20 "$page" | grep -q '^\.SH NAME'; then
    ok "man page $page"
  else
    bad "man page $page:"
    sed 's/^/    /' <<<"${out:-no .SH NAME near the top}"
  fi
done

if [ "$failures" -eq 0 ]; then
  echo "check-packaging: all checks passed"
else
  echo "check-packaging: $failures check(s) failed"
  exit 1
fi
