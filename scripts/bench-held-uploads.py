#!/usr/bin/env python3
"""Held uploads against gpsrelayd, for scripts/bench.sh memory.

Opens CONNECTIONS connections to HOST:PORT, sends on each the headers of a
POST with Content-Length: DECLARED and then SENT bytes of body (fewer than
declared, so no request ever completes), and holds them. Reports what the
daemon PID holds in memory at that point (VmRSS, VmHWM from
/proc/PID/status) and how many connections it answered with 503 (or closed
before any answer); then closes every connection, waits SETTLE seconds and
reports VmRSS again.

Standard library only; one thread, non-blocking sockets and select(), so
all uploads make progress together, as a burst from many clients would.

  bench-held-uploads.py HOST PORT PID [CONNECTIONS DECLARED SENT SETTLE]
"""
import selectors
import socket
import sys
import time


def memory(pid):
    """VmRSS and VmHWM of pid, as text in MiB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return f"VmRSS {values['VmRSS'] // 1024} MiB, VmHWM {values['VmHWM'] // 1024} MiB"


def main():
    host, port, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 300
    declared = int(sys.argv[5]) if len(sys.argv) > 5 else 1048576
    sent_target = int(sys.argv[6]) if len(sys.argv) > 6 else 1000000
    settle = float(sys.argv[7]) if len(sys.argv) > 7 else 2.0

    head = (f"POST /api/gps/reports HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n").encode()
    chunk = b"[" + b"0," * 32767  # a JSON array that never ends
    selector = selectors.DefaultSelector()
    conns = []
    for _ in range(count):
        s = socket.create_connection((host, port))
        s.setblocking(False)
        c = {"sock": s, "out": bytearray(head), "body_left": sent_target,
             "in": bytearray(), "closed": False}
        conns.append(c)
        selector.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)

    def close(c):
        if not c["closed"]:
            selector.unregister(c["sock"])
            c["closed"] = True

    started = time.monotonic()
    last_progress = started
    # Until every body is sent (or its connection answered/closed), and no
    # byte has moved for a second: the daemon has read what it will read.
    while time.monotonic() - last_progress < 1.0 and time.monotonic() - started < 120:
        for key, events in selector.select(timeout=0.1):
            c = key.data
            if events & selectors.EVENT_READ:
                try:
                    data = c["sock"].recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    data = b""
                if data:
                    c["in"] += data
                else:
                    close(c)
                    continue
                last_progress = time.monotonic()
            if events & selectors.EVENT_WRITE and not c["closed"]:
                if not c["out"] and c["body_left"] > 0:
                    n = min(len(chunk), c["body_left"])
                    c["out"] += chunk[:n]
                    c["body_left"] -= n
                if c["out"]:
                    try:
                        n = c["sock"].send(c["out"])
                    except BlockingIOError:
                        n = 0
                    except (ConnectionResetError, BrokenPipeError):
                        close(c)
                        continue
                    del c["out"][:n]
                    if n:
                        last_progress = time.monotonic()
                if not c["out"] and c["body_left"] == 0:
                    selector.modify(c["sock"], selectors.EVENT_READ, c)

    held = memory(pid)
    statuses = {}
    for c in conns:
        line = bytes(c["in"]).split(b"\r\n", 1)[0]
        if line.startswith(b"HTTP/1.1 "):
            status = line.split()[1].decode()
        elif c["closed"]:
            status = "closed"
        else:
            status = "held"
        statuses[status] = statuses.get(status, 0) + 1
    body_bytes = sum(sent_target - c["body_left"] for c in conns)
    print(f"{count} connections, {body_bytes} body bytes sent in {time.monotonic() - started:.1f} s")
    print("answers: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print(f"all sent and held: {held}")
    for c in conns:
        c["sock"].close()
    time.sleep(settle)
    print(f"{settle:g} s after closing them: {memory(pid)}")


if __name__ == "__main__":
    main()
