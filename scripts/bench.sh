#!/usr/bin/env bash
# Benchmarks of gpsrelayd on this machine; everything runs on loopback, on
# private ports, in a temp dir, and is measured, never asserted by tests.
#
#   scripts/bench.sh [ingest|tls|idempotency|e2e|drain|memory|locations|live|topics|events|ha|micro|all]
#   (default: all)
#
# ingest  wrk (keep-alive, -t2 -c64, a ~200-byte GPS report) against
#         gpsrelayd backed by a private redis-server (AOF, fsync every
#         second), and the same load against nginx answering 'return 200'
#         in the same run, as the ceiling this machine's HTTP stack allows.
#         Checks that the stream holds exactly as many entries as 200s sent;
#         reports gpsrelayd's CPU time (user + system) per request.
# tls     the ingest load over HTTPS (keep-alive, TLS 1.3, P-256 key)
#         against gpsrelayd's tls_listen and nginx terminating TLS with
#         'return 200', plus plain ingest with auth.mode = token, to show
#         what checking a device token costs; gpsrelayd's CPU per request
#         for each of its three loads.
# idempotency
#         the ingest load with a unique Idempotency-Key on every request
#         (one EVALSHA: GET + XADD + SET PX) against the same load with an
#         ordinary header of about the same size instead (a plain XADD),
#         same daemon, same run; both from a wrk request() function, so
#         wrk's cost is the same. CPU per request of gpsrelayd and of Redis
#         for each. Checks the stream length against the 200s sent, one key
#         per keyed 200 and no replays; reports Redis used_memory, the
#         stream's MEMORY USAGE and so the bytes per key, since every key
#         stays for redis.idempotency_ttl (24 h by default).
# e2e     the same wrk load while gpsrelayd forwards to two nginx upstreams
#         ('return 200'): accepted/s, delivered/s, end-to-end latency
#         (stream id time, i.e. the XADD, to the upstream's receipt, from
#         nginx's access log), backlog when the load stops, RSS.
# drain   200,000 reports queued before gpsrelayd starts; how fast it
#         delivers them to the two upstreams. FORWARD_THREADS sets
#         forward.threads here and in e2e (default 0: one loop per CPU);
#         FORWARD_HTTP2 sets forward.http2 (default off), FORWARD_BATCH
#         forward.batch_max (default 1); UPSTREAM_TLS=1 makes the two
#         upstreams HTTPS (TLS 1.3, offering h2 and http/1.1 by ALPN), the
#         only way to HTTP/2 with Debian 12's libcurl (see forward.http2).
#         PROFILE=perf (or strace) profiles 4 s of the drain from 1 s after
#         the start (use DRAIN_COUNT=1000000 so it is still running).
# memory  300 connections each send the headers of a 1 MiB upload and
#         1,000,000 bytes of its body, and hold (scripts/bench-held-uploads.py;
#         http.request_timeout = 60s so the deadline does not end them):
#         gpsrelayd's VmRSS/VmHWM at that point, how many got 503, and VmRSS
#         2 s after all are closed. Once per http.max_inflight_bytes value in
#         MAX_INFLIGHT (default "256m"; "-" leaves the key out, for a daemon
#         older than it).
#
# locations
#         the location service (issue 11) with a private mariadbd as well
#         (datadir in the temp dir): gpsrelayd with [locations] enabled,
#         history on, no forward targets. (1) ingest: LOC_DRIVERS (10,000)
#         simulated drivers POST /api/v1/drivers/{id}/location, paced to
#         RATE (20,000/s) for DURATION (60 s) by scripts/bench-locations.lua
#         (wrk -t2 -c64): accepted/s, latency, processing lag (the
#         histogram's buckets, and sampled end to end over Pub/Sub by
#         scripts/bench-locations-lag.py), group lag over time, history
#         rows == 202s, RSS and CPU per location of gpsrelayd, Redis,
#         mariadbd and wrk, Redis INFO commandstats. (2) the same ingest
#         plus GET /api/v1/drivers/{id}/location of random drivers paced to
#         READ_RATE (10,000/s) for READ_DURATION (30 s). (3) nearby over the
#         drivers (limit 100). (4) ROUTE_ROWS (10,000,000) history rows
#         bulk-loaded (INSERT ... SELECT from the Sequence engine), one
#         driver with 17,280 points over yesterday; its day's route as JSON
#         and as GeoJSON, and the bare SELECT for comparison.
# live    live updates over WebSocket (issue 12): gpsrelayd with [locations]
#         enabled, history off (no mariadbd: this measures the push path),
#         ulimit -n raised to the hard limit; the load client is
#         tests/load/ws_load.cc (target ws_load). (1) orders: LIVE_SUBSCRIBERS
#         (10,000) WebSockets, one per order
#         (/api/v1/orders/o<i>/driver-location), while LIVE_RATE (2,000/s)
#         locations are posted round-robin to drivers d<i> with order_id
#         o<i> for LIVE_DURATION (60 s). (2) fanout: FANOUT_SUBSCRIBERS
#         (1,000) WebSockets on one driver (/api/v1/drivers/busy/location)
#         while it posts FANOUT_RATE (50/s). Each prints connected/failed,
#         POSTs (202s, errors), frames, missing updates, POST -> frame latency
#         p50/p90/p99/p99.9/max, the client's CPU, and gpsrelayd's VmRSS once
#         all subscribers are connected. Goals: p99 < 50 ms, p50 < 10 ms,
#         RSS < 300 MB with 10,000 connected.
# topics  the topics API (issue 13): gpsrelayd with [topics] enabled
#         (http.max_body_size = 4m for batches), topic 'bench' with 4
#         partitions, Redis with automatic AOF rewrites off (a rewrite of
#         gigabytes would fork mid-run; appendfsync everysec stays). The load
#         client is tests/load/topics_load.cc (target topics_load), one
#         libevent loop. (1) single publishes of 1 KB over 64 keep-alive
#         connections, closed loop, TOPICS_DURATION (30 s) after a 3 s
#         warm-up, and the same load from wrk as a cross-check of the
#         client; (2) batches of 50 over 8 connections until TOPICS_FILL
#         (1,000,000) messages or TOPICS_DURATION; (3) consume+ack over what
#         is there: 8 consumers of one group poll up to 500 (wait 1s) and ack
#         each batch, until drained or TOPICS_CONSUME_DURATION (60 s). Each
#         prints msg/s, latency p50/p90/p99/p99.9/max, errors and the CPU of
#         the client, gpsrelayd and redis-server over its window. gpsrelayd's
#         VmRSS every 5 s over all three. Then Redis's own ceiling for the
#         same pattern (gpsrelayd stopped): redis-benchmark XADD of the same
#         entry (5 fields, a 1 KB value, MINID ~ trimming), pipelined (-c 64
#         -P 16) and one at a time (-c 64), and XREADGROUP COUNT 500 + XACK
#         pipelined on one connection (tests/load/stream_consume_ceiling.cc);
#         ratios ours/Redis. PERF=1 records 10 s of "perf record -a -g" in
#         the middle of each of the three loads into PERF_OUT (default
#         /tmp/gpsrelay-topics-perf).
# ha      Redis Sentinel and replica-acknowledged ingest (issue 15): a
#         primary, 2 replicas (replicaof, diskless sync) and 3 sentinels
#         (quorum 2), each a redis-server on loopback with AOF, fsync every
#         second; their config files on tmpfs (see the mode for why).
#         (1) ingest: the ingest load (wrk -t2 -c64, 3 s warm-up, the same
#         report) against gpsrelayd on the plain redis-server by [redis]
#         address, for reference, then through the sentinels with
#         min_replicas_acked = 0 and = 1 (one WAIT pipelined after each loop
#         iteration's appends), the stream emptied before each: req/s, p50,
#         p99, CPU per 200 of gpsrelayd and of the redis-servers together,
#         the ratio N=1 / N=0; every 200 must be on both replicas.
#         (2) failover: the same load with min_replicas_acked = 1, the
#         primary SIGKILLed HA_KILL_AFTER (5) s into HA_FAILOVER_DURATION
#         (20) s; scripts/bench-ha-failover.lua stamps every answer: time from
#         the kill to the first 200, from the last 200 before it to the first
#         after, any later outage, the sentinels' and servers' steps from
#         their logs, and whether the last 2,500 reports per wrk thread
#         answered 200 before each outage are on the new primary.
#         Sentinel: down-after-milliseconds HA_DOWN_AFTER (1000),
#         failover-timeout HA_FAILOVER_TIMEOUT (3000), parallel-syncs 1,
#         SENTINEL DEBUG info-period 1000 and publish-period 500 (as in
#         tests/integration/support/sentinel_topology.h).
#         HA_PARTS="ingest failover" (the default) picks the parts;
#         HA_LOGS=dir keeps the logs of the servers, sentinels and gpsrelayd
#         and the configs.
# micro   Google Benchmark microbenchmarks of pure code (tests/bench/:
#         the router), no servers.
#
# GPSRELAYD=/path/to/gpsrelayd (absolute, or relative to the repository)
# runs another build, e.g. a previous release's tree, in every mode; its
# config parser must accept the keys the mode writes. SKIP_BUILD=1 uses the
# binaries already in build/ (e.g. after 'cmake --build build --target
# gpsrelayd') instead of building everything first.
#
# DURATION=30 THREADS=1 CONNECTIONS=64 DRAIN_COUNT=200000 change the load;
# RATE=20000 paces the e2e load: with h2load (nghttp2-client) installed,
# RATE/500 HTTP/1.1 connections at 500 requests/s each (h2load --rps),
# which holds the rate; without it wrk's delay() (2 ms before every
# request), which falls short of it above ~20,000/s on this machine.
# The locations mode paces with a schedule instead (see bench-locations.lua)
# and takes RATE, DURATION, READ_RATE, READ_DURATION, LOC_DRIVERS,
# ROUTE_ROWS, MYSQL_BUFFER_POOL (default 1G); PERF=1 records 10 s of
# "perf record -a -g" in the middle of the ingest run and writes reports to
# PERF_OUT (default /tmp/gpsrelay-locations-perf).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
duration=${DURATION:-15}
threads=${THREADS:-2}
connections=${CONNECTIONS:-64}
drain_count=${DRAIN_COUNT:-200000}
# forward.threads of the relay in ingest/e2e/drain; 0 = one loop per CPU.
forward_threads=${FORWARD_THREADS:-0}
forward_http2=${FORWARD_HTTP2:-off}
forward_batch=${FORWARD_BATCH:-1}
upstream_tls=${UPSTREAM_TLS:-}
gpsrelayd=${GPSRELAYD:-build/gpsrelayd}
max_inflight=${MAX_INFLIGHT:-256m}
case "$mode" in ingest | tls | idempotency | e2e | drain | memory | locations | live | topics | events | ha | micro | all) ;; *)
  echo "usage: scripts/bench.sh [ingest|tls|idempotency|e2e|drain|memory|locations|live|topics|events|ha|micro|all]" >&2
  exit 2
  ;;
esac

scripts/install-deps.sh build bench
[ -n "${SKIP_BUILD:-}" ] || scripts/build.sh build >/dev/null

if [ "$mode" = micro ] || [ "$mode" = all ]; then
  echo "=== micro"
  cmake --build build --target micro_bench >/dev/null
  build/micro_bench --benchmark_min_time=1
  [ "$mode" = micro ] && exit 0
fi

