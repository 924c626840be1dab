#!/usr/bin/env python3
"""A sample upstream for scripts/run.sh: prints every report gpsrelayd
delivers and answers 200, or 503 while the file given as --fail-file
exists (to watch retries, the MySQL failure store and a replay).

    scripts/sample-upstream.py --port 9001 --fail-file /tmp/x/upstream-down
"""
import argparse
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fail-file", required=True)
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as gpsrelayd expects

        def reply(self, status):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            self.reply(200 if self.path == "/health" else 404)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            failing = os.path.exists(args.fail_file)
            print(
                "upstream: %s message %s attempt %s: %s"
                % (
                    "REFUSED (503)" if failing else "received",
                    self.headers.get("X-GPSRelay-Message-ID"),
                    self.headers.get("X-GPSRelay-Attempt"),
                    body.decode("utf-8", "replace"),
                ),
                flush=True,
            )
            self.reply(503 if failing else 200)

        def log_message(self, *unused):
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    sys.exit(main())
