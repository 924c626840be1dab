#!/usr/bin/env bash
# Installs the Debian 12 packages gpsrelay needs to build, test, run or
# benchmark. Idempotent: asks apt only for what is missing, and runs
# 'apt-get update' only when something is.
#
#   scripts/install-deps.sh build|test|run|bench|deb|rpm|packaging ...
set -euo pipefail

build=(build-essential cmake pkg-config libevent-dev libhiredis-dev libjansson-dev
       libsystemd-dev libinih-dev libgtest-dev libcurl4-openssl-dev libmariadb-dev libssl-dev
       libwslay-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler)
want=("${build[@]}")
for purpose in "$@"; do
  case "$purpose" in
    build) ;;
    run) want+=(redis-server mariadb-server curl python3 python3-websockets libjs-leaflet) ;;
    # libjs-leaflet, chromium, python3-websockets: the /map page in a headless browser.
    # nginx-light: the HTTP/2 upstream of the forwarding tests (h2c and TLS ALPN).
    test) want+=(redis-server mariadb-server curl nginx-light clang-14 libclang-rt-14-dev clang-format clang-tidy
                 libjs-leaflet chromium python3-websockets) ;;
    # nghttp2-client: h2load paces the e2e load (--rps); libnginx-mod-http-echo:
    # upstreams that read the body before answering.
    bench) want+=(redis-server redis-tools mariadb-server curl python3 wrk nghttp2-client nginx-light
                  libnginx-mod-http-echo libbenchmark-dev) ;;
    deb) want+=(debhelper dpkg-dev lintian rsync util-linux systemd) ;;
    rpm) want+=(rpm rpmlint rsync util-linux) ;;
    packaging) want+=(systemd groff man-db) ;;
    *) echo "install-deps.sh: unknown purpose '$purpose'" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps.sh: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# Packaged servers (redis, nginx) must not start as system services here:
# everything gpsrelay runs, it starts itself on private ports.
export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