work=$(mktemp -d /tmp/gpsrelay-bench.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(free_port)
relay_port=$(free_port)
nginx_port=$(free_port)
upstream_a=$(free_port)
upstream_b=$(free_port)
tls_port=$(free_port)
nginx_tls_port=$(free_port)
pids=()
relay_pid=
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

redis() { redis-cli -p "$redis_port" "$@"; }
metric() { curl -s "http://127.0.0.1:$relay_port/metrics" | awk -v k="$1" '$1 == k {s += $2} END {printf "%d", s}'; }
delivered() {
  curl -s "http://127.0.0.1:$relay_port/metrics" |
    awk '/^gpsrelay_deliveries_total\{.*result="delivered"/ {s += $2} END {printf "%d", s}'
}
now() { date +%s.%N; }
drain_wait() {  # tenths of a second at most
  for _ in $(seq "$1"); do [ "$(redis XLEN gps:reports)" = 0 ] && return 0; sleep 0.1; done
  return 0
}
wait_for() {  # command... ; up to 10 s
  for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: timed out waiting for: $*" >&2
  return 1
}

redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work" --appendonly yes \
  --appendfsync everysec --save '' --protected-mode no --logfile "$work/redis.log" &
pids+=($!)
wait_for redis ping

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/tls.key" \
  -out "$work/tls.pem" -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
printf 'bench-device-token-0001\n' >"$work/tokens"

# One nginx: the 'return 200' ceiling on nginx_port (and over TLS on
# nginx_tls_port), and two upstreams that read each body, answer 200, and
# log when each packet arrived ($msec), its stream id and the protocol.
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
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
  log_format e2e '\$msec \$http_x_gpsrelay_message_id \$server_protocol \$http_x_gpsrelay_message_ids';
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/json; return 200 '{"status":"ok"}'; }
  }
  server {
    listen 127.0.0.1:$nginx_tls_port ssl;
    ssl_certificate $work/tls.pem;
    ssl_certificate_key $work/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type application/json; return 200 '{"status":"ok"}'; }
  }
  server {
    listen 127.0.0.1:$upstream_a${upstream_tls:+ ssl http2};
    listen 127.0.0.1:$upstream_b${upstream_tls:+ ssl http2};
    ssl_certificate $work/tls.pem;
    ssl_certificate_key $work/tls.key;
    ssl_protocols TLSv1.3;
    access_log $work/nginx/upstream.log e2e buffer=256k flush=1s;
    # Reads each body before answering, as a real upstream does: 'return'
    # answers first and over HTTP/2 then resets the stream, which libcurl
    # 7.88 reports as a failed transfer.
    location / { default_type application/json; echo_read_request_body; echo -n '{"status":"ok"}'; }
  }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
wait_for curl -sf "http://127.0.0.1:$nginx_port/"

start_relay() {  # targets [extra config lines]
  cat >"$work/gpsrelay.conf" <<CONF
[http]
listen = 127.0.0.1:$relay_port
threads = $threads
tls_listen = 127.0.0.1:$tls_port
tls_cert = $work/tls.pem
tls_key = $work/tls.key
${2:-}
[redis]
address = 127.0.0.1:$redis_port
max_queue_length = 100000000
[forward]
targets = $1
threads = $forward_threads
concurrency = 256
http2 = $forward_http2
batch_max = $forward_batch
${upstream_tls:+ca_file = $work/tls.pem}
[log]
level = warning
target = stderr
CONF
  "$gpsrelayd" -c "$work/gpsrelay.conf" 2>>"$work/gpsrelayd.log" &
  relay_pid=$!
  pids+=("$relay_pid")
  wait_for curl -sf "http://127.0.0.1:$relay_port/ready"
}
stop_relay() {
  kill "$relay_pid"
  wait "$relay_pid" || true
}
rss_mib() { awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$relay_pid/status"; }
# CPU time gpsrelayd has used (user + system), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$relay_pid/stat"; }
# cpu_mark before a load, cpu_per_request "$mark" after it: gpsrelayd's CPU
# microseconds per stream entry added in between.
cpu_mark() { echo "$(cpu_ticks) $(redis XLEN gps:reports)"; }
cpu_per_request() {
  local ticks0 entries0
  read -r ticks0 entries0 <<<"$1"
  awk -v t=$(($(cpu_ticks) - ticks0)) -v hz="$(getconf CLK_TCK)" -v n=$(($(redis XLEN gps:reports) - entries0)) \
    'BEGIN {printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0)}'
}

body='{"device_id":"truck-0042","ts":"2026-11-25T10:15:30.250Z","lat":52.520008,"lon":13.404954,"alt":34.5,"speed_kmh":48.2,"heading":271,"hdop":0.9,"sats":11,"battery":0.87,"ignition":true,"odometer_km":128734.6}'
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'
LUA
run_wrk() {  # name url
  wrk -t2 -c"$connections" -d3s -s "$work/post.lua" "$2" >/dev/null  # warm-up
  wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/post.lua" "$2" >"$work/$1.wrk"
}
field() { awk -v k="$2" '$1 == k {print $2}' "$work/$1.wrk"; }
rps() { awk '/^Requests\/sec:/ {print $2}' "$work/$1.wrk"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$work/$1.wrk"; }
# p50 p99 max of (arrival ms - stream id ms) over the upstream log lines
# from line $1 on; a batch (forward.batch_max) counts once per report.
e2e_latency() {
  tail -n +"$1" "$work/nginx/upstream.log" |
    awk '{n = split($2 == "-" ? $4 : $2, ids, ",")
          for (i = 1; i <= n; i++) {split(ids[i], id, "-"); printf "%.0f\n", $1 * 1000 - id[1]}}' | sort -n |
    awk '{v[NR] = $1} END {if (NR == 0) {print "n/a n/a n/a"; exit}
         printf "%d ms %d ms %d ms\n", v[int(NR * 0.5) < 1 ? 1 : int(NR * 0.5)], v[int(NR * 0.99) < 1 ? 1 : int(NR * 0.99)], v[NR]}'
}
upstream_lines() { wc -l <"$work/nginx/upstream.log" 2>/dev/null || echo 0; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load: wrk -t2 -c$connections -d${duration}s keep-alive, ${#body}-byte body; gpsrelayd threads=$threads"
echo "gpsrelayd: $gpsrelayd"
scheme=http${upstream_tls:+s}
targets="$scheme://127.0.0.1:$upstream_a/ingest,$scheme://127.0.0.1:$upstream_b/ingest"
echo "forwarding: forward.threads=$forward_threads http2=$forward_http2 batch_max=$forward_batch to $scheme upstreams"

if [ "$mode" = ingest ] || [ "$mode" = all ]; then
  echo "=== ingest"
  start_relay ""
  run_wrk nginx "http://127.0.0.1:$nginx_port/api/gps/reports"
  before=$(redis XLEN gps:reports)
  mark=$(cpu_mark)
  run_wrk gpsrelayd "http://127.0.0.1:$relay_port/api/gps/reports"
  sleep 0.5
  ingest_cpu=$(cpu_per_request "$mark")
  after=$(redis XLEN gps:reports)
  accepted=$(metric gpsrelay_reports_accepted_total)
  printf '%-10s %12s %10s %10s %10s\n' target req/s p50 p99 non-2xx
  for t in nginx gpsrelayd; do
    printf '%-10s %12s %10s %10s %10s\n' "$t" "$(rps $t)" "$(field $t 50%)" "$(field $t 99%)" "$(non2xx $t || true)"
  done
  echo "gpsrelayd / nginx: $(awk -v a="$(rps gpsrelayd)" -v b="$(rps nginx)" 'BEGIN {printf "%.2f", a/b}')"
  echo "gpsrelayd peak RSS: $(rss_mib) MiB"
  # Cost per request, whatever share of the two cores wrk and Redis took.
  echo "gpsrelayd CPU per request (user + system, warm-up and run): $ingest_cpu us"
  # Every 200 gpsrelayd sent (its own counter, which also covers requests
  # still in flight when wrk stopped) must be an entry in the stream.
  echo "stream entries added: $((after - before)), 200s sent (incl. warm-up): $accepted, stream total: $after"
  if [ "$after" != "$accepted" ]; then
    echo "MISMATCH: stream holds $after entries but gpsrelayd answered $accepted reports with 200" >&2
    exit 1
  fi
  echo "check: stream length equals 200s sent"
  stop_relay
  redis DEL gps:reports >/dev/null
fi

if [ "$mode" = tls ] || [ "$mode" = all ]; then
  echo "=== tls: HTTPS ingest"
  start_relay ""
  run_wrk nginx-tls "https://127.0.0.1:$nginx_tls_port/api/gps/reports"
  declare -A cpu
  mark=$(cpu_mark)
  run_wrk gpsrelayd-tls "https://127.0.0.1:$tls_port/api/gps/reports"
  cpu[gpsrelayd-tls]=$(cpu_per_request "$mark")
  mark=$(cpu_mark)
  run_wrk gpsrelayd-plain "http://127.0.0.1:$relay_port/api/gps/reports"
  cpu[gpsrelayd-plain]=$(cpu_per_request "$mark")
  stop_relay
  if [ -z "${SKIP_TOKEN:-}" ]; then
    start_relay "" "[auth]
mode = token
tokens_file = $work/tokens"
    { cat "$work/post.lua"; echo 'wrk.headers["Authorization"] = "Bearer bench-device-token-0001"'; } >"$work/token.lua"
    mark=$(cpu_mark)
    wrk -t2 -c"$connections" -d3s -s "$work/token.lua" "http://127.0.0.1:$relay_port/api/gps/reports" >/dev/null
    wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/token.lua" \
      "http://127.0.0.1:$relay_port/api/gps/reports" >"$work/gpsrelayd-token.wrk"
    cpu[gpsrelayd-token]=$(cpu_per_request "$mark")
    stop_relay
  fi
  # CPU: gpsrelayd's user + system microseconds per request (warm-up and run).
  printf '%-16s %12s %10s %10s %10s %10s\n' target req/s p50 p99 non-2xx CPU/req
  for t in nginx-tls gpsrelayd-tls gpsrelayd-plain gpsrelayd-token; do
    [ -f "$work/$t.wrk" ] || continue
    printf '%-16s %12s %10s %10s %10s %10s\n' "$t" "$(rps $t)" "$(field $t 50%)" "$(field $t 99%)" \
      "$(non2xx $t || true)" "${cpu[$t]:+${cpu[$t]}us}"
  done
  echo "gpsrelayd-tls / nginx-tls: $(awk -v a="$(rps gpsrelayd-tls)" -v b="$(rps nginx-tls)" 'BEGIN {printf "%.2f", a/b}')"
  if [ -f "$work/gpsrelayd-token.wrk" ]; then
    echo "token / plain: $(awk -v a="$(rps gpsrelayd-token)" -v b="$(rps gpsrelayd-plain)" 'BEGIN {printf "%.2f", a/b}')"
  fi
  redis DEL gps:reports >/dev/null
fi

if [ "$mode" = idempotency ] || [ "$mode" = all ]; then
  echo "=== idempotency: a unique Idempotency-Key per request vs none"
  redis DEL gps:reports >/dev/null
  # Both loads build each request in request(), with a header of the same
  # length, so wrk does the same work for both; only the header's name
  # differs. Keys: KEY_PREFIX (one per wrk run), wrk thread, counter.
  for header in X-Bench-Seq-Key Idempotency-Key; do
    cat >"$work/$header.lua" <<LUA
$(cat "$work/post.lua")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
local sent = 0
function request()
  sent = sent + 1
  wrk.headers["$header"] = os.getenv("KEY_PREFIX") .. "-" .. thread_id .. "-" .. sent
  return wrk.format()
end
LUA
  done
  start_relay ""
  used_memory() { redis INFO memory | awk -F: '/^used_memory:/ {print $2 + 0}'; }
  redis_cpu() { redis INFO cpu | awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {printf "%.3f", s}'; }
  declare -A cpu
  memory0=$(used_memory)
  for header in X-Bench-Seq-Key Idempotency-Key; do
    if [ "$header" = Idempotency-Key ]; then
      memory_no_keys=$(used_memory)
      accepted_no_keys=$(metric gpsrelay_reports_accepted_total)
    fi
    KEY_PREFIX=warm-$header wrk -t2 -c"$connections" -d3s -s "$work/$header.lua" \
      "http://127.0.0.1:$relay_port/api/gps/reports" >/dev/null
    entries0=$(redis XLEN gps:reports)
    mark=$(cpu_mark)
    redis_cpu0=$(redis_cpu)
    KEY_PREFIX=run-$header wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/$header.lua" \
      "http://127.0.0.1:$relay_port/api/gps/reports" >"$work/$header.wrk"
    sleep 0.5
    entries=$(($(redis XLEN gps:reports) - entries0))
    # CPU microseconds per request of the measured run: gpsrelayd, Redis.
    cpu[$header]="$(cpu_per_request "$mark") us, redis $(awk -v r0="$redis_cpu0" -v r1="$(redis_cpu)" \
      -v n="$entries" 'BEGIN {printf "%.1f", (r1 - r0) * 1e6 / n}') us"
  done
  sleep 0.5
  stream=$(redis XLEN gps:reports)
  accepted=$(metric gpsrelay_reports_accepted_total)
  replays=$(metric gpsrelay_idempotent_replays_total)
  keys=$(($(redis DBSIZE) - 1))  # all but the stream
  memory1=$(used_memory)
  stream_memory=$(redis MEMORY USAGE gps:reports SAMPLES 0)
  stop_relay
  printf '%-18s %12s %10s %10s %10s\n' load req/s p50 p99 non-2xx
  for t in X-Bench-Seq-Key Idempotency-Key; do
    printf '%-18s %12s %10s %10s %10s\n' "$t" "$(rps $t)" "$(field $t 50%)" "$(field $t 99%)" "$(non2xx $t || true)"
  done
  echo "with key / without: $(awk -v a="$(rps Idempotency-Key)" -v b="$(rps X-Bench-Seq-Key)" 'BEGIN {printf "%.2f", a/b}')"
  for t in X-Bench-Seq-Key Idempotency-Key; do echo "CPU per request, $t: gpsrelayd ${cpu[$t]}"; done
  echo "stream entries: $stream, 200s sent (incl. warm-ups): $accepted, replays: $replays"
  sample_key=$(redis --scan --pattern 'gps:reports:idempotency:*' | head -1 || true)
  echo "redis: $keys keys besides the stream ($((accepted - accepted_no_keys)) 200s with a key);" \
    "one has $(redis PTTL "$sample_key") ms to live"
  echo "redis used_memory: $((memory0 / 1048576)) MiB at start, $((memory_no_keys / 1048576)) MiB" \
    "after the loads without a key, $((memory1 / 1048576)) MiB at the end;" \
    "the stream alone $((stream_memory / 1048576)) MiB (MEMORY USAGE)"
  echo "keys: $(((memory1 - memory0 - stream_memory) / 1048576)) MiB," \
    "$(((memory1 - memory0 - stream_memory) / (keys > 0 ? keys : 1))) bytes each (used_memory - start - stream)"
  if [ "$stream" != "$accepted" ] || [ "$replays" != 0 ] || [ "$keys" != $((accepted - accepted_no_keys)) ]; then
    echo "MISMATCH: stream holds $stream entries, gpsrelayd answered $accepted reports with 200" \
      "($((accepted - accepted_no_keys)) with a key), $replays replays, $keys keys" >&2
    exit 1
  fi
  echo "check: stream length equals 200s sent; one key per keyed 200; nothing replayed"
  redis FLUSHALL >/dev/null
fi

if [ "$mode" = e2e ] || [ "$mode" = all ]; then
  echo "=== e2e: ingest while forwarding to two nginx upstreams"
  start_relay "$targets"
  script=$work/post.lua
  e2e_connections=$connections
  url="http://127.0.0.1:$relay_port/api/gps/reports"
  # e2e_load SECONDS [OUTPUT]: the e2e load, paced when RATE is set.
  e2e_load() { wrk -t2 -c"$e2e_connections" -d"$1s" --latency -s "$script" "$url" >"${2:-/dev/null}"; }
  if [ -n "${RATE:-}" ]; then
    e2e_connections=$((RATE / 500 < 2 ? 2 : RATE / 500))
    if command -v h2load >/dev/null; then
      printf '%s' "$body" >"$work/body.json"
      e2e_load() {
        h2load --h1 -t2 -c"$e2e_connections" --rps 500 -D "$1" -d "$work/body.json" \
          -H 'Content-Type: application/json' "$url" >"${2:-/dev/null}"
      }
      echo "paced: h2load, $e2e_connections HTTP/1.1 connections at 500 requests/s each (~$RATE/s)"
    else
      script=$work/paced.lua
      { cat "$work/post.lua"; echo 'function delay() return 2 end'; } >"$script"
      echo "paced: wrk, $e2e_connections connections, 2 ms before each request (target ~$RATE/s)"
    fi
  fi
  e2e_load 3
  drain_wait 600
  sleep 1.5  # nginx flushes its log buffer every second: count the warm-up out
  first_line=$(($(upstream_lines) + 1))
  d0=$(delivered)
  t0=$(now)
  e2e_load "$duration" "$work/e2e.wrk"
  t1=$(now)
  d1=$(delivered)
  backlog=$(redis XLEN gps:reports)
  drain_wait 600
  t2=$(now)
  sleep 1.5  # nginx flushes its log buffer every second
  if grep -q '^finished in' "$work/e2e.wrk"; then  # h2load
    echo "accepted/s: $(awk '/^finished in/ {print $4}' "$work/e2e.wrk")" \
      "($(grep -E '^(requests|status codes):' "$work/e2e.wrk" | tr '\n' ' '))"
    echo "ingest latency (h2load, min max mean sd): $(awk '/^time for request:/ {print $4, $5, $6, $7}' "$work/e2e.wrk")"
  else
    echo "accepted/s: $(rps e2e) (p50 $(field e2e 50%), p99 $(field e2e 99%), non-2xx $(non2xx e2e || echo 0))"
  fi
  echo "delivered/s while loaded: $(awk -v d=$((d1 - d0)) -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", d / (b - a)}')"
  echo "backlog when the load stopped: $backlog entries; empty $(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.1f", b - a}') s later"
  echo "end-to-end latency (XADD -> upstream receipt) p50 p99 max: $(e2e_latency "$first_line")"
  echo "gpsrelayd peak RSS: $(rss_mib) MiB; still queued: $(redis XLEN gps:reports)"
  stop_relay
fi

if [ "$mode" = drain ] || [ "$mode" = all ]; then
  echo "=== drain: $drain_count queued reports, upstreams healthy"
  redis DEL gps:reports >/dev/null
  python3 - "$drain_count" "$body" <<'PY' | redis-cli -p "$redis_port" --pipe >/dev/null
import sys, time
count, body = int(sys.argv[1]), sys.argv[2].encode()
now = str(int(time.time() * 1000)).encode()
def bulk(b): return b"$%d\r\n%s\r\n" % (len(b), b)
out = sys.stdout.buffer
for i in range(count):
    args = [b"XADD", b"gps:reports", b"*", b"payload", body, b"received_at", now,
            b"request_id", b"bench-%d" % i]
    out.write(b"*%d\r\n" % len(args) + b"".join(bulk(a) for a in args))
PY
  echo "queued: $(redis XLEN gps:reports)"
  drain_first_line=$(($(upstream_lines) + 1))
  t0=$(now)
  start_relay "$targets"
  if [ -n "${PROFILE:-}" ]; then
    # 4 s of the drain, from 1 s after the start: where the forward
    # threads' CPU goes, and their system calls per delivery.
    sleep 1
    d_profile=$(delivered)
    if [ "$PROFILE" = strace ]; then
      timeout -s INT 4 strace -c -f -p "$relay_pid" -o "$work/strace.out" || true
      echo "deliveries during strace: $(($(delivered) - d_profile))"
      head -14 "$work/strace.out"
    else
      perf record -F 1999 -p "$relay_pid" -o "$work/perf.data" -- sleep 4 >/dev/null 2>&1
      echo "deliveries during perf: $(($(delivered) - d_profile))"
      perf report -i "$work/perf.data" --sort comm,dso --stdio 2>/dev/null | grep -v '^#' | grep . | head -12
    fi
  fi
  drain_wait 3000
  t1=$(now)
  left=$(redis XLEN gps:reports)
  echo "drained $((drain_count - left)) in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s (incl. start-up): $(awk -v n=$((drain_count - left)) -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}') packets/s; left: $left"
  echo "delivered (metric): $(delivered); gpsrelayd peak RSS: $(rss_mib) MiB"
  echo "failed attempts (metric): $(curl -s "http://127.0.0.1:$relay_port/metrics" |
    awk '/^gpsrelay_deliveries_total\{.*result="failed"/ {s += $2} END {printf "%d", s}')$(
    grep -m1 'delivery attempt failed' "$work/gpsrelayd.log" | sed 's/.*error=/; first: /')"
  sleep 1.5  # nginx flushes its log buffer every second
  echo "requests the upstreams got, by protocol: $(tail -n +"$drain_first_line" "$work/nginx/upstream.log" | awk '{n[$3]++} END {for (p in n) printf "%s %d ", p, n[p]}')"
  stop_relay
