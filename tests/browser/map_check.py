#!/usr/bin/env python3
"""map_check.py: drives the live map page (GET /map) in headless Chromium.

Opens the page over the DevTools protocol, waits for the marker of one
driver, posts a new location for that driver to the daemon, waits until the
page shows the marker at the new position (whether the update came over the
WebSocket or by polling), optionally clicks the driver and waits for its
route, and saves a screenshot. Prints what it saw; exits 0 when all of that
happened, 1 with a message saying what did not, 2 on bad usage.

Chromium is always killed and its profile directory removed.

    map_check.py --base http://127.0.0.1:8080 --page '/map?lat=52.5&lng=13.4' \
        --driver d1 --move-to 52.51,13.41 --artifacts DIR [--token T] [--expect-route]

Needs python3-websockets (Debian) and chromium.
"""

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

try:
    import websockets
except ImportError:
    sys.exit("map_check.py needs python3-websockets (Debian's, for /usr/bin/python3): "
             "scripts/install-deps.sh test")


class CheckFailed(Exception):
    pass


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the daemon's base URL, http://host:port")
    parser.add_argument("--page", required=True, help="the page's path and query, /map?...")
    parser.add_argument("--driver", required=True, help="the driver whose marker must move")
    parser.add_argument("--move-to", required=True, help="LAT,LNG to post for the driver")
    parser.add_argument("--artifacts", required=True, help="directory for map.png")
    parser.add_argument("--token", default="", help="read and device token, if the daemon wants one")
    parser.add_argument("--expect-route", action="store_true",
                        help="click the driver and wait for its route (needs history)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per step")
    args = parser.parse_args()
    try:
        lat, lng = (float(part) for part in args.move_to.split(","))
    except ValueError:
        parser.error("--move-to must be LAT,LNG")
    args.target = (lat, lng)
    return args


def start_chromium(binary, profile, log_path):
    """Starts headless Chromium; returns (process, DevTools browser URL)."""
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
         "--user-data-dir=" + profile, "--window-size=1000,700", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    log.close()
    # Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID".
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(log_path, "rb") as f:
            match = re.search(rb"DevTools listening on (ws://\S+)", f.read())
        if match:
            return process, match.group(1).decode()
        if process.poll() is not None:
            break
        time.sleep(0.1)
    with open(log_path, "rb") as f:
        tail = f.read()[-2000:].decode(errors="replace")
    stop_chromium(process)
    raise CheckFailed("chromium printed no DevTools address; its output:\n" + tail)


def stop_chromium(process):
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def page_target(browser_url):
    """The DevTools WebSocket URL of the page Chromium opened."""
    port = re.match(r"ws://[^:/]+:(\d+)/", browser_url).group(1)
    with urllib.request.urlopen("http://127.0.0.1:%s/json/list" % port, timeout=10) as response:
        targets = json.load(response)
    for target in targets:
        if target.get("type") == "page":
            return target["webSocketDebuggerUrl"]
    raise CheckFailed("chromium has no page target: %r" % targets)


class DevTools:
    """A minimal DevTools protocol client: commands, and a log of what the
    page printed or threw (the clearest clue when the check fails)."""

    def __init__(self, socket):
        self.socket = socket
        self.next_id = 0
        self.pending = {}
        self.console = []
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        async for text in self.socket:
            message = json.loads(text)
            if "id" in message:
                future = self.pending.pop(message["id"], None)
                if future and not future.done():
                    future.set_result(message)
            elif message.get("method") == "Runtime.consoleAPICalled":
                args = message["params"].get("args", [])
                self.console.append("console.%s: %s" % (
                    message["params"].get("type"),
                    " ".join(str(a.get("value", a.get("description", ""))) for a in args)))
            elif message.get("method") == "Runtime.exceptionThrown":
                details = message["params"]["exceptionDetails"]
                exception = details.get("exception", {}).get("description", details.get("text"))
                self.console.append("exception: %s" % exception)
            elif message.get("method") == "Log.entryAdded":
                entry = message["params"]["entry"]
                self.console.append("%s %s: %s %s" % (entry.get("source"), entry.get("level"),
                                                      entry.get("text"), entry.get("url", "")))

    async def call(self, method, **params):
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        await self.socket.send(json.dumps({"id": self.next_id, "method": method,
                                           "params": params}))
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            raise CheckFailed("%s failed: %s" % (method, reply["error"]))
        return reply["result"]

    async def evaluate(self, expression):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise CheckFailed("page script failed: %s" % result["exceptionDetails"])
        return result["result"].get("value")


