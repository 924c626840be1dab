// Location state scripts and their arguments (see location_state.h).
#include "locations/location_state.h"

#include <charconv>

namespace gpsrelay::locations {

const std::string_view kUpdateScript = R"lua(
local prefix, ttl, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local geo, expiry = prefix .. 'geo', prefix .. 'expiry'
local results = {}
for i = 4, #ARGV, 7 do
  local id, ts, lon, lat, order, record, entry =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local key = prefix .. 'driver:' .. id
  local current = redis.call('HGET', key, 'ts')
  local result = 1
  if current and tonumber(current) > tonumber(ts) then
    result = 0
  elseif current == ts then
    result = 2
  else
    redis.call('HSET', key, 'ts', ts, 'record', record, 'entry', entry)
    redis.call('PEXPIRE', key, ttl)
    if math.abs(tonumber(lat)) <= 85.05112878 then
      redis.call('GEOADD', geo, lon, lat, id)
      redis.call('ZADD', expiry, now + ttl, id)
    else
      redis.call('ZREM', geo, id)
    end
    local message = entry .. '\n' .. record
    if order ~= '' then
      redis.call('SET', prefix .. 'order:' .. order, id, 'PX', ttl)
      redis.call('PUBLISH', 'order:' .. order, message)
    end
    redis.call('PUBLISH', 'driver:' .. id, message)
  end
  results[#results + 1] = result
end
return results
)lua";

const std::string_view kSweepScript = R"lua(
local prefix, now = ARGV[1], tonumber(ARGV[2])
local geo, expiry = prefix .. 'geo', prefix .. 'expiry'
local due = redis.call('ZRANGEBYSCORE', expiry, '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local removed = 0
for _, id in ipairs(due) do
  local left = redis.call('PTTL', prefix .. 'driver:' .. id)
  if left > 0 then
    -- Refreshed by another instance whose clock is behind ours.
    redis.call('ZADD', expiry, now + left, id)
  else
    redis.call('ZREM', geo, id)
    redis.call('ZREM', expiry, id)
    removed = removed + 1
  end
end
return {removed, redis.call('ZCARD', expiry)}
)lua";

const std::string_view kNearbyScript = R"lua(
local prefix, limit = ARGV[1], tonumber(ARGV[5])
local want = limit
while true do
  local found = redis.call('GEOSEARCH', prefix .. 'geo', 'FROMLONLAT', ARGV[2], ARGV[3],
                           'BYRADIUS', ARGV[4], 'm', 'ASC', 'COUNT', want, 'WITHDIST')
  local out = {}
  for _, hit in ipairs(found) do
    local record = redis.call('HGET', prefix .. 'driver:' .. hit[1], 'record')
    if record then
      out[#out + 1] = record
      out[#out + 1] = hit[2]
      if #out >= 2 * limit then return out end
    end
  end
  -- Expired drivers not swept yet took places: look further, or stop
  -- when the search found everything in the circle.
  if #found < want then return out end
  want = want * 2
end
)lua";

const std::string_view kOrderScript = R"lua(
local driver = redis.call('GET', ARGV[1] .. 'order:' .. ARGV[2])
if not driver then return false end
return redis.call('HGET', ARGV[1] .. 'driver:' .. driver, 'record')
)lua";

std::string format_number(double value) {
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  (void)ec;  // 32 bytes hold any double's shortest form
  return std::string(text, end);
}

UpdateBatch::UpdateBatch(const StateKeys& keys, std::int64_t ttl_ms, std::int64_t now_ms)
    : args_{keys.prefix(), std::to_string(ttl_ms), std::to_string(now_ms)} {}

void UpdateBatch::add(const LocationRecord& record, std::string_view entry_id,
                      std::string_view json) {
  args_.push_back(record.driver_id);
  args_.push_back(std::to_string(record.timestamp_ms));
  args_.push_back(format_number(record.longitude));
  args_.push_back(format_number(record.latitude));
  args_.push_back(record.order_id.value_or(""));
  args_.push_back(json.empty() ? to_json(record) : std::string(json));
  args_.emplace_back(entry_id);
}

}  // namespace gpsrelay::locations