fi

if [ "$mode" = memory ] || [ "$mode" = all ]; then
  echo "=== memory: 300 held 1 MiB uploads (1,000,000 bytes sent each)"
  for budget in $max_inflight; do
    limit_line="max_inflight_bytes = $budget"
    [ "$budget" = - ] && limit_line=""
    # Long enough to hold every upload while it is measured; short enough
    # that an upload paused by the budget (whose client's FIN waits behind
    # the body bytes the daemon does not read) ends within the settle time.
    start_relay "" "request_timeout = 10s
$limit_line"
    echo "max_inflight_bytes = ${budget/#-/(not set)}; RSS at start: $(awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$relay_pid/status") MiB"
    python3 scripts/bench-held-uploads.py 127.0.0.1 "$relay_port" "$relay_pid" 300 1048576 1000000 12
    echo "gpsrelayd still serving: $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$relay_port/ready")"
    if [ "$budget" != - ]; then
      echo "metrics: gpsrelay_http_inflight_bytes $(metric gpsrelay_http_inflight_bytes)," \
        "gpsrelay_http_requests_over_budget_total $(metric gpsrelay_http_requests_over_budget_total)," \
        "gpsrelay_http_reads_paused_total $(metric gpsrelay_http_reads_paused_total)," \
        "gpsrelay_http_requests_timed_out_total $(metric gpsrelay_http_requests_timed_out_total)"
    fi
    stop_relay
  done
fi

if [ "$mode" = live ] || [ "$mode" = all ]; then
  live_subscribers=${LIVE_SUBSCRIBERS:-10000}
  live_rate=${LIVE_RATE:-2000}
  live_duration=${LIVE_DURATION:-60}
  fanout_subscribers=${FANOUT_SUBSCRIBERS:-1000}
  fanout_rate=${FANOUT_RATE:-50}
  cmake --build build --target ws_load >/dev/null
  # Every subscriber is a descriptor in gpsrelayd and in ws_load (both
  # inherit this limit); 10,000 on one loopback port fit the ephemeral range.
  ulimit -n "$(ulimit -Hn)"
  need=$((live_subscribers + 1000))
  if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    echo "bench live: ulimit -n is $(ulimit -n), needs $need; raise the hard limit" >&2
    exit 1
  fi
  read -r port_low port_high </proc/sys/net/ipv4/ip_local_port_range
  [ $((port_high - port_low)) -gt $((live_subscribers + 1000)) ] ||
    echo "bench live: only $((port_high - port_low)) ephemeral ports for $live_subscribers subscribers" >&2
  redis FLUSHALL >/dev/null
  start_relay "" "max_connections = $((live_subscribers * 2))
