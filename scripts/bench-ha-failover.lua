-- wrk script of scripts/bench.sh ha, failover phase. bench.sh appends it to
-- the ingest request (post.lua), so the load is the ingest benchmark's; this
-- part only watches the answers, since the primary is killed during the
-- run. Per thread it keeps every stretch of more than STRETCH_MS without a
-- 200 (an outage; one still open when the run ends counts too) with the
-- message ids of the last KEEP_IDS 200s before it (the reports most at risk
-- of being lost with a primary), and the time of the first and last answer
-- that was not a 200. done() prints, for bench.sh (times in ms since the
-- epoch):
--   stretch <thread> <last 200 before> <first 200 after, 0: none came> <id>...
--   non200 <thread> <first> <last>
--   status <code> <answers>
-- The clock is CLOCK_REALTIME through LuaJIT's ffi (wrk has no clock finer
-- than os.time()'s seconds), so bench.sh can compare it with its kill time.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_ha_timespec;
int clock_gettime(int clock_id, bench_ha_timespec *tp);
]]
local CLOCK_REALTIME = 0
local timespec = ffi.new("bench_ha_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_REALTIME, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

local KEEP_IDS = 2500
local STRETCH_MS = 100

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

-- Globals: each thread has its own Lua state, read by done() via thread:get.
last_ok = 0        -- time of the latest 200
stretches = {}     -- "<from> <to> <ids>" of each stretch over STRETCH_MS
first_bad, last_bad = 0, 0
statuses = {}      -- status -> answers
-- The ids of the latest 200s. Only a 200 changes it, so when a stretch
-- without 200s ends (or the run does) it holds the ids from before it.
ring, ring_next = {}, 1

local function ring_ids(from_ring)
  local ids = {}
  for _, message_id in pairs(from_ring) do ids[#ids + 1] = message_id end
  return table.concat(ids, " ")
end

function response(status, headers, body)
  local t = now_ms()
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= 200 then
    if first_bad == 0 then first_bad = t end
    last_bad = t
    return
  end
  if last_ok > 0 and t - last_ok > STRETCH_MS then
    stretches[#stretches + 1] = string.format("%.3f %.3f %s", last_ok, t, ring_ids(ring))
  end
  last_ok = t
  -- The answer is {"status":"ok","message_id":"<stream id>"}.
  ring[ring_next] = body:match('"message_id":"([%d%-]+)"')
  ring_next = ring_next % KEEP_IDS + 1
end

function done(summary, latency, requests)
  local totals, t = {}, now_ms()
  for _, thread in ipairs(threads) do
    local id = thread:get("id")
    for _, stretch in ipairs(thread:get("stretches")) do
      io.write(string.format("stretch %d %s\n", id, stretch))
    end
    local last = thread:get("last_ok")
    if last > 0 and t - last > STRETCH_MS then
      io.write(string.format("stretch %d %.3f 0 %s\n", id, last, ring_ids(thread:get("ring"))))
    end
    io.write(string.format("non200 %d %.3f %.3f\n", id, thread:get("first_bad"), thread:get("last_bad")))
    for status, n in pairs(thread:get("statuses")) do totals[status] = (totals[status] or 0) + n end
  end
  for status, n in pairs(totals) do io.write(string.format("status %d %d\n", status, n)) end
end
