#!/usr/bin/env bash
# Runs gpsrelayd on a fresh Debian 12 machine with everything it needs:
# installs what is missing, builds, starts a private redis-server (temp dir,
# free port, AOF on), writes a sample config and runs gpsrelayd in the
# foreground. Ctrl-C stops both and removes the temp dir.
#
#   scripts/run.sh                 listen on 127.0.0.1:8080
#   PORT=9000 scripts/run.sh       another port
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build run
scripts/build.sh build >/dev/null

port=${PORT:-8080}
work=$(mktemp -d /tmp/gpsrelay-run.XXXXXX)
redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work" --appendonly yes \
  --save '' --protected-mode no --daemonize no --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

cat >"$work/gpsrelay.conf" <<CONF
[http]
listen = 127.0.0.1:$port
[redis]
address = 127.0.0.1:$redis_port
[log]
level = info
target = stderr
CONF

cat <<TXT
gpsrelayd on http://127.0.0.1:$port  (Redis on 127.0.0.1:$redis_port, files in $work)
Post a report:
  curl -si -H 'Content-Type: application/json' \\
       -d '{"device_id":"truck-7","lat":52.52,"lon":13.405,"ts":"2026-11-25T10:00:00Z"}' \\
       http://127.0.0.1:$port/api/gps/reports
See it in the stream:  redis-cli -p $redis_port XRANGE gps:reports - +
Health and metrics:    curl -s http://127.0.0.1:$port/health; curl -s http://127.0.0.1:$port/metrics
Ctrl-C stops.
TXT
build/gpsrelayd -c "$work/gpsrelay.conf"
