#!/usr/bin/env bash
# Runs gpsrelayd on a fresh Debian 12 machine with everything it needs:
# installs what is missing, builds, then starts in a temp dir on free
# loopback ports a private redis-server (AOF on), a private mariadbd with a
# gpsrelay database, and a sample upstream that prints what it receives;
# writes a config and runs gpsrelayd in the foreground. Ctrl-C stops
# everything and removes the temp dir. Nothing assumes a system service.
#
#   scripts/run.sh                 listen on 127.0.0.1:8080
#   PORT=9000 scripts/run.sh       another port
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build run
scripts/build.sh build >/dev/null

port=${PORT:-8080}
work=$(mktemp -d /tmp/gpsrelay-run.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(free_port)
mysql_port=$(free_port)
upstream_port=$(free_port)
osmand_port=${OSMAND_PORT:-5055}
pids=()
cleanup() {
  # Newest first: gpsrelayd stops before the servers it uses.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
# Exit (and so clean up) on SIGTERM too, not only on Ctrl-C to the group.
trap 'exit 143' TERM
trap 'exit 130' INT
wait_for() {
  for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "run.sh: gave up waiting for: $*" >&2
  exit 1
}

redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work" --appendonly yes \
  --save '' --protected-mode no --daemonize no --logfile "$work/redis.log" &
pids+=($!)

# mariadbd refuses to run as root unless told to; as anyone else it runs as them.
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(--user=root)
mariadb-install-db --no-defaults --datadir="$work/mysql" --auth-root-authentication-method=normal \
  --skip-test-db "${as_user[@]}" >"$work/mariadb-install.log" 2>&1
mariadbd --no-defaults --datadir="$work/mysql" --port="$mysql_port" --bind-address=127.0.0.1 \
  --socket="$work/mysql.sock" --pid-file="$work/mysql.pid" --skip-name-resolve \
  --innodb-buffer-pool-size=32M "${as_user[@]}" >"$work/mariadbd.log" 2>&1 &
pids+=($!)
wait_for mariadb --no-defaults -uroot -S "$work/mysql.sock" -e 'SELECT 1'
mariadb --no-defaults -uroot -S "$work/mysql.sock" -e "
  CREATE DATABASE gpsrelay;
  CREATE USER 'gpsrelay'@'%' IDENTIFIED BY 'sample-password';
  GRANT ALL ON gpsrelay.* TO 'gpsrelay'@'%';"

scripts/sample-upstream.py --port "$upstream_port" --fail-file "$work/upstream-down" &
pids+=($!)
wait_for redis-cli -p "$redis_port" ping
wait_for curl -sf "http://127.0.0.1:$upstream_port/health"

cat >"$work/gpsrelay.conf" <<CONF
[http]
listen = 127.0.0.1:$port
[redis]
address = 127.0.0.1:$redis_port
[forward]
targets = http://127.0.0.1:$upstream_port/ingest
health_path = /health
# Demo only: a refused report is tried three times (now, 1 s later, 2 s
# after that) and stored in MySQL about 3 s after it arrived. With the
# shipped defaults that takes over a minute, and every few refused reports
# open the breaker for 30 s; here it takes 20 failures in a row to open it,
# and it tries again after 2 s, so a handful of reports land within seconds.
retry_delays = 1s,2s
breaker_failures = 20
breaker_cooldown = 2s
[mysql]
host = 127.0.0.1
port = $mysql_port
user = gpsrelay
password = sample-password
database = gpsrelay
[locations]
enabled = true
osmand_listen = 127.0.0.1:$osmand_port
[topics]
enabled = true
[events]
enabled = true
[log]
level = info
target = stderr
CONF

ctl="build/gpsrelayctl -c $work/gpsrelay.conf"
cat <<TXT
gpsrelayd on http://127.0.0.1:$port — Redis 127.0.0.1:$redis_port, MariaDB 127.0.0.1:$mysql_port,
sample upstream 127.0.0.1:$upstream_port; files in $work

Post a report (the upstream prints it):
  curl -si -H 'Content-Type: application/json' \\
       -d '{"device_id":"truck-7","lat":52.52,"lon":13.405,"ts":"2026-11-25T10:00:00Z"}' \\
       http://127.0.0.1:$port/api/gps/reports
Make the upstream fail and post again: the upstream refuses the report three
times (retries after 1 s and 2 s), and about 3 seconds after the post it is in
MySQL:
  touch $work/upstream-down
  curl -si -H 'Content-Type: application/json' \\
       -d '{"device_id":"truck-7","lat":52.53,"lon":13.41,"ts":"2026-11-25T10:01:00Z"}' \\
       http://127.0.0.1:$port/api/gps/reports
  sleep 4; $ctl failed list
Bring the upstream back and replay (the upstream prints it again):
  rm $work/upstream-down
  $ctl failed replay --all
Locations ([locations] is on). A driver app posts its position:
  curl -si -H 'Content-Type: application/json' \\
       -d '{"latitude":52.5163,"longitude":13.3777,"speed":32,"order_id":"order-1"}' \\
       http://127.0.0.1:$port/api/v1/drivers/driver-1/location
Traccar Client or OsmAnd: server URL http://<this host>:$osmand_port (OsmAnd protocol), e.g.
  curl -s "http://127.0.0.1:$osmand_port/?id=phone-2&lat=52.5200&lon=13.4050&speed=12"
Read them back: current, nearby (metres), the order's driver, the route (from MySQL):
  curl -s http://127.0.0.1:$port/api/v1/drivers/driver-1/location
  curl -s "http://127.0.0.1:$port/api/v1/drivers/nearby?lat=52.518&lng=13.39&radius=3000"
  curl -s http://127.0.0.1:$port/api/v1/orders/order-1/driver-location
  curl -s "http://127.0.0.1:$port/api/v1/drivers/driver-1/route?format=geojson"
Watch them on the live map (click a driver for its route of the last hour):
  open http://127.0.0.1:$port/map?lat=52.518&lng=13.39&radius=3000
Follow a driver live (Server-Sent Events; post again in another terminal):
  curl -N -H 'Accept: text/event-stream' http://127.0.0.1:$port/api/v1/drivers/driver-1/location
or over a WebSocket (python3-websockets; type {"action":"subscribe","driver_id":"phone-2"}):
  /usr/bin/python3 -m websockets ws://127.0.0.1:$port/api/v1/orders/order-1/driver-location
Topics ([topics] is on): create one, publish, and have a worker take it:
  curl -s -H 'Content-Type: application/json' -d '{"name":"jobs","partitions":2}' http://127.0.0.1:$port/v1/topics
  curl -s -H 'Content-Type: application/json' -d '{"key":"order-1","value":{"task":"invoice"}}' \
       http://127.0.0.1:$port/v1/topics/jobs/publish
  id=\$(curl -s -H 'Content-Type: application/json' -d '{"topics":["jobs"]}' \
       http://127.0.0.1:$port/v1/groups/workers/join | python3 -c 'import json,sys; print(json.load(sys.stdin)["consumer_id"])')
  curl -s "http://127.0.0.1:$port/v1/groups/workers/poll?consumer_id=\$id&wait=5s"
  (then POST /v1/groups/workers/ack {"consumer_id":"\$id","messages":[{"topic","partition","id"}]};
   unacked it comes again after 30 s, after 3 deliveries it is in jobs.dlq)
Entity events ([events] is on): create or merge an entity (RFC 7396), read it back:
  curl -s -H 'Content-Type: application/json' -d '{"eventHeader":{"uuid":"e-1","eventName":"vehicle.updated",
       "eventType":"update","createdDate":"2026-11-30T08:00:00Z"},"eventBody":{"entities":[{"entityType":"vehicle",
       "entityId":"truck-7","updatedAttributes":{"mileage":1200,"service":{"next":"2027-01-01"}}}]}}' \
       http://127.0.0.1:$port/api/v1/events            # again: "status":"duplicate"
  curl -s http://127.0.0.1:$port/api/v1/entities/vehicle/truck-7
Write-behind values ([events] is on): 202 once in Redis, in MySQL within 2 s:
  curl -si -H 'Content-Type: application/json' -d '{"user_id":"u-1","value":{"score":7}}' \
       http://127.0.0.1:$port/write
  curl -s "http://127.0.0.1:$port/read?user_id=u-1"     # "source":"cache"
  redis-cli -p $redis_port del gpsrelay:values:user:u-1; curl -s "http://127.0.0.1:$port/read?user_id=u-1"   # "source":"mysql"
Queue and targets:  $ctl status
Health and metrics: curl -s http://127.0.0.1:$port/health; curl -s http://127.0.0.1:$port/metrics
Ctrl-C stops everything.
TXT
# In the background and waited for, so that a signal to this script runs
# its traps at once (bash defers them while a foreground child runs).
# The /map page's files from this tree, not an installed package.
GPSRELAY_DATA_DIR="$PWD/share" build/gpsrelayd -c "$work/gpsrelay.conf" &
pids+=($!)
wait "$!"
