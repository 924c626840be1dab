#!/usr/bin/env bash
# Ingest benchmark: wrk (keep-alive, -t2 -c64, a ~200-byte GPS report) against
# gpsrelayd backed by a private redis-server (AOF, fsync every second), and
# the same load against a private nginx answering 'return 200' in the same
# run, as the ceiling this machine's HTTP stack allows. Afterwards it checks
# that the stream holds exactly as many entries as gpsrelayd answered 200.
#
#   scripts/bench.sh                  15 s per run
#   DURATION=30 THREADS=1 scripts/bench.sh
# Everything runs on loopback, on private ports, in a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-15}
threads=${THREADS:-2}
connections=${CONNECTIONS:-64}

scripts/install-deps.sh build bench
scripts/build.sh build >/dev/null

work=$(mktemp -d /tmp/gpsrelay-bench.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(free_port); relay_port=$(free_port); nginx_port=$(free_port)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work" --appendonly yes \
  --appendfsync everysec --save '' --protected-mode no --logfile "$work/redis.log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

cat >"$work/gpsrelay.conf" <<CONF
[http]
listen = 127.0.0.1:$relay_port
threads = $threads
[redis]
address = 127.0.0.1:$redis_port
max_queue_length = 100000000
[log]
level = warning
target = stderr
CONF
build/gpsrelayd -c "$work/gpsrelay.conf" 2>"$work/gpsrelayd.log" &
relay_pid=$!
pids+=($relay_pid)

mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $threads;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)

body='{"device_id":"truck-0042","ts":"2026-11-25T10:15:30.250Z","lat":52.520008,"lon":13.404954,"alt":34.5,"speed_kmh":48.2,"heading":271,"hdop":0.9,"sats":11,"battery":0.87,"ignition":true,"odometer_km":128734.6}'
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'
LUA

for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$relay_port/ready" >/dev/null 2>&1 &&
    curl -s "http://127.0.0.1:$nginx_port/" >/dev/null 2>&1 && break
  sleep 0.1
done

run_wrk() {  # name url
  wrk -t2 -c"$connections" -d3s -s "$work/post.lua" "$2" >/dev/null  # warm-up
  wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/post.lua" "$2" >"$work/$1.wrk"
}
field() { awk -v k="$2" '$1 == k {print $2}' "$work/$1.wrk"; }
rps() { awk '/^Requests\/sec:/ {print $2}' "$work/$1.wrk"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$work/$1.wrk"; }

run_wrk nginx "http://127.0.0.1:$nginx_port/api/gps/reports"
before=$(redis-cli -p "$redis_port" XLEN gps:reports)
run_wrk gpsrelayd "http://127.0.0.1:$relay_port/api/gps/reports"
sleep 0.5
after=$(redis-cli -p "$redis_port" XLEN gps:reports)
metrics=$(curl -s "http://127.0.0.1:$relay_port/metrics")
accepted=$(awk '$1 == "gpsrelay_reports_accepted_total" {print $2}' <<<"$metrics")
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$relay_pid/status")

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load: wrk -t2 -c$connections -d${duration}s keep-alive, ${#body}-byte body; gpsrelayd threads=$threads"
printf '%-10s %12s %10s %10s %10s\n' target req/s p50 p99 non-2xx
for t in nginx gpsrelayd; do
  printf '%-10s %12s %10s %10s %10s\n' "$t" "$(rps $t)" "$(field $t 50%)" "$(field $t 99%)" "$(non2xx $t || true)"
done
ratio=$(awk -v a="$(rps gpsrelayd)" -v b="$(rps nginx)" 'BEGIN {printf "%.2f", a/b}')
echo "gpsrelayd / nginx: $ratio"
echo "gpsrelayd peak RSS: $((rss_kb / 1024)) MiB"
# Every 200 gpsrelayd sent (its own counter, which also covers requests
# still in flight when wrk stopped) must be an entry in the stream.
echo "stream entries added: $((after - before)), 200s sent (gpsrelay_reports_accepted_total, incl. warm-up): $accepted, stream total: $after"
if [ "$after" != "${accepted%.*}" ]; then
  echo "MISMATCH: stream holds $after entries but gpsrelayd answered $accepted reports with 200" >&2
  exit 1
fi
echo "check: stream length equals 200s sent"