[locations]
enabled = true
history = false
live_max_clients = $((live_subscribers * 2))"
  wait_for curl -sf "http://127.0.0.1:$relay_port/health"
  live_scenario() {  # name ws_load-arguments...
    local name=$1
    shift
    build/tests/ws_load --port "$relay_port" --server-pid "$relay_pid" "$@" \
      >"$work/live-$name.out" 2>"$work/live-$name.err" || {
      echo "bench live: ws_load $name failed:" >&2
      cat "$work/live-$name.err" >&2
      return 1
    }
    cat "$work/live-$name.out"
  }
  echo "=== live orders: $live_subscribers WebSocket subscribers (one per order), $live_rate locations/s for ${live_duration}s"
  live_scenario orders --mode orders --subscribers "$live_subscribers" --rate "$live_rate" \
    --duration "${live_duration}s"
  live_value() { awk -v k="$2:" '$1 == k {print $2}' "$work/live-$1.out"; }
  echo "gpsrelayd VmRSS with $(live_value orders connected) of $live_subscribers subscribers connected:" \
    "$(live_value orders server_rss_connected_mib) MiB (goal < 300 with 10,000)"
  echo "=== live fanout: $fanout_subscribers subscribers of one driver, $fanout_rate updates/s for ${live_duration}s"
  live_scenario fanout --mode fanout --subscribers "$fanout_subscribers" --rate "$fanout_rate" \
    --duration "${live_duration}s"
  live_metrics=$(curl -s "http://127.0.0.1:$relay_port/metrics" | grep -E '^gpsrelay_live_' | grep -v '_bucket{' || true)
  [ -z "$live_metrics" ] || printf 'gpsrelayd live metrics at the end:\n%s\n' "$live_metrics"
  stop_relay
fi

if [ "$mode" = topics ] || [ "$mode" = all ]; then
  topics_duration=${TOPICS_DURATION:-30}
  topics_fill=${TOPICS_FILL:-1000000}
  topics_consume_duration=${TOPICS_CONSUME_DURATION:-60}
  cmake --build build --target topics_load stream_consume_ceiling >/dev/null
  redis FLUSHALL >/dev/null
  # Gigabytes of 1 KB messages: an automatic AOF rewrite would fork and copy
  # them in the middle of a load. Writes still go to the AOF (everysec).
  redis CONFIG SET auto-aof-rewrite-percentage 0 >/dev/null
  start_relay "" "max_body_size = 4m
[topics]
enabled = true"
  redis_pid=${pids[0]}
  topics_url="http://127.0.0.1:$relay_port/v1/topics"
  curl -sf -X POST "$topics_url" -d '{"name":"bench","partitions":4}' >/dev/null
  topic_state() { curl -s "$topics_url/bench"; }
  rss_now() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$relay_pid/status"; }
  value=$(python3 -c 'print("".join(chr(97 + i % 26) for i in range(1024)))')
  perf_out=${PERF_OUT:-/tmp/gpsrelay-topics-perf}
  perf_pid=
  perf_during() {  # name seconds-from-now: 10 s of call graphs, in the background
    [ -n "${PERF:-}" ] || return 0
    mkdir -p "$perf_out"
    (sleep "$2"; perf record -F 499 -a -g -o "$perf_out/$1.data" -- sleep 10 >/dev/null 2>&1
     perf report -i "$perf_out/$1.data" --no-children --sort comm,dso --stdio -g none \
       >"$perf_out/$1-by-dso.txt" 2>/dev/null
     perf report -i "$perf_out/$1.data" --no-children --sort comm,sym --stdio -g none \
       >"$perf_out/$1-by-symbol.txt" 2>/dev/null) &
    perf_pid=$!
  }
  wait_perf() { [ -z "$perf_pid" ] || wait "$perf_pid" || true; }
  topics_run() {  # name topics_load-arguments...
    local name=$1
    shift
    build/tests/topics_load --port "$relay_port" --watch gpsrelayd="$relay_pid" \
      --watch redis-server="$redis_pid" "$@" >"$work/topics-$name.out" 2>"$work/topics-$name.err" || {
      echo "bench topics: topics_load $name failed:" >&2
      cat "$work/topics-$name.err" >&2
      return 1
    }
    cat "$work/topics-$name.out"
  }
  tval() { awk -v k="$2:" '$1 == k {print $2}' "$work/topics-$1.out"; }
  echo "redis $(redis-server --version | awk '{print $3}' | cut -d= -f2), gpsrelayd http.threads=$threads," \
    "topic bench with 4 partitions, 1,024-byte string values"
  rss_start=$(rss_now)
  touch "$work/rss.on"
  (while [ -e "$work/rss.on" ]; do printf '%s ' "$(rss_now)"; sleep 5; done) >"$work/rss" &
  rss_sampler=$!

  echo "=== topics publish: 64 connections, one message per request, ${topics_duration}s (after 3 s warm-up)"
  perf_during publish $((3 + topics_duration / 2 - 5))
  topics_run publish --mode publish --connections 64 --duration "${topics_duration}s" --warmup 3s --size 1024
  wait_perf
  echo "--- cross-check of the client: wrk -t1 -c64 -d${topics_duration}s, the same request"
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[{"value":"%s"}]]\n' \
    "$value" >"$work/topic.lua"
  wrk -t1 -c64 -d"${topics_duration}s" --latency -s "$work/topic.lua" "$topics_url/bench/publish" >"$work/topic.wrk"
  awk '/^Requests\/sec:/ {r = $2} $1 == "50%" {a = $2} $1 == "99%" {b = $2} /Non-2xx/ {e = $NF}
    END {printf "wrk: %s msg/s, p50 %s, p99 %s, non-2xx %d\n", r, a, b, e}' "$work/topic.wrk"

  echo "=== topics batch: 8 connections, 50 messages per request, until $topics_fill messages or ${topics_duration}s"
  perf_during batch 3
  topics_run batch --mode batch --connections 8 --batch 50 --size 1024 --total "$topics_fill" \
    --duration "${topics_duration}s"
  wait_perf
  echo "topic before consuming: $(topic_state)"

  echo "=== topics consume+ack: 8 consumers of group bench, poll max 500 wait 1s, ack each batch"
  perf_during consume 3
  topics_run consume --mode consume --connections 8 --max 500 --wait 1s --duration "${topics_consume_duration}s"
  wait_perf
  echo "topic after consuming: $(topic_state)"
  rm -f "$work/rss.on"
  wait "$rss_sampler" || true
  echo "gpsrelayd VmRSS: $rss_start MiB at start, $(rss_now) MiB at the end; every 5 s (MiB): $(cat "$work/rss")"
  echo "redis used_memory: $(redis INFO memory | awk -F: '/^used_memory_human:/ {print $2}' | tr -d '\r')"
  stop_relay

  echo "=== Redis's own ceiling (gpsrelayd stopped, topic data flushed)"
  redis FLUSHALL >/dev/null
  # The entry gpsrelayd appends: k, v (the value as JSON: a quoted string),
  # b, h, t; trimmed with MINID ~ like every publish.
  xadd=(XADD bench:raw MINID '~' 0 '*' k '' v "\"$value\"" b 0 h '{}' t 1764475200000)
  # "msg/s p50 p99" of redis-benchmark's CSV line.
  rb() { redis-benchmark -p "$redis_port" --csv "$@" "${xadd[@]}" | awk -F'","' 'NR == 2 {print $2 " " $5 " " $7}'; }
  read -r xadd_pipelined xadd_pipelined_p50 xadd_pipelined_p99 <<<"$(rb -n 1000000 -c 64 -P 16)"
  read -r xadd_single xadd_single_p50 xadd_single_p99 <<<"$(rb -n 300000 -c 64 -P 1)"
  echo "redis-benchmark XADD 1 KB, -c 64 -P 16: ${xadd_pipelined%.*} msg/s (p50 $xadd_pipelined_p50 ms, p99 $xadd_pipelined_p99 ms per pipelined command)"
  echo "redis-benchmark XADD 1 KB, -c 64 -P 1:  ${xadd_single%.*} msg/s (p50 $xadd_single_p50 ms, p99 $xadd_single_p99 ms)"
  echo "stream of $(redis XLEN bench:raw) entries; XREADGROUP COUNT 500 + XACK, pipelined, one connection:"
  build/tests/stream_consume_ceiling --port "$redis_port" --stream bench:raw --count 500 | tee "$work/ceiling.out"
  consume_ceiling=$(awk '$1 == "msg_per_s:" {print $2}' "$work/ceiling.out")
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
  echo "=== ours / Redis"
  echo "single publish (64 conn): $(tval publish msg_per_s) / ${xadd_single%.*} (XADD -P 1) = $(ratio "$(tval publish msg_per_s)" "$xadd_single")"
  echo "batched publish: $(tval batch msg_per_s) / ${xadd_pipelined%.*} (XADD -P 16) = $(ratio "$(tval batch msg_per_s)" "$xadd_pipelined")"
  echo "consume+ack: $(tval consume msg_per_s) / $consume_ceiling = $(ratio "$(tval consume msg_per_s)" "$consume_ceiling")"
  redis FLUSHALL >/dev/null
  redis CONFIG SET auto-aof-rewrite-percentage 100 >/dev/null
  [ -z "${PERF:-}" ] || echo "perf reports in $perf_out"
fi

# A private mariadbd, datadir in the temp dir (removed with it), with
# database gpsrelay for user gpsrelay; sets mysql_port, mysql_pid, sql()
# and mysql_section (the daemon's [mysql] lines). Durable defaults
# (innodb_flush_log_at_trx_commit = 1); a buffer pool that holds the route
# table's hot part and redo big enough for the bulk load.
start_mariadb() {
  mysql_port=$(free_port)
  local as_user=()
  [ "$(id -u)" -eq 0 ] && as_user=(--user=root)
  mariadb-install-db --no-defaults --datadir="$work/mysql" --auth-root-authentication-method=normal \
    --skip-test-db "${as_user[@]}" >"$work/mariadb-install.log" 2>&1
  mariadbd --no-defaults --datadir="$work/mysql" --port="$mysql_port" --bind-address=127.0.0.1 \
    --socket="$work/mysql.sock" --pid-file="$work/mysql.pid" --skip-name-resolve \
    --innodb-buffer-pool-size="${MYSQL_BUFFER_POOL:-1G}" --innodb-log-file-size=512M \
    "${as_user[@]}" >"$work/mariadbd.log" 2>&1 &
  mysql_pid=$!
  pids+=("$mysql_pid")
  for _ in $(seq 300); do
    mariadb --no-defaults -uroot -S "$work/mysql.sock" -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.1
  done
  mariadb --no-defaults -uroot -S "$work/mysql.sock" -e "
    CREATE DATABASE gpsrelay;
    CREATE USER 'gpsrelay'@'%' IDENTIFIED BY 'bench-password';
    GRANT ALL ON gpsrelay.* TO 'gpsrelay'@'%';"
  mysql_section="[mysql]
host = 127.0.0.1
port = $mysql_port
user = gpsrelay
password = bench-password
database = gpsrelay"
}
sql() { mariadb --no-defaults -uroot -S "$work/mysql.sock" -N -B gpsrelay -e "$1"; }

if [ "$mode" = locations ] || [ "$mode" = all ]; then
  loc_rate=${RATE:-20000}
  loc_duration=${DURATION:-60}
  read_rate=${READ_RATE:-10000}
  read_duration=${READ_DURATION:-30}
  loc_drivers=${LOC_DRIVERS:-10000}
  route_rows=${ROUTE_ROWS:-10000000}
  echo "=== locations: $loc_drivers drivers at ~$loc_rate/s for ${loc_duration}s, history on"
  start_mariadb
  redis FLUSHALL >/dev/null
  start_relay "" "[locations]
