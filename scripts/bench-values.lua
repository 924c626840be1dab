-- wrk script of scripts/bench.sh events, write-behind values:
-- VAL_MODE=write posts {"user_id","value","ts"} for one of VAL_USERS users
-- at random (ts increasing per thread); VAL_MODE=read gets /read?user_id=
-- of one of them. VAL_DELAY_MS > 0 makes each connection wait that long
-- before every request (to pace the read load).
local mode = os.getenv("VAL_MODE") or "write"
local users = tonumber(os.getenv("VAL_USERS") or "100000")
local pause = tonumber(os.getenv("VAL_DELAY_MS") or "0")
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  counter = 0
  math.randomseed(os.time() * 1000 + id)
end

if pause > 0 then
  function delay() return pause end
end

local headers = { ["Content-Type"] = "application/json" }

request = function()
  counter = counter + 1
  local user = math.random(users)
  if mode == "read" then
    return wrk.format("GET", "/read?user_id=u-" .. user)
  end
  local body = string.format(
    '{"user_id":"u-%d","value":{"score":%d,"level":"l-%d","tags":["a","b"]},"ts":%d}',
    user, counter, counter % 50, 1764489600000 + counter * 8 + id)
  return wrk.format("POST", "/write", headers, body)
end
