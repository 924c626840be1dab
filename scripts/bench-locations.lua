-- wrk script for `scripts/bench.sh locations`: simulated drivers, paced.
--
-- LOC_MODE=post  POST /api/v1/drivers/{id}/location; each wrk thread owns
--                its own slice of the LOC_DRIVERS drivers and posts for
--                them in turn, so a driver's reports are ~LOC_DRIVERS/rate
--                seconds apart and never share a millisecond (its history
--                rows stay unique). Each body carries a position moving on
--                a small circle around the driver's home and the current
--                time in Unix ms (taken when the request is built, just
--                before it is sent).
-- LOC_MODE=get   GET /api/v1/drivers/{id}/location of a random driver.
--
-- LOC_RATE       requests/s of the whole wrk run (all threads); 0 = unpaced.
-- LOC_DRIVERS    number of drivers, ids drv-00000 ... (default 10000).
-- LOC_THREADS    wrk's -t.
--
-- Pacing: delay() hands every request a slot on a fixed per-thread
-- schedule (1000 / (LOC_RATE / threads) ms apart); a connection ready early
-- waits for its slot, so the rate holds as long as connections are free.
-- A schedule more than a second behind is reset rather than caught up.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()  -- wall clock (CLOCK_REALTIME), ms with a fraction
  ffi.C.clock_gettime(0, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local mode = os.getenv("LOC_MODE") or "post"
local rate = tonumber(os.getenv("LOC_RATE") or "0")
local drivers = tonumber(os.getenv("LOC_DRIVERS") or "10000")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads - 1)
end

-- A thread's state does not know how many threads there are: bench.sh
-- passes wrk's -t as LOC_THREADS.
local total_threads = tonumber(os.getenv("LOC_THREADS") or "1")
local first, count, sent, interval, next_due

local function slice()
  if first then return end
  local per = math.floor(drivers / total_threads)
  first = thread_index * per
  count = (thread_index == total_threads - 1) and (drivers - first) or per
  sent = 0
  if rate > 0 then interval = 1000 / (rate / total_threads) end
  math.randomseed(thread_index * 7919 + 17)
end

function delay()
  if not interval then return 0 end
  local t = now_ms()
  if not next_due or next_due < t - 1000 then next_due = t end
  next_due = next_due + interval
  local wait = next_due - t
  if wait <= 0 then return 0 end
  return math.floor(wait)
end

local post_headers = { ["Content-Type"] = "application/json" }
local deg = math.pi / 180

function request()
  slice()
  sent = sent + 1
  if mode == "get" then
    local id = math.random(0, drivers - 1)
    return wrk.format("GET", string.format("/api/v1/drivers/drv-%05d/location", id))
  end
  local id = first + (sent % count)
  local t = now_ms()
  local ms = math.floor(t)
  -- Home: a deterministic spread of about +-0.1 degrees around central
  -- Berlin; then one lap of a ~200 m circle every 10 minutes.
  local home_lat = 52.52 + ((id * 7919) % 2000 - 1000) / 10000
  local home_lon = 13.405 + ((id * 104729) % 2000 - 1000) / 10000
  local angle = (ms / 600000 * 360 + id) % 360
  local lat = home_lat + 0.0018 * math.sin(angle * deg)
  local lon = home_lon + 0.0029 * math.cos(angle * deg)
  local body = string.format(
    '{"latitude":%.6f,"longitude":%.6f,"speed":%.1f,"heading":%.1f,"accuracy":5,"timestamp":%d}',
    lat, lon, 20 + id % 40, (angle + 90) % 360, ms)
  return wrk.format("POST", string.format("/api/v1/drivers/drv-%05d/location", id), post_headers,
    body)
end
