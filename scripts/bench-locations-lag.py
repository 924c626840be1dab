#!/usr/bin/env python3
"""Samples the location service's end-to-end lag for `scripts/bench.sh locations`.

Subscribes (PSUBSCRIBE, plain RESP over a socket) to the Pub/Sub channel
`driver:<pattern>` that the locations group's state script publishes on
when it applies a record, and for every message takes
  arrival time here - the record's "timestamp".
The bench's wrk script sets that timestamp to the wall clock just before
it sends the request, so a sample spans HTTP ingest, the XADD, the group's
read, the state script and the publish: an upper bound of the XADD ->
current-location lag. Runs until SIGTERM/SIGINT, then prints
"count p50_ms p99_ms max_ms" (or "0 n/a n/a n/a").

  bench-locations-lag.py REDIS_PORT PATTERN      e.g. 6379 'drv-000*'
"""
import datetime
import json
import signal
import socket
import sys
import time


def main():
    port, pattern = int(sys.argv[1]), sys.argv[2]
    channel = b"driver:" + pattern.encode()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"*2\r\n$10\r\nPSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(channel), channel))
    stream = sock.makefile("rb")
    lags = []
    # SIGTERM interrupts the blocking read like Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    def read_reply():
        line = stream.readline()
        if not line:
            raise EOFError
        kind, rest = line[:1], line[1:-2]
        if kind == b"*":
            return [read_reply() for _ in range(int(rest))]
        if kind == b"$":
            n = int(rest)
            data = stream.read(n + 2)[:-2]
            return data
        return rest

    while True:
        try:
            reply = read_reply()
        except (KeyboardInterrupt, EOFError, OSError, ValueError):
            break
        arrived_ms = time.time() * 1000
        if not isinstance(reply, list) or len(reply) != 4 or reply[0] != b"pmessage":
            continue
        try:
            stamp = json.loads(reply[3])["timestamp"]
            sent = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=datetime.timezone.utc)
        except (ValueError, KeyError):
            continue
        lags.append(arrived_ms - sent.timestamp() * 1000)
    if not lags:
        print("0 n/a n/a n/a")
        return
    lags.sort()

    def at(q):
        return lags[min(len(lags) - 1, int(len(lags) * q))]

    print("%d %.1f %.1f %.1f" % (len(lags), at(0.5), at(0.99), lags[-1]))


if __name__ == "__main__":
    main()
