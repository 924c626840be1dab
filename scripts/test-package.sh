#!/usr/bin/env bash
# Installs the gpsrelay .deb into a booted Debian 12 (systemd as PID 1, in a
# systemd-nspawn container from ../shared/tools/systemd-container.sh) and
# checks the service as an operator would use it: install, READY only after
# Redis, ingest, journal fields, reload, watchdog restart, clean stop,
# upgrade restart, removal and purge. Prints PASS/FAIL per check and
# "N passed, N failed" at the end; exits non-zero if any check failed.
#
#   scripts/test-package.sh [path/to/gpsrelay_VERSION_ARCH.deb]
#
# Without an argument it uses dist/gpsrelay_<version>_<arch>.deb and builds
# it first (scripts/build-deb.sh) if it is missing. Skips (exit 0) with a
# message when the container tool is absent.
#
# Each run boots a fresh copy of the base container, so nothing is left
# over from an earlier run. The container shares the host's network: Redis
# inside listens on 127.0.0.1:$REDIS_PORT (default 16379) and gpsrelayd on
# 127.0.0.1:$HTTP_PORT (default 18080); the host's curl talks to it.
# Needs root (systemd-nspawn). Takes about a minute once the base exists;
# creating the base the first time costs ~90 s more (debootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

tool=${SYSTEMD_CONTAINER_TOOL:-$root/../shared/tools/systemd-container.sh}
if [ ! -x "$tool" ]; then
  echo "test-package.sh: SKIP: $tool is not here; the package test needs a booted systemd"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test-package.sh: must run as root (systemd-nspawn)" >&2
  exit 2
fi