# The page state the check reads: the driver's list entry and the socket.
STATE_SCRIPT = """(() => {
  if (!document.body) return JSON.stringify({ws: null, status: null, route: null,
                                             routePoints: 0, driver: null});
  const item = [...document.querySelectorAll('#drivers li')]
      .find((li) => li.dataset.driver === %s);
  return JSON.stringify({
    ws: document.body.dataset.ws || null,
    status: (document.getElementById('status') || {}).textContent || null,
    route: document.body.dataset.route || null,
    routePoints: Number(document.body.dataset.routePoints || 0),
    driver: item ? {lat: Number(item.dataset.lat), lng: Number(item.dataset.lng),
                    updates: Number(item.dataset.updates)} : null,
  });
})()"""


async def wait_for(devtools, driver, condition, what, timeout):
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = json.loads(await devtools.evaluate(STATE_SCRIPT % json.dumps(driver)))
        if condition(state):
            return state
        await asyncio.sleep(0.2)
    raise CheckFailed("timed out after %.0f s waiting for %s; last page state: %s"
                      % (timeout, what, json.dumps(state)))


def post_location(base, driver, target, token):
    body = json.dumps({"latitude": target[0], "longitude": target[1]}).encode()
    request = urllib.request.Request(
        base + "/api/v1/drivers/%s/location" % urllib.request.quote(driver, safe=""),
        data=body, method="POST", headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    if status != 202:
        raise CheckFailed("POST of the new location answered %d, not 202" % status)


def near(a, b):
    return abs(a - b) < 1e-6


async def check(args, devtools):
    await devtools.call("Runtime.enable")
    await devtools.call("Log.enable")
    await devtools.call("Page.enable")
    url = args.base + args.page
    await devtools.call("Page.navigate", url=url)
    print("opened %s" % url)

    first = await wait_for(devtools, args.driver, lambda s: s["driver"] is not None,
                           "the marker of driver %s" % args.driver, args.timeout)
    print("marker of %s at %.6f,%.6f (updates %d, ws %s)" % (
        args.driver, first["driver"]["lat"], first["driver"]["lng"], first["driver"]["updates"],
        first["ws"]))

    post_location(args.base, args.driver, args.target, args.token)
    print("posted %s at %.6f,%.6f" % (args.driver, args.target[0], args.target[1]))
    moved = await wait_for(
        devtools, args.driver,
        lambda s: s["driver"] and near(s["driver"]["lat"], args.target[0])
        and near(s["driver"]["lng"], args.target[1]),
        "the marker to move to %.6f,%.6f" % args.target, args.timeout)
    print("marker of %s moved to %.6f,%.6f (updates %d, ws %s, status %r)" % (
        args.driver, moved["driver"]["lat"], moved["driver"]["lng"], moved["driver"]["updates"],
        moved["ws"], moved["status"]))
    if moved["driver"]["updates"] < 2:
        raise CheckFailed("the marker moved but data-updates is %d" % moved["driver"]["updates"])

    if args.expect_route:
        # History is written in batches (locations.batch_interval): the new
        # point may reach MySQL after the first click, so click again until
        # the route has it, as a user would.
        deadline = time.monotonic() + args.timeout
        while True:
            await devtools.evaluate(
                "[...document.querySelectorAll('#drivers li')]"
                ".find((li) => li.dataset.driver === %s)"
                ".querySelector('button').click()" % json.dumps(args.driver))
            try:
                routed = await wait_for(
                    devtools, args.driver,
                    lambda s: s["route"] == args.driver and s["routePoints"] >= 2,
                    "the route of %s with 2 or more points" % args.driver,
                    min(2.0, max(0.1, deadline - time.monotonic())))
                break
            except CheckFailed:
                if time.monotonic() >= deadline:
                    raise
        print("route of %s drawn with %d points" % (args.driver, routed["routePoints"]))

    # Let the map finish panning or fitting (and the grid redraw) first.
    await asyncio.sleep(1.0)
    shot = await devtools.call("Page.captureScreenshot", format="png")
    os.makedirs(args.artifacts, exist_ok=True)
    path = os.path.join(args.artifacts, "map.png")
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print("screenshot %s" % path)


async def run(args, browser_url):
    async with websockets.connect(page_target(browser_url), max_size=None,
                                  ping_interval=None) as socket:
        devtools = DevTools(socket)
        try:
            await check(args, devtools)
        finally:
            for line in devtools.console:
                print("page: " + line)
            devtools.reader.cancel()


def main():
    args = parse_args()
    profile = tempfile.mkdtemp(prefix="map-check-chromium.")
    process = None
    try:
        process, browser_url = start_chromium(args.chromium, profile,
                                              os.path.join(profile, "chromium.log"))
        asyncio.run(run(args, browser_url))
        print("map check passed")
        return 0
    except CheckFailed as failure:
        print("map check FAILED: %s" % failure, file=sys.stderr)
        return 1
    finally:
        if process is not None:
            stop_chromium(process)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
