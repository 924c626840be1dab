-- wrk script of scripts/bench.sh events: each request is an entity event
-- with a uuid of its own (so none is a duplicate), updating one of
-- EV_ENTITIES vehicles (chosen at random: rows are shared, as in a fleet)
-- with a small nested document; EV_BULK > 0 sends POST /api/v1/events/bulk
-- with that many such events per request instead, EV_PER_EVENT entity
-- updates in each.
local entities = tonumber(os.getenv("EV_ENTITIES") or "10000")
local bulk = tonumber(os.getenv("EV_BULK") or "0")
local per_event = tonumber(os.getenv("EV_PER_EVENT") or "1")
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  counter = 0
  prefix = string.format("%d-%d-%d", os.time(), math.random(1000000), id)
  math.randomseed(os.time() * 1000 + id)
end

local function event()
  counter = counter + 1
  local updates = {}
  for i = 1, per_event do
    updates[i] = string.format(
      '{"entityType":"vehicle","entityId":"v-%d","updatedAttributes":' ..
      '{"mileage":%d,"status":{"engine":"on","fuel":0.%d},"driver":"d-%d"}}',
      math.random(entities), counter, counter % 10, counter % 500)
  end
  return string.format(
    '{"eventHeader":{"uuid":"%s-%d","eventName":"vehicle.updated","eventType":"update",' ..
    '"createdDate":"2026-11-30T08:00:00.000Z"},"eventBody":{"entities":[%s]}}',
    prefix, counter, table.concat(updates, ","))
end

local headers = { ["Content-Type"] = "application/json" }

request = function()
  if bulk > 0 then
    local events = {}
    for i = 1, bulk do events[i] = event() end
    return wrk.format("POST", "/api/v1/events/bulk", headers, "[" .. table.concat(events, ",") .. "]")
  end
  return wrk.format("POST", "/api/v1/events", headers, event())
end