REDIS_PORT=${REDIS_PORT:-16379}
HTTP_PORT=${HTTP_PORT:-18080}
base=${CONTAINER_BASE:-/var/lib/machines/gpsrelay-test}
run_dir=${base}-run
name=gpsrelay-pkgtest

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=${1:-dist/gpsrelay_${version}_${arch}.deb}
if [ ! -f "$deb" ] && [ $# -eq 0 ]; then
  echo "test-package.sh: $deb is missing; building it" >&2
  scripts/build-deb.sh
fi
[ -f "$deb" ] || { echo "test-package.sh: no package at $deb" >&2; exit 2; }

missing=()
for pkg in curl python3; do
  command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for port in "$REDIS_PORT" "$HTTP_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "test-package.sh: port $port is in use on this host; set REDIS_PORT/HTTP_PORT" >&2
    exit 2
  fi
done

trap 'echo "test-package.sh: a setup step failed (line $LINENO); see above" >&2' ERR
passed=0
failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() {  # check "description" command...
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
inside() { "$tool" exec "$name" "$@"; }
# apt_inside ARGS...: apt-get inside, printing only the lines about gpsrelay.
apt_inside() {
  local out rc=0
  out=$(inside env DEBIAN_FRONTEND=noninteractive \
    apt-get -y -o DPkg::Lock::Timeout=120 "$@" 2>&1) || rc=$?
  grep -E '^(Setting up gpsrelay|Creating (user|group)|Created symlink|Removed|Removing gpsrelay|Purging)|^E:' \
    <<<"$out" | sed 's/^/   /' || true
  [ $rc -eq 0 ] || tail -n 20 <<<"$out" | sed 's/^/   /' >&2
  return $rc
}
prop() { inside systemctl show -p "$1" --value gpsrelay.service; }
# wait_for SECONDS command...: polls every 0.2 s until the command succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}
state_is() { [ "$(prop ActiveState)" = "$1" ]; }
journal_json() { inside journalctl -u gpsrelay.service -o json --no-pager; }

echo "== container: base $base, fresh copy $run_dir"
"$tool" create "$base"
rm -rf "$run_dir"
cp -a "$base" "$run_dir"
cleanup() {
  "$tool" stop "$name" >/dev/null 2>&1 || true
  rm -rf "$run_dir"
}
trap cleanup EXIT
# The tool's boot can give up at once when it looks for the container's
# leader before systemd-nspawn has forked it ("ps --ppid" finds nothing and
# "set -e -o pipefail" ends the script without a message). Power that
# attempt off and boot again.
for attempt in 1 2 3 4 5; do
  if "$tool" boot "$run_dir" "$name"; then break; fi
  echo "test-package.sh: boot attempt $attempt failed; retrying" >&2
  nspawn_pid=$(cat "/run/systemd-container/$name.nspawn" 2>/dev/null || true)
  "$tool" stop "$name" >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do  # until that systemd-nspawn is gone (or a zombie)
    [ -n "$nspawn_pid" ] && [[ "$(ps -o stat= -p "$nspawn_pid" 2>/dev/null)" == [^Z]* ]] || break
    sleep 0.5
  done
  [ "$attempt" -lt 5 ] || { echo "test-package.sh: the container did not boot" >&2; exit 1; }
done

echo "== Redis from Debian, on 127.0.0.1:$REDIS_PORT (not started by its package)"
inside sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
apt_inside -qq update
apt_inside -qq install --no-install-recommends redis-server
inside sed -i -e "s/^port 6379/port $REDIS_PORT/" -e 's/^bind .*/bind 127.0.0.1/' \
  /etc/redis/redis.conf
inside rm -f /usr/sbin/policy-rc.d
inside systemctl stop redis-server.service

echo "== install $deb"
"$tool" copy "$name" "$deb" /root/gpsrelay.deb
check "apt-get install of the .deb succeeds" apt_inside install /root/gpsrelay.deb
has_user() { inside getent passwd gpsrelay >/dev/null && inside getent group gpsrelay >/dev/null; }
check "system user and group gpsrelay exist" has_user
check "/etc/gpsrelay/gpsrelay.conf is 640 root:gpsrelay, /etc/gpsrelay 750 root:gpsrelay" \
  test "$(inside stat -c '%a %U:%G' /etc/gpsrelay/gpsrelay.conf /etc/gpsrelay | tr '\n' ' ')" \
  = "640 root:gpsrelay 750 root:gpsrelay "
check "gpsrelay.service is enabled" test "$(inside systemctl is-enabled gpsrelay.service)" = enabled
check "gpsrelay.service is not started by the installation" state_is inactive
check "man pages are installed" inside test -f /usr/share/man/man8/gpsrelayd.8.gz \
  -a -f /usr/share/man/man5/gpsrelay.conf.5.gz -a -f /usr/share/man/man1/gpsrelayctl.1.gz
check "the /map page and Leaflet (libjs-leaflet, a dependency) are installed" \
  inside test -f /usr/share/gpsrelay/map/index.html -a -f /usr/share/gpsrelay/map/map.js \
  -a -f /usr/share/javascript/leaflet/leaflet.js
check "the gRPC .proto files are installed" \
  inside test -f /usr/share/gpsrelay/proto/gpsrelay/topics/v1/topics.proto \
  -a -f /usr/share/gpsrelay/proto/gpsrelay/events/v1/events.proto

inside sh -c "cat >>/etc/default/gpsrelay <<EOF
GPSRELAY_REDIS_ADDRESS=127.0.0.1:$REDIS_PORT
GPSRELAY_HTTP_LISTEN=127.0.0.1:$HTTP_PORT
GPSRELAY_HTTP_THREADS=2
GPSRELAY_LOG_LEVEL=debug
EOF"

echo "== start with Redis down: the unit must stay 'activating' until Redis answers"
waiting_for_redis() { [[ "$(prop StatusText)" == "Waiting for Redis"* ]]; }
inside systemctl start --no-block gpsrelay.service
sleep 3
check "without Redis the unit is still activating after 3 s (no READY yet)" state_is activating
echo "   StatusText: $(prop StatusText)"
check "STATUS= says it is waiting for Redis" waiting_for_redis
redis_started_us=$(inside date +%s%6N)
inside systemctl start redis-server.service
check "once Redis runs the unit becomes active within 10 s" wait_for 10 state_is active
echo "   StatusText: $(prop StatusText)"
ready_us=$(journal_json | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e.get("MESSAGE") == "ready":
        print(e["__REALTIME_TIMESTAMP"])
        break')
check "the daemon logged 'ready' only after Redis was started" \
  test "${ready_us:-0}" -gt "$redis_started_us"
pid=$(prop MainPID)

echo "== sandbox of the running daemon (pid $pid)"
proc_status=$(inside cat "/proc/$pid/status")
field() { awk -v k="$1:" '$1 == k {print $2}' <<<"$proc_status"; }
uid=$(field Uid)
check "runs as user gpsrelay" test "$uid" = "$(inside id -u gpsrelay)"
check "no effective capabilities" test "$(field CapEff)" = 0000000000000000
check "empty capability bounding set" test "$(field CapBnd)" = 0000000000000000
check "NoNewPrivs is set" test "$(field NoNewPrivs)" = 1
check "a seccomp filter is active" test "$(field Seccomp)" = 2
score=$(inside systemd-analyze security gpsrelay.service --no-pager 2>/dev/null |
  sed -n 's/.*Overall exposure level for gpsrelay.service: \([0-9.]*\).*/\1/p')
echo "   systemd-analyze security (installed unit, online): ${score:-?}"
check "the installed unit's exposure level is at most 2.0" \
  python3 -c "import sys; sys.exit(not float('${score:-99}') <= 2.0)"

echo "== ingest"
body='{"device_id":"t1","lat":1.0,"lon":2.0,"ts":1700000000}'
post() {  # post REQUEST_ID BODY -> "CODE BODY"
  curl -sS -o /dev/stdout -w ' %{http_code}' -H 'Content-Type: application/json' \
    -H "X-Request-ID: $1" --data "$2" "http://127.0.0.1:$HTTP_PORT/api/gps/reports" || true
}
answer=$(post pkgtest-ok "$body")
echo "   POST /api/gps/reports -> $answer"
check "POST /api/gps/reports answers 200" test "${answer##* }" = 200
check "the answer is {\"status\":\"ok\",...}" grep -q '"status":"ok"' <<<"$answer"
check "the report is in the Redis stream" \
  test "$(inside redis-cli -p "$REDIS_PORT" XLEN gps:reports)" -ge 1
answer=$(post pkgtest-bad '{"lat":')
echo "   POST malformed JSON -> $answer"
check "malformed JSON answers 400" test "${answer##* }" = 400
check "/ready answers 200" \
  test "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/ready")" = 200

echo "== journal"
sleep 0.5
fields=$(journal_json | python3 -c '
import json, sys
entries = [json.loads(l) for l in sys.stdin]
daemon = [e for e in entries if e.get("SYSLOG_IDENTIFIER") == "gpsrelayd"]
print("entries=%d" % len(daemon))
print("all_priority=%s" % (bool(daemon) and all("PRIORITY" in e for e in daemon)))
print("request_id=%s" % any(e.get("REQUEST_ID") == "pkgtest-bad" and e.get("PRIORITY") == "7"
                            for e in daemon))
print("fields=%s" % ",".join(sorted({k for e in daemon for k in e
                                      if not k.startswith("_") and k.isupper()})))')
echo "   $(tr '\n' ' ' <<<"$fields")"
check "gpsrelayd writes native journal entries, each with PRIORITY" \
  grep -q '^all_priority=True' <<<"$fields"
check "the rejected request is logged at debug (PRIORITY=7) with REQUEST_ID" \
  grep -q '^request_id=True' <<<"$fields"
journal_has() { inside journalctl -u gpsrelay.service --no-pager -o cat | grep -qi "$1"; }

echo "== reload"
check "systemctl reload succeeds" inside systemctl reload gpsrelay.service
sleep 1
same_pid_active() { state_is active && [ "$(prop MainPID)" = "$pid" ]; }
check "after reload the unit is active with the same MainPID ($pid)" same_pid_active
check "the daemon logged the reload" journal_has 'configuration reloaded'

echo "== a failed delivery is logged with MESSAGE_ID, REQUEST_ID and TARGET"
# localhost:1 refuses connections; no retries. The name also shows that
# resolving works without AF_NETLINK (RestrictAddressFamilies=). The packet
# then waits for MySQL (absent here), which is fine for this check.
inside sh -c "cat >>/etc/default/gpsrelay <<EOF
GPSRELAY_FORWARD_TARGETS=http://localhost:1/gps
GPSRELAY_FORWARD_RETRY_DELAYS=
EOF"
inside systemctl restart gpsrelay.service
answer=$(post pkgtest-fwd "$body")
check "with a forwarding target, POST still answers 200" test "${answer##* }" = 200
delivery_error() {
  journal_json | python3 -c '
import json, sys
for e in map(json.loads, sys.stdin):
    if (e.get("REQUEST_ID") == "pkgtest-fwd" and "MESSAGE_ID" in e and
            e.get("TARGET") == "http://localhost:1/gps" and e.get("PRIORITY") == "4"):
        print("MESSAGE_ID=%s ERROR=%s" % (e["MESSAGE_ID"], e.get("ERROR")))
        sys.exit(0)
sys.exit(1)'
}
delivery_logged() { delivery_error >/dev/null; }
check "the failed attempt is a warning with MESSAGE_ID, REQUEST_ID and TARGET" \
  wait_for 10 delivery_logged
error=$(delivery_error || true)
echo "   $error"
check "the target's host name was resolved (the error is not a resolver error)" \
  eval '[ -n "$error" ] && ! grep -qi resolve <<<"$error"'

echo "== watchdog: WatchdogSec=3s via a drop-in, then SIGSTOP"
inside mkdir -p /etc/systemd/system/gpsrelay.service.d
inside sh -c 'printf "[Service]\nWatchdogSec=3s\n" >/etc/systemd/system/gpsrelay.service.d/test-watchdog.conf'
inside systemctl daemon-reload
inside systemctl restart gpsrelay.service
pid=$(prop MainPID)
restarts=$(prop NRestarts)
inside kill -STOP "$pid"
restarted() { local p; p=$(prop MainPID); [ "$p" != "$pid" ] && [ "$p" != 0 ] && state_is active; }
check "a stopped daemon misses the watchdog and is restarted within 40 s" wait_for 40 restarted
echo "   NRestarts: $restarts -> $(prop NRestarts), MainPID: $pid -> $(prop MainPID)"
check "NRestarts increased" test "$(prop NRestarts)" -gt "$restarts"
check "the journal records the watchdog timeout" journal_has 'watchdog timeout'
inside rm -rf /etc/systemd/system/gpsrelay.service.d
inside systemctl daemon-reload
inside systemctl restart gpsrelay.service

echo "== stop"
t0=$SECONDS
check "systemctl stop succeeds" inside systemctl stop gpsrelay.service
echo "   stop took $((SECONDS - t0)) s; Result=$(prop Result) ExecMainStatus=$(prop ExecMainStatus)"
check "stop is clean: Result=success" test "$(prop Result)" = success
check "stop is clean: exit status 0" test "$(prop ExecMainStatus)" = 0

# gpsrelayctl as an operator runs it: root, with the daemon's overrides.
ctl_status() {
  local out rc=0
  out=$(inside sh -c 'set -a; . /etc/default/gpsrelay; set +a; gpsrelayctl --json status' 2>&1) ||
    rc=$?
  echo "   gpsrelayctl --json status: exit $rc, queue length $(python3 -c '
import json, sys
try: print(json.loads(sys.stdin.read())["queue"]["length"])
except Exception as e: print("?", e)' <<<"$out")"
  { [ $rc -eq 0 ] || [ $rc -eq 2 ]; } && grep -q '"length"' <<<"$out"
}

echo "== upgrade (reinstall): a running service is restarted"
inside systemctl start gpsrelay.service
pid=$(prop MainPID)
apt_inside install --reinstall /root/gpsrelay.deb
new_pid_active() { state_is active && [ "$(prop MainPID)" != "$pid" ]; }
check "reinstalling restarts the running service (active, new MainPID)" new_pid_active
check "the administrator's /etc/default/gpsrelay survived" \
  inside grep -q "^GPSRELAY_HTTP_LISTEN=127.0.0.1:$HTTP_PORT" /etc/default/gpsrelay
check "gpsrelayctl status reads the queue (exit 0, or 2 for the absent MySQL)" \
  ctl_status

echo "== remove and purge"
apt_inside remove gpsrelay
no_daemon() { ! inside pgrep -x gpsrelayd >/dev/null; }
check "apt-get remove stops the service" no_daemon
check "apt-get purge succeeds" apt_inside purge gpsrelay
check "purge removed /etc/gpsrelay and /etc/default/gpsrelay" \
  inside sh -c '! test -e /etc/gpsrelay && ! test -e /etc/default/gpsrelay'
check "purge removed the unit and its enablement symlink" \
  inside sh -c '! test -e /lib/systemd/system/gpsrelay.service && ! test -e /etc/systemd/system/multi-user.target.wants/gpsrelay.service'
check "purge removed the statoverrides" \
  inside sh -c '! dpkg-statoverride --list | grep -q gpsrelay'
check "the gpsrelay user and group are kept after purge (Debian practice)" has_user

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