enabled = true
history = true
$mysql_section"
  wait_for curl -sf "http://127.0.0.1:$relay_port/health"
  base_url="http://127.0.0.1:$relay_port"
  lua=scripts/bench-locations.lua
  redis_pid=${pids[0]}

  ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  rss_of() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }
  hwm_of() { awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }
  busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }
  # gpsrelayd's threads: "name ticks" lines.
  thread_ticks() {
    for t in /proc/"$relay_pid"/task/*; do
      printf "%s:%s %s\n" "${t##*/}" "$(cat "$t/comm")" "$(awk "{print \$14 + \$15}" "$t/stat")"
    done | sort
  }
  metrics_to() { curl -s "$base_url/metrics" >"$1"; }
  # p50 p99 (ms) of histogram $3 between two /metrics dumps, linear within
  # a bucket (the buckets' bounds: 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50,
  # 100, 250, 500, 1000, 5000 ms).
  hist_quantiles() {
    python3 - "$1" "$2" "$3" <<'PY'
import re, sys
def buckets(path, name):
    out = {}
    for line in open(path):
        m = re.match(r'%s_bucket\{le="([^"]+)"\} (\S+)' % re.escape(name), line)
        if m: out[float(m.group(1))] = float(m.group(2))
    return out
b0, b1 = buckets(sys.argv[1], sys.argv[3]), buckets(sys.argv[2], sys.argv[3])
bounds = sorted(b1)
cum = [b1[b] - b0.get(b, 0) for b in bounds]
total = cum[-1]
if total <= 0: print("n/a n/a (0)"); sys.exit()
def q(f):
    want, lo, below = f * total, 0.0, 0.0
    for b, c in zip(bounds, cum):
        if c >= want:
            if b == float("inf"): return "> %g ms" % (lo * 1000)
            return "%.1f ms" % ((lo + (b - lo) * (want - below) / max(c - below, 1e-9)) * 1000)
        lo, below = b, c
print("%s %s (%d)" % (q(0.5), q(0.99), total))
PY
  }
  mval() { awk -v k="$2" '$1 == k {s += $2} END {printf "%d", s}' "$1"; }
  group_state() {  # "lag pending rows"
    curl -s "$base_url/metrics" | awk '$1 == "gpsrelay_locations_group_lag" {l = $2}
      $1 == "gpsrelay_locations_group_pending" {p = $2}
      $1 == "gpsrelay_locations_history_rows_total" {r = $2}
      END {printf "%d %d %d\n", l, p, r}'
  }
  # Until the locations group has read and acknowledged everything (so every
  # history row is committed); up to 300 s.
  drain_locations() {
    local lag pending rows
    for _ in $(seq 600); do
      read -r lag pending rows <<<"$(group_state)"
      [ "$lag" = 0 ] && [ "$pending" = 0 ] && return 0
      sleep 0.5
    done
    echo "bench: locations group not drained: lag $lag, pending $pending" >&2
  }
  rows() { sql "SELECT COUNT(*) FROM driver_locations"; }
  ingest_wrk() {  # seconds output-file
    LOC_MODE=post LOC_RATE=$loc_rate LOC_DRIVERS=$loc_drivers LOC_THREADS=2 \
      wrk -t2 -c64 -d"$1s" --latency -s "$lua" "$base_url/" >"$2"
  }
  ok2xx() { awk '/ requests in / {n = $1} /Non-2xx/ {e = $NF} END {print n - e}' "$1"; }
  wrk_line() {  # file: "req/s p50 p99 non-2xx"
    awk '/^Requests\/sec:/ {r = $2} $1 == "50%" {a = $2} $1 == "99%" {b = $2} /Non-2xx/ {e = $NF}
      END {printf "%s/s, p50 %s, p99 %s, non-2xx %d", r, a, b, e}' "$1"
  }

  echo "mariadbd $(mariadbd --version | awk '{print $3}'), buffer pool ${MYSQL_BUFFER_POOL:-1G}," \
    "redis $(redis-server --version | awk '{print $3}' | cut -d= -f2), wrk $(wrk -v 2>&1 | awk 'NR == 1 {print $2}')"
  echo "--- (1) ingest alone: wrk -t2 -c64, paced to $loc_rate/s, ${loc_duration}s (after a 5 s warm-up)"
  ingest_wrk 5 "$work/loc-warm.wrk"
  drain_locations
  redis CONFIG RESETSTAT >/dev/null
  r0=$(rows)
  x0=$(redis XLEN gps:reports)
  metrics_to "$work/m0"
  cpu0="$(ticks "$relay_pid") $(ticks "$redis_pid") $(ticks "$mysql_pid")"
  busy0=$(busy)
  thread_ticks >"$work/threads0"
  python3 scripts/bench-locations-lag.py "$redis_port" 'drv-000*' >"$work/lag-a" &
  lag_pid=$!
  # Group lag / pending every 5 s while the load runs: a growing backlog shows here.
  (for _ in $(seq $((loc_duration / 5))); do sleep 5; group_state; done) >"$work/backlog-a" &
  sampler=$!
  if [ -n "${PERF:-}" ]; then
    # 10 s of system-wide call graphs from the middle of the run (perturbs it).
    (sleep $((loc_duration / 2 - 5)); perf record -F 499 -a -g -o "$work/perf.data" -- sleep 10 \
      >/dev/null 2>&1) &
    perf_pid=$!
  fi
  wrk_cpu_a=$( { TIMEFORMAT='%U %S'; time ingest_wrk "$loc_duration" "$work/loc-a.wrk"; } 2>&1 )
  if [ -n "${PERF:-}" ]; then
    wait "$perf_pid" || true
    perf_out=${PERF_OUT:-/tmp/gpsrelay-locations-perf}
    mkdir -p "$perf_out"
    perf report -i "$work/perf.data" --no-children --sort comm,dso --stdio >"$perf_out/by-dso.txt" 2>/dev/null || true
    # Whole reports into files: 'perf report | head' would end this script
    # (SIGPIPE under pipefail).
    perf report -i "$work/perf.data" --no-children --sort comm,sym --stdio -g none \
      >"$perf_out/by-symbol.txt" 2>/dev/null || true
    perf report -i "$work/perf.data" --children --comm redis-server --sort sym --stdio -g none \
      >"$perf_out/redis-children.txt" 2>/dev/null || true
    echo "perf reports in $perf_out"
  fi
  t_end=$(now)
  wait "$sampler" || true
  cpu1="$(ticks "$relay_pid") $(ticks "$redis_pid") $(ticks "$mysql_pid")"
  busy1=$(busy)
  thread_ticks >"$work/threads1"
  metrics_to "$work/m1"
  state_end=$(group_state)
  kill -TERM "$lag_pid"; wait "$lag_pid" || true
  rss_a="gpsrelayd $(rss_of "$relay_pid") MiB (peak $(hwm_of "$relay_pid")), redis-server $(rss_of "$redis_pid") MiB, mariadbd $(rss_of "$mysql_pid") MiB"
  redis INFO commandstats >"$work/cmdstats-a"
  redis_mem=$(redis INFO memory | awk -F: '/^used_memory_human:/ {print $2}' | tr -d '\r')
  drain_locations
  t_drained=$(now)
  r1=$(rows)
  x1=$(redis XLEN gps:reports)
  metrics_to "$work/m2"
  ok_a=$(ok2xx "$work/loc-a.wrk")
  # wrk counts only the answers it read before it stopped; up to one request
  # per connection was still in flight then. gpsrelayd's own count of 202s
  # (gpsrelay_reports_accepted_total) covers those too.
  acc_a=$(($(mval "$work/m2" gpsrelay_reports_accepted_total) - $(mval "$work/m0" gpsrelay_reports_accepted_total)))
  echo "ingest: $(wrk_line "$work/loc-a.wrk")"
  echo "202s read by wrk: $ok_a; 202s sent by gpsrelayd: $acc_a; stream entries added: $((x1 - x0));" \
    "history rows added: $((r1 - r0)) (SELECT COUNT(*): $r0 -> $r1); history caught up" \
    "$(awk -v a="$t_end" -v b="$t_drained" 'BEGIN {printf "%.1f", b - a}') s after the load"
  if [ "$((r1 - r0))" = "$acc_a" ] && [ "$((x1 - x0))" = "$acc_a" ] && [ "$ok_a" -le "$acc_a" ] &&
    [ "$((acc_a - ok_a))" -le 64 ]; then
    echo "check: history rows == stream entries == 202s sent; wrk read all but $((acc_a - ok_a)) (in flight at its stop)"
  else
    echo "MISMATCH: 202s sent $acc_a (wrk read $ok_a), stream entries $((x1 - x0)), history rows $((r1 - r0))" >&2
  fi
  echo "processing lag (XADD -> state, histogram) p50 p99 (n): $(hist_quantiles "$work/m0" "$work/m1" gpsrelay_locations_processing_lag_seconds)"
  echo "end-to-end lag (request sent -> state published, Pub/Sub sample of drv-000*) n p50 p99 max ms: $(cat "$work/lag-a")"
  echo "history batch (commit) p50 p99 (n): $(hist_quantiles "$work/m0" "$work/m1" gpsrelay_locations_history_batch_seconds)," \
    "rows per batch $(awk -v r=$(($(mval "$work/m1" gpsrelay_locations_history_rows_total) - $(mval "$work/m0" gpsrelay_locations_history_rows_total))) \
      -v n=$(($(mval "$work/m1" gpsrelay_locations_history_batch_seconds_count) - $(mval "$work/m0" gpsrelay_locations_history_batch_seconds_count))) \
      'BEGIN {printf "%.0f", n ? r / n : 0}')"
  echo "group lag pending history-rows every 5 s: $(tr '\n' ';' <"$work/backlog-a")"
  echo "at the end of the load: lag pending rows = $state_end; deferred $(mval "$work/m1" gpsrelay_locations_history_deferred_total)," \
    "stale $(mval "$work/m1" gpsrelay_locations_stale_total), duplicates $(mval "$work/m1" gpsrelay_locations_duplicates_total)"
  echo "RSS at the end of the load: $rss_a; redis used_memory $redis_mem (stream of $x1 entries: the forward group has no targets)"
  read -r g0 rd0 m0 <<<"$cpu0"
  read -r g1 rd1 m1 <<<"$cpu1"
  read -r wu ws <<<"$wrk_cpu_a"
  hz=$(getconf CLK_TCK)
  per() { awk -v t="$1" -v hz="$hz" -v n="$ok_a" 'BEGIN {printf "%.1f", n ? t / hz * 1e6 / n : 0}'; }
  echo "CPU per location (us, user + system, the ${loc_duration}s run): gpsrelayd $(per $((g1 - g0)))," \
    "redis-server $(per $((rd1 - rd0))), mariadbd $(per $((m1 - m0)))," \
    "wrk $(awk -v u="$wu" -v s="$ws" -v n="$ok_a" 'BEGIN {printf "%.1f", (u + s) * 1e6 / n}')"
  echo "machine busy: $(awk -v a="$busy0" -v b="$busy1" 'BEGIN {split(a, x, " "); split(b, y, " ");
    printf "%.0f %%", (y[1] - x[1]) * 100 / (y[2] - x[2])}') of 2 cores"
  echo "gpsrelayd threads (CPU % of one core): $(join "$work/threads0" "$work/threads1" 2>/dev/null |
    awk -v s="$loc_duration" -v hz="$hz" '{d = $3 - $2; if (d > 0) printf "%s %.0f%%, ", $1, d / hz / s * 100}')"
  echo "redis commandstats of the run, by total time (calls, usec/call, usec per location):"
  awk -F'[:,=]' -v n="$acc_a" '/^cmdstat_/ {sub("cmdstat_", "", $1);
      printf "  %-12s %10d %8.2f %6.2f\n", $1, $3, $7, n ? $5 / n : 0}' "$work/cmdstats-a" |
    sort -k4 -nr | head -8

  echo "--- (2) current reads during the ingest: GET random drivers paced to $read_rate/s (wrk -t1 -c16, ${read_duration}s)"
  metrics_to "$work/m3"
  ingest_wrk $((read_duration + 2)) "$work/loc-b.wrk" &
  ingest_bg=$!
  sleep 1
  LOC_MODE=get LOC_RATE=$read_rate LOC_DRIVERS=$loc_drivers LOC_THREADS=1 \
    wrk -t1 -c16 -d"${read_duration}s" --latency -s "$lua" "$base_url/" >"$work/read-b.wrk"
  wait "$ingest_bg"
  metrics_to "$work/m4"
  echo "reads:  $(wrk_line "$work/read-b.wrk")"
  echo "ingest meanwhile: $(wrk_line "$work/loc-b.wrk")"
  echo "processing lag meanwhile p50 p99 (n): $(hist_quantiles "$work/m3" "$work/m4" gpsrelay_locations_processing_lag_seconds)"
  drain_locations

  echo "--- (3) nearby: $(redis ZCARD gps:reports:loc:geo) drivers in the geo index"
  sample=$(redis HGET gps:reports:loc:driver:drv-00000 record)
  for radius in 2000 5000 50000; do
    in_circle=$(redis GEOSEARCH gps:reports:loc:geo FROMLONLAT 13.405 52.52 BYRADIUS "$radius" m | wc -l)
    url="$base_url/api/v1/drivers/nearby?lat=52.52&lng=13.405&radius=$radius&limit=100"
    bytes=$(curl -s -o /dev/null -w '%{size_download}' "$url")
    wrk -t1 -c1 -d10s --latency "$url" >"$work/nearby-1.wrk"
    wrk -t2 -c8 -d5s --latency "$url" >"$work/nearby-8.wrk"
    echo "radius ${radius} m ($in_circle drivers inside, answer $bytes bytes): 1 connection $(wrk_line "$work/nearby-1.wrk");" \
      "8 connections $(wrk_line "$work/nearby-8.wrk")"
  done
  [ -n "$sample" ] || echo "(no current record for drv-00000: TTL passed?)"

  echo "--- (4) route: bulk-loading $route_rows history rows"
  day=$(date -u -d yesterday +%F)
  route_drivers=$(((route_rows + 17279) / 17280))
  route_driver=$(printf 'bulk-%05d' $((route_drivers / 2)))
  t0=$(now)
  for ((a = 0; a < route_drivers; a += 50)); do
    b=$((a + 49 < route_drivers - 1 ? a + 49 : route_drivers - 1))
    sql "INSERT INTO driver_locations (driver_id, \`time\`, latitude, longitude, speed, heading, accuracy)
      SELECT STRAIGHT_JOIN CONCAT('bulk-', LPAD(d.seq, 5, '0')), TIMESTAMP('$day') + INTERVAL p.seq * 5 SECOND,
        52.52 + (CAST(d.seq AS SIGNED) % 200 - 100) / 1000 + 0.01 * SIN(p.seq / 500), 13.405 + (CAST(d.seq AS SIGNED) % 300 - 150) / 1000 + 0.015 * COS(p.seq / 500),
        20 + p.seq % 40, p.seq % 360, 5
      FROM seq_${a}_to_${b} d JOIN seq_0_to_17279 p"
  done
  t1=$(now)
  total=$(rows)
  echo "loaded $((route_drivers * 17280)) rows ($route_drivers drivers x 17,280 points on $day) in" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", b - a}') s; driver_locations now holds $total rows;" \
    "data + index $(sql "SELECT ROUND((DATA_LENGTH + INDEX_LENGTH) / 1048576) FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = 'gpsrelay' AND TABLE_NAME = 'driver_locations'") MiB (information_schema, estimate)"
  route="$base_url/api/v1/drivers/$route_driver/route?start_time=${day}T00:00:00Z&end_time=${day}T23:59:59Z&limit=20000"
  first_ms=$(curl -s -o "$work/route.json" -w '%{time_total}' "$route" | awk '{printf "%.1f", $1 * 1000}')
  points=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(len(next(v for v in d.values() if isinstance(v, list))))' "$work/route.json" 2>/dev/null || echo "?")
  echo "route of $route_driver over $day: $points points, $(stat -c %s "$work/route.json") bytes JSON; first request $first_ms ms"
  for format in json geojson; do
    u=$route
    [ "$format" = geojson ] && u="$route&format=geojson"
    wrk -t1 -c1 -d10s --latency "$u" >"$work/route-$format.wrk"
    echo "route $format, 1 connection, 10 s: $(wrk_line "$work/route-$format.wrk")," \
      "$(awk '/ requests in / {print $1}' "$work/route-$format.wrk") requests," \
      "$(curl -s -o /dev/null -w '%{size_download}' "$u") bytes"
  done
  # The bare query, as the route reader sends it, from the mariadb client
  # (text protocol; 5 runs): what MySQL itself needs.
  select="SELECT driver_id, TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', \`time\`) DIV 1000, order_id,
    latitude, longitude, speed, heading, accuracy, altitude FROM driver_locations
    WHERE driver_id = '$route_driver' AND \`time\` BETWEEN '$day 00:00:00' AND '$day 23:59:59' ORDER BY \`time\` LIMIT 20000"
  times=""
  for _ in 1 2 3 4 5; do
    s0=$(now); sql "$select" >/dev/null; s1=$(now)
    times="$times $(awk -v a="$s0" -v b="$s1" 'BEGIN {printf "%.0f", (b - a) * 1000}')"
  done
  echo "the SELECT alone (mariadb client, incl. its start-up): ms$times"
  echo "EXPLAIN: $(sql "EXPLAIN $select" | tr '\t' ' ')"
  echo "RSS at the end: gpsrelayd $(rss_of "$relay_pid") MiB (peak $(hwm_of "$relay_pid")), redis-server $(rss_of "$redis_pid") MiB, mariadbd $(rss_of "$mysql_pid") MiB"
  stop_relay
fi

if [ "$mode" = events ] || [ "$mode" = all ]; then
  ev_duration=${DURATION:-20}
  echo "=== events: entity events into MySQL (group commit), phases as the seed's k6 run"
  [ -n "${mysql_pid:-}" ] || start_mariadb
  redis FLUSHALL >/dev/null
  ev_phases=${EV_PHASES:-single-10 single-50 single-100 single-2000 bulk-100x10 bulk-100x1 grpc-100}
  # The grpc-N phases: ProcessEvent over gRPC from tests/load/grpc_events_load.cc.
  case " $ev_phases " in *" grpc-"*) cmake --build build --target grpc_events_load >/dev/null ;; esac
  grpc_port=$(free_port)
  start_relay "" "[events]
enabled = true
$mysql_section
[grpc]
listen = 127.0.0.1:$grpc_port"
  wait_for curl -sf "http://127.0.0.1:$relay_port/api/v1/events/health"
  base_url="http://127.0.0.1:$relay_port"
  ev_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  ev_metric() { curl -s "$base_url/metrics" | awk -v k="$1" '$1 == k {s += $2} END {printf "%d", s}'; }
  ev_line() {  # wrk output file: "req/s p50 p99 max non-2xx errors"
    awk '/^Requests\/sec:/ {r = $2} $1 == "50%" {a = $2} $1 == "99%" {b = $2} $1 == "Latency" && !m {m = $4}
      /Non-2xx/ {e = $NF} /Socket errors/ {s = $0}
      END {printf "%s/s, p50 %s, p99 %s, max %s, non-2xx %d%s", r, a, b, m, e, (s ? "; " s : "")}' "$1"
  }
  ev_run() {  # name connections [env...]
    local name=$1 conns=$2
    shift 2
    local t0 m0 u0 c0
    t0=$(ev_metric gpsrelay_events_transactions_total)
    u0=$(ev_metric gpsrelay_events_entity_updates_total)
    c0="$(ev_ticks "$relay_pid") $(ev_ticks "$mysql_pid")"
    env "$@" wrk -t2 -c"$conns" -d"${ev_duration}s" --timeout 30s --latency -s scripts/bench-events.lua \
      "$base_url/" >"$work/ev-$name.wrk"
    local t1 u1
    t1=$(ev_metric gpsrelay_events_transactions_total)
    u1=$(ev_metric gpsrelay_events_entity_updates_total)
    read -r g0 d0 <<<"$c0"
    echo "$name (-c$conns): $(ev_line "$work/ev-$name.wrk"); entity updates $(((u1 - u0) / ev_duration))/s," \
      "$((t1 - t0)) transactions ($(awk -v n=$((u1 - u0)) -v t=$((t1 - t0)) 'BEGIN {printf "%.0f", t ? n / t : 0}') updates each);" \
      "CPU gpsrelayd $(awk -v a="$g0" -v b="$(ev_ticks "$relay_pid")" -v d="$ev_duration" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", (b - a) / hz / d * 100}') %," \
      "mariadbd $(awk -v a="$d0" -v b="$(ev_ticks "$mysql_pid")" -v d="$ev_duration" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", (b - a) / hz / d * 100}') % of a core"
  }
  ev_grpc_run() {  # name calls-in-flight: the same events as gRPC ProcessEvent calls
    local name=$1 calls=$2
    local t0 u0 t1 u1
    t0=$(ev_metric gpsrelay_events_transactions_total)
    u0=$(ev_metric gpsrelay_events_entity_updates_total)
    build/tests/grpc_events_load --port "$grpc_port" --calls "$calls" --seconds "$ev_duration" \
      --entities 10000 --watch gpsrelayd="$relay_pid" --watch mariadbd="$mysql_pid" \
      >"$work/ev-$name.out" 2>"$work/ev-$name.err" || {
      echo "bench events: grpc_events_load $name failed:" >&2
      cat "$work/ev-$name.err" "$work/ev-$name.out" >&2
      return 1
    }
    t1=$(ev_metric gpsrelay_events_transactions_total)
    u1=$(ev_metric gpsrelay_events_entity_updates_total)
    echo "$name ($calls calls in flight, $(awk '$1 == "client_threads:" {print $2}' "$work/ev-$name.out") client threads and channels): $(awk '$1 == "calls_per_s:" {r = $2} $1 == "ok:" {o = $2}
      $1 == "non_ok:" {$1 = ""; n = $0} $1 == "latency_ms" {l = $(NF-4) " / " $(NF-3) " / " $(NF-2) " / " $(NF-1) " / " $NF}
      $1 == "cpu_percent_gpsrelayd:" {g = $2} $1 == "cpu_percent_mariadbd:" {d = $2} $1 == "client_cpu_percent:" {c = $2}
      END {printf "%s calls/s, OK %s, non-OK%s; latency p50 / p90 / p99 / p99.9 / max %s ms; CPU gpsrelayd %s %%, mariadbd %s %%, client %s %% of a core", r, o, n, l, g, d, c}' "$work/ev-$name.out");" \
      "entity updates $(((u1 - u0) / ev_duration))/s, $((t1 - t0)) transactions ($(awk -v n=$((u1 - u0)) -v t=$((t1 - t0)) 'BEGIN {printf "%.0f", t ? n / t : 0}') updates each)"
  }
  echo "mariadbd $(mariadbd --version | awk '{print $3}'), wrk -t2, ${ev_duration}s per phase, 10,000 vehicles"
  env EV_ENTITIES=10000 wrk -t2 -c50 -d3s -s scripts/bench-events.lua "$base_url/" >/dev/null  # warm-up
  ulimit -n 65536 2>/dev/null || true
  for phase in $ev_phases; do
    perf_pid=
    if [ -n "${PERF:-}" ]; then
      # 10 s of the phase's middle, every CPU, call graphs.
      (sleep 5 && perf record -a -g -F 499 -o "$work/perf-$phase.data" -- sleep 10 \
        >/dev/null 2>&1 && perf report -i "$work/perf-$phase.data" --no-children -g none --sort comm,dso \
        --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 >"${PERF_OUT:-/tmp}/events-perf-$phase.txt"
        perf report -i "$work/perf-$phase.data" --no-children -g none --comm gpsrelayd --sort dso,sym \
        --stdio 2>/dev/null | grep -v '^$' | grep '%' | head -60 >>"${PERF_OUT:-/tmp}/events-perf-$phase.txt") &
      perf_pid=$!
    fi
    case "$phase" in
      single-*) ev_run "$phase" "${phase#single-}" ;;
      bulk-100x10) ev_run "$phase" 8 EV_BULK=100 EV_PER_EVENT=10 ;;
      bulk-100x1) ev_run "$phase" 8 EV_BULK=100 ;;
      grpc-*) ev_grpc_run "$phase" "${phase#grpc-}" ;;
    esac
    [ -z "$perf_pid" ] || wait "$perf_pid" || true
  done
  if [ -z "${EV_PHASES:-}" ] || [ -n "${VAL_PHASES:-}" ]; then
    # Write-behind values: /write for 20 s (100,000 users), then how long
    # the flush needs for what is left; /read of random users (1 % never
    # written: 404 from MySQL) paced at ~20,000/s (52 connections, 2 ms
    # pause before each request).
    v_pending() {
      redis XPENDING gpsrelay:values values 2>/dev/null | head -1 | tr -d '\r' || echo 0
    }
    w0=$(ev_metric gpsrelay_values_rows_written_total)
    vc0="$(ev_ticks "$relay_pid") $(ev_ticks "${pids[0]}") $(ev_ticks "$mysql_pid")"
    VAL_MODE=write wrk -t2 -c64 -d"${ev_duration}s" --latency -s scripts/bench-values.lua \
      "$base_url/" >"$work/val-write.wrk"
    t_end=$(now)
    read -r g0 r0 d0 <<<"$vc0"
    echo "write (-c64): $(ev_line "$work/val-write.wrk"); stream $(redis XLEN gpsrelay:values) entries left," \
      "pending $(v_pending); CPU gpsrelayd / redis-server / mariadbd" \
      "$(awk -v g="$(( $(ev_ticks "$relay_pid") - g0 ))" -v r="$(( $(ev_ticks "${pids[0]}") - r0 ))" \
        -v d="$(( $(ev_ticks "$mysql_pid") - d0 ))" -v s="$ev_duration" -v hz="$(getconf CLK_TCK)" \
        'BEGIN {printf "%.0f / %.0f / %.0f", g / hz / s * 100, r / hz / s * 100, d / hz / s * 100}') % of a core"
    for _ in $(seq 600); do
      [ "$(redis XLEN gpsrelay:values)" = 0 ] && break
      sleep 0.1
    done
    echo "flush: stream empty $(awk -v a="$t_end" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}') s after the load;" \
      "rows written $(($(ev_metric gpsrelay_values_rows_written_total) - w0)), user_values $(sql "SELECT COUNT(*) FROM user_values") rows;" \
      "$(ev_metric gpsrelay_values_batch_rows_count) flushes"
    hits0=$(ev_metric gpsrelay_values_cache_hits_total)
    VAL_MODE=read VAL_DELAY_MS=2 wrk -t2 -c52 -d"${ev_duration}s" --latency -s scripts/bench-values.lua \
      "$base_url/" >"$work/val-read.wrk"
    echo "read (-c52, 2 ms pause each): $(ev_line "$work/val-read.wrk");" \
      "cache hits $(($(ev_metric gpsrelay_values_cache_hits_total) - hits0))"
  fi
  # Merge in SQL or in the daemon: the same multi-row upsert of 2,600 of
  # the vehicles, 20 times each way, from the mariadb client — once
  # writing the merged document as the daemon does, once leaving the merge
  # to MariaDB's JSON_MERGE_PATCH as a SQL design would.
  for how in daemon sql; do
    python3 - "$how" >"$work/merge-$how.sql" <<'PY'
import random, sys
random.seed(7)
expr = "VALUES(attributes)" if sys.argv[1] == "daemon" else "JSON_MERGE_PATCH(attributes, VALUES(attributes))"
for n in range(20):
    rows = ",".join("('vehicle','v-%d','{\"mileage\":%d,\"status\":{\"engine\":\"on\",\"fuel\":0.%d},\"driver\":\"d-%d\"}',NOW(3),NOW(3))"
                    % (v, n * 10000 + v, n % 10, v % 500) for v in sorted(random.sample(range(1, 10001), 2600)))
    print("INSERT INTO entities (entity_type, entity_id, attributes, created_at, updated_at) VALUES %s "
          "ON DUPLICATE KEY UPDATE attributes = %s, updated_at = VALUES(updated_at);" % (rows, expr))
PY
    s0=$(now)
    mariadb --no-defaults -uroot -S "$work/mysql.sock" gpsrelay <"$work/merge-$how.sql"
    s1=$(now)
    echo "merge in $how: 20 upserts of 2,600 rows in $(awk -v a="$s0" -v b="$s1" 'BEGIN {printf "%.0f ms, %.1f us per row", (b - a) * 1000, (b - a) * 1e6 / 52000}')"
  done
  echo "rows: entities $(sql "SELECT COUNT(*) FROM entities"), applied_events $(sql "SELECT COUNT(*) FROM applied_events");" \
    "gpsrelayd RSS $(awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$relay_pid/status") MiB (peak $(rss_mib) MiB)"
  stop_relay
fi

if [ "$mode" = ha ] || [ "$mode" = all ]; then
  ha_master=gpsrelay-bench
  # 1000 ms as in the integration fixture (Sentinel's default is 30 s). It
  # equals Sentinel's fixed 1 s reconnect period, so a sentinel that has just
  # switched to the new primary can count it down before its first PING is
  # answered and start a second failover (seen in trial runs); 2000 avoids
  # that and costs a second.
  ha_down_after=${HA_DOWN_AFTER:-1000}
  ha_failover_timeout=${HA_FAILOVER_TIMEOUT:-3000}
  # Sentinel's internal periods (its own: INFO every 10 s, hello every 2 s);
  # only SENTINEL DEBUG sets them. They decide how fast the sentinels learn
  # of replicas and of each other, and how soon the non-leaders hear of a
  # failover; the failover itself is down-after plus the 1 s ping and ask
  # periods, which stay Sentinel's.
  ha_info_period=1000
  ha_publish_period=500
  ha_kill_after=${HA_KILL_AFTER:-5}
  ha_failover_duration=${HA_FAILOVER_DURATION:-20}
  ha_ports=()        # data servers, the first primary
  declare -A ha_pid  # data server's port -> pid
  sentinel_ports=()
  mkdir -p "$work/ha"
  # The config files live on tmpfs; data (AOF) and logs stay in $work. Every
  # Sentinel step fsyncs a config: its own (a new epoch, a vote) or a data
  # server's (CONFIG REWRITE after SLAVEOF, in the server's main thread).
  # With three AOFs being appended to this one virtual disk, such an fsync
  # waited 3 to 10 s in trial runs: sentinels went into TILT, a promoted
  # replica hung in CONFIG REWRITE until the promotion timed out, and
  # ingest resumed after 11 s or not at all. On separate machines each disk
  # carries one AOF; this keeps that stall out of what is measured here.
  ha_conf=$(mktemp -d /dev/shm/gpsrelay-bench-ha.XXXXXX)
  trap 'cleanup; rm -rf "$ha_conf"' EXIT

  start_data_server() {  # port [port of the primary]
    local dir=$work/ha/redis-$1
    mkdir -p "$dir"
    # A config file rather than flags: Sentinel persists what it changes in a
    # server (SLAVEOF ... CONFIG REWRITE) and that fails without one.
    # Diskless sync with no delay: a replica's initial sync, and its resync
    # after a failover, is one fork writing to the socket rather than an RDB
    # file after waiting 5 s for more replicas.
    cat >"$ha_conf/redis-$1.conf" <<CONF
bind 127.0.0.1
port $1
dir "$dir"
logfile "$work/ha/redis-$1.log"
protected-mode no
save ""
appendonly yes
appendfsync everysec
repl-diskless-sync yes
repl-diskless-sync-delay 0
${2:+replicaof 127.0.0.1 $2}
CONF
    redis-server "$ha_conf/redis-$1.conf" &
    ha_pid[$1]=$!
    pids+=($!)
    ha_ports+=("$1")
  }
  start_sentinel() {  # port
    # Sentinel rewrites its config (its id, the peers it finds, each step).
    cat >"$ha_conf/sentinel-$1.conf" <<CONF
port $1
bind 127.0.0.1
protected-mode no
dir "$work/ha"
logfile "$work/ha/sentinel-$1.log"
sentinel monitor $ha_master 127.0.0.1 ${ha_ports[0]} 2
sentinel down-after-milliseconds $ha_master $ha_down_after
sentinel failover-timeout $ha_master $ha_failover_timeout
sentinel parallel-syncs $ha_master 1
CONF
    # Debian has no redis-sentinel; the mode is the same code in redis-server.
    redis-server "$ha_conf/sentinel-$1.conf" --sentinel &
    pids+=($!)
    sentinel_ports+=("$1")
  }
  replicas_online() {  # the primary lists every replica as online
    [ "$(redis-cli -p "${ha_ports[0]}" INFO replication | grep -c 'state=online')" = $((${#ha_ports[@]} - 1)) ]
  }
  # How many instances of a SENTINEL REPLICAS/SENTINELS answer (flat
  # name/value lines) have flags exactly $1, i.e. are up with no doubt.
  count_flags() { awk -v want="$1" 'prev == "flags" && $0 == want {n++} {prev = $0} END {print n + 0}'; }
  sentinels_ready() {  # every sentinel sees every replica and every other sentinel
    local port
    for port in "${sentinel_ports[@]}"; do
      [ "$(redis-cli -p "$port" SENTINEL REPLICAS "$ha_master" | count_flags slave)" = $((${#ha_ports[@]} - 1)) ] &&
        [ "$(redis-cli -p "$port" SENTINEL SENTINELS "$ha_master" | count_flags sentinel)" = $((${#sentinel_ports[@]} - 1)) ] ||
        return 1
    done
  }
  current_primary() { redis-cli -p "${sentinel_ports[0]}" SENTINEL GET-MASTER-ADDR-BY-NAME "$ha_master" | tail -1; }
  rewrite_done() {  # port
    redis-cli -p "$1" INFO persistence |
      grep -qE '^aof_rewrite_in_progress:0' && redis-cli -p "$1" INFO persistence | grep -qE '^aof_rewrite_scheduled:0'
  }
  # Empties the stream (FLUSHALL on $1, replicated to the others) and
  # rewrites every server's AOF from the empty data set, so each load meets
  # the same state, and the same automatic AOF rewrites as it grows.
  reset_redis() {  # port of the primary, ports of its replicas...
    local port
    redis-cli -p "$1" FLUSHALL >/dev/null
    [ $# -eq 1 ] || redis-cli -p "$1" WAIT $(($# - 1)) 5000 >/dev/null
    # (An error answer, a rewrite already running, is waited out the same.)
    for port in "$@"; do redis-cli -p "$port" BGREWRITEAOF >/dev/null || true; done
    for port in "$@"; do wait_for rewrite_done "$port"; done
  }
  start_ha_relay() {  # min_replicas_acked
    # start_relay's config says [redis] address; these environment overrides
    # (GPSRELAY_<SECTION>_<KEY>) win over it, and sentinels makes the daemon
    # ignore address.
    GPSRELAY_REDIS_SENTINELS=$(printf '127.0.0.1:%s,' "${sentinel_ports[@]}" | sed 's/,$//') \
      GPSRELAY_REDIS_MASTER_NAME=$ha_master GPSRELAY_REDIS_MIN_REPLICAS_ACKED=$1 start_relay ""
  }
  ticks_of() {  # pids...: their CPU time (user + system) in clock ticks
    local pid sum=0
    for pid in "$@"; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
    echo "$sum"
  }
  # The ingest load (run_wrk: 3 s warm-up, then the measured run) against
  # the running gpsrelayd; prints a row: req/s p50 p99 non-2xx, and the CPU
  # microseconds per 200 (warm-up and run) of gpsrelayd and of the given
  # redis-servers together.
  ha_row() {  # name redis-server-pids...
    local name=$1 relay0 redis0 accepted0 n hz errors
    shift
    relay0=$(cpu_ticks)
    redis0=$(ticks_of "$@")
    accepted0=$(metric gpsrelay_reports_accepted_total)
    run_wrk "$name" "http://127.0.0.1:$relay_port/api/gps/reports"
    sleep 0.5
    n=$(($(metric gpsrelay_reports_accepted_total) - accepted0))
    hz=$(getconf CLK_TCK)
    errors=$(non2xx "$name")
    printf '%-22s %10s %8s %8s %8s %10s %10s\n' "$name" "$(rps "$name")" "$(field "$name" 50%)" \
      "$(field "$name" 99%)" "${errors:-0}" \
      "$(awk -v t=$(($(cpu_ticks) - relay0)) -v hz="$hz" -v n="$n" 'BEGIN {printf "%.1fus", t / hz * 1e6 / n}')" \
      "$(awk -v t=$(($(ticks_of "$@") - redis0)) -v hz="$hz" -v n="$n" 'BEGIN {printf "%.1fus", t / hz * 1e6 / n}')"
  }
  xlen() { redis-cli -p "$1" XLEN gps:reports; }

  # (1) The ingest load: plain Redis by address, then through the sentinels
  # with min_replicas_acked = 0 and = 1.
  ha_ingest() {
    echo "--- ingest: wrk -t2 -c$connections -d${duration}s after a 3 s warm-up, each on an empty stream"
    printf '%-22s %10s %8s %8s %8s %10s %10s\n' load req/s p50 p99 non-2xx CPU/200 redis/200
    reset_redis "$redis_port"
    start_relay ""
    ha_row plain-address "${pids[0]}"
    stop_relay
    reset_redis "$redis_port"
    for acked in 0 1; do
      reset_redis "${ha_ports[@]}"
      start_ha_relay "$acked"
      ha_row "sentinel-acked-$acked" "${ha_pid[@]}"
      sleep 1  # the replicas catch up; nothing waits for them with N = 0
      accepted=$(metric gpsrelay_reports_accepted_total)
      lengths=$(for port in "${ha_ports[@]}"; do printf '%s ' "$(xlen "$port")"; done)
      ack_failures=$(metric gpsrelay_redis_replica_ack_failures_total)
      stop_relay
      echo "  min_replicas_acked = $acked: 200s sent $accepted; stream on primary, replica, replica: $lengths;" \
        "WAITs short of replicas: $ack_failures"
      for length in $lengths; do
        if [ "$length" -lt "$accepted" ]; then
          echo "MISMATCH: a server holds $length entries, fewer than the $accepted reports answered 200" >&2
          exit 1
        fi
      done
    done
    echo "N=1 / N=0 req/s: $(awk -v a="$(rps sentinel-acked-1)" -v b="$(rps sentinel-acked-0)" 'BEGIN {printf "%.2f", a / b}')" \
      "(goal: N=1 costs under 30 %, i.e. >= 0.70); N=0 / plain: $(awk -v a="$(rps sentinel-acked-0)" -v b="$(rps plain-address)" 'BEGIN {printf "%.2f", a / b}')"
  }
  # (2) The failover under the ingest load, min_replicas_acked = 1.
  ha_failover() {
    echo "--- failover: kill -9 of the primary ${ha_kill_after}s into a ${ha_failover_duration}s load (wrk -t2 -c$connections), min_replicas_acked = 1"
    reset_redis "${ha_ports[@]}"
    start_ha_relay 1
    cat "$work/post.lua" scripts/bench-ha-failover.lua >"$work/ha-failover.lua"
    old_primary=${ha_ports[0]}
    wrk -t2 -c"$connections" -d"${ha_failover_duration}s" --latency -s "$work/ha-failover.lua" \
      "http://127.0.0.1:$relay_port/api/gps/reports" >"$work/ha-failover.wrk" &
    load_pid=$!
    pids+=("$load_pid")
    sleep "$ha_kill_after"
    killed_at=$EPOCHREALTIME  # bash's clock: no fork between it and the kill
    kill -KILL "${ha_pid[$old_primary]}"
    wait "${ha_pid[$old_primary]}" 2>/dev/null || true
    wait "$load_pid" || true
    load_end=$EPOCHREALTIME
    sleep 1
    # HA_LOGS=dir keeps the logs and the configs.
    [ -z "${HA_LOGS:-}" ] || { mkdir -p "$HA_LOGS" && cp "$work"/ha/*.log "$ha_conf"/*.conf "$work/gpsrelayd.log" "$HA_LOGS/"; }
    new_primary=$(current_primary)
    accepted=$(metric gpsrelay_reports_accepted_total)
    ack_failures=$(metric gpsrelay_redis_replica_ack_failures_total)
    reconnects=$(metric gpsrelay_redis_reconnects_total)
    # Outages: when no wrk thread got a 200 for over 100 ms (the stretches
    # of scripts/bench-ha-failover.lua, intersected over the threads), in ms
    # from the kill. The ids of the reports answered 200 just before each
    # stretch that ends after the kill go to ha-ids for the check below.
    python3 - "$killed_at" "$load_end" "$work/ha-failover.wrk" "$work/ha-ids" <<'PY'
import sys
kill, end = float(sys.argv[1]) * 1000, float(sys.argv[2]) * 1000
stretches, threads, ids = {}, set(), set()
for line in open(sys.argv[3]):
    f = line.split()
    if f and f[0] == "non200":
        threads.add(f[1])
    if f and f[0] == "stretch":
        a, b = float(f[2]), float(f[3]) or end
        stretches.setdefault(f[1], []).append((a, b))
        if b > kill:
            ids.update(f[4:])
open(sys.argv[4], "w").write(" ".join(sorted(ids)) + "\n")
def intersect(xs, ys):
    return sorted((max(a, c), min(b, d)) for a, b in xs for c, d in ys if max(a, c) < min(b, d))
outages = stretches.get(min(threads), []) if threads else []
for t in threads:
    outages = intersect(outages, stretches.get(t, []))
outages = [(a, b) for a, b in outages if b > kill and b - a > 100]
for a, b in outages:
    print("  no 200 from %+.0f to %+.0f ms after the kill (%.0f ms)%s"
          % (a - kill, b - kill, b - a, ": the load ended" if b == end else ""))
if not outages:
    print("NO OUTAGE seen after the kill: check the run")
elif outages[0][1] == end:
    print("ingest did NOT resume before the load ended, %.0f ms after the kill" % (end - kill))
else:
    a, b = outages[0]
    print("kill -> first 200: %.0f ms; last 200 before -> first 200 after: %.0f ms (last 200 %+.0f ms from the kill)"
          % (b - kill, b - a, a - kill))
    if len(outages) > 1:
        print("kill -> end of the last outage: %.0f ms" % (outages[-1][1] - kill))
PY
    echo "(goal: ingest resumes within 5,000 ms of the kill)"
    read -r first_bad last_bad <<<"$(awk -v k="$killed_at" '$1 == "non200" && $3 > 0 {
        if (b == "" || $3 < b) b = $3; if (e == "" || $4 > e) e = $4}
      END {printf "%.0f %.0f\n", (b == "" ? 0 : b - k * 1000), (e == "" ? 0 : e - k * 1000)}' "$work/ha-failover.wrk")"
    echo "other answers from $first_bad ms to $last_bad ms after the kill; answers by status:" \
      "$(awk '$1 == "status" {printf "%s %s, ", $2, $3}' "$work/ha-failover.wrk" | sed 's/, $//');" \
      "$(awk '/^Requests\/sec:/ {print $2}' "$work/ha-failover.wrk") answers/s over the ${ha_failover_duration}s" \
      "(non-2xx included: refused fast); $(grep 'Socket errors' "$work/ha-failover.wrk" || echo 'no socket errors')"
    # What the sentinels and servers did, from their logs (local time, ms):
    # each step once, when the first sentinel logged it.
    echo "timeline from the kill (s):"
    python3 - "$killed_at" "$work/ha" <<'PY'
import datetime, glob, os, re, sys, time
killed, root = float(sys.argv[1]), sys.argv[2]
line_re = re.compile(r'^\d+:[XSCM] (\d+ \w+ \d+ [\d:.]+) [#*.-] (.*)$')
steps = ("+sdown master", "+odown master", "+try-failover", "+elected-leader", "-failover-abort",
         "+promoted-slave", "+switch-master", "+slave-reconf-done", "+convert-to-slave")
server_steps = ("MASTER MODE enabled", "Successful partial resynchronization", "Full resync from master",
                "sync: Finished with success")
first = {}
for path in glob.glob(root + "/*.log"):
    who = os.path.basename(path)[:-len(".log")]  # redis-<port> or sentinel-<port>
    for line in open(path, errors="replace"):
        m = line_re.match(line)
        if not m:
            continue
        when, text = m.groups()
        t = time.mktime(datetime.datetime.strptime(when, "%d %b %Y %H:%M:%S.%f").timetuple()) + \
            int(when.rsplit(".", 1)[1]) / 1000
        if t < killed:
            continue
        if who.startswith("sentinel") and text.startswith(steps):
            # The step and its instance: what comes before "@" or "#quorum".
            key = re.split(r" [@#]", text)[0]
        elif who.startswith("redis") and any(s in text for s in server_steps):
            key = "%s: %s" % (who.replace("redis-", "server "), re.sub(r" \(.*", "", text))
        else:
            continue
        first[key] = min(t, first.get(key, t))
for key, t in sorted(first.items(), key=lambda kv: kv[1]):
    print("  %6.3f  %s" % (t - killed, key))
PY
    # The last 2,500 reports each wrk thread had answered 200 before each
    # outage (scripts/bench-ha-failover.lua) must all be on the final primary.
    read -ra ids_before <"$work/ha-ids"
    missing=$(redis-cli -p "$new_primary" EVAL "local n = 0
      for _, id in ipairs(ARGV) do
        if #redis.call('XRANGE', KEYS[1], id, id) == 0 then n = n + 1 end
      end
      return n" 1 gps:reports "${ids_before[@]}" || echo "? (the primary does not answer)")
    echo "primary now $new_primary (was $old_primary); gpsrelayd: $reconnects reconnects, $ack_failures WAITs short of replicas"
    echo "200s sent: $accepted; stream on the primary now: $(xlen "$new_primary" || echo ?) entries;" \
      "of the ${#ids_before[@]} reports answered 200 last before each outage, missing on it: $missing"
    stop_relay
  }

  echo "=== ha: Redis Sentinel (a primary, 2 replicas, 3 sentinels, quorum 2) and min_replicas_acked"
  start_data_server "$(free_port)"
  start_data_server "$(free_port)" "${ha_ports[0]}"
  start_data_server "$(free_port)" "${ha_ports[0]}"
  wait_for replicas_online
  # The sentinels start once the primary lists both replicas: its first
  # INFO to them then names both.
  for _ in 1 2 3; do start_sentinel "$(free_port)"; done
  for port in "${sentinel_ports[@]}"; do
    wait_for redis-cli -p "$port" PING
    redis-cli -p "$port" SENTINEL DEBUG info-period "$ha_info_period" publish-period "$ha_publish_period" >/dev/null
  done
  wait_for sentinels_ready
  echo "sentinel: down-after-milliseconds $ha_down_after, failover-timeout $ha_failover_timeout, parallel-syncs 1;" \
    "SENTINEL DEBUG info-period $ha_info_period, publish-period $ha_publish_period;" \
    "gpsrelayd replica_ack_timeout 100ms (default), command_timeout 1s (default)"
  echo "redis $(redis-server --version | awk '{print $3}' | cut -d= -f2): primary ${ha_ports[0]}, replicas ${ha_ports[*]:1}," \
    "sentinels ${sentinel_ports[*]}; plain redis-server $redis_port"

  # HA_PARTS="ingest failover" (the default) runs both, in this order.
  for part in ${HA_PARTS:-ingest failover}; do "ha_$part"; done
fi
