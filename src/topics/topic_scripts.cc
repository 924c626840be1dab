// Lua scripts of the topics' Redis side (see topic_scripts.h).
#include "topics/topic_scripts.h"

#include <openssl/sha.h>

#include <unordered_map>

#include "core/hex.h"

namespace gpsrelay::topics {
namespace {

// Shared by the scripts below: ARGV[1] is always the key prefix.
constexpr std::string_view kPrelude = R"lua(
local P = ARGV[1]

-- A topic's partition count, nil when there is no such topic.
local function partitions(t)
  local meta = redis.call('HGET', P .. 'meta', t)
  if not meta then return nil end
  return tonumber(string.match(meta, '^(%d+)'))
end

local function retention(t)
  return tonumber(string.match(redis.call('HGET', P .. 'meta', t), '^%d+ (%d+)'))
end

-- Appends fields to partition p of t, trimming it to t's retention.
local function append(t, p, now, fields)
  local minid = tostring(math.max(0, now - retention(t)))
  return redis.call('XADD', P .. t .. ':' .. p, 'MINID', '~', minid, '*', unpack(fields))
end

local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end

-- A member's value is "<session expiry ms> <instance it last came through>".
local function expiry_of(member)
  return tonumber(string.match(member, '^(%d+)'))
end

local function live_consumer(g, c, now)
  local member = redis.call('HGET', P .. 'group:' .. g .. ':members', c)
  return member ~= false and expiry_of(member) >= now
end

-- Consumer c leaves group g: what it holds unacknowledged becomes due for
-- redelivery at once (idle for the visibility timeout, owned by nobody
-- live), then its Redis consumers and its session go.
local function release(g, c, vt)
  for _, t in ipairs(redis.call('SMEMBERS', P .. 'group:' .. g .. ':topics')) do
    for p = 0, (partitions(t) or 0) - 1 do
      local s = P .. t .. ':' .. p
      while true do
        local pending = redis.pcall('XPENDING', s, g, '-', '+', 1000, c)
        if type(pending) ~= 'table' or pending.err or #pending == 0 then break end
        local args = {s, g, '_released', 0}
        for _, e in ipairs(pending) do args[#args + 1] = e[1] end
        args[#args + 1] = 'IDLE'
        args[#args + 1] = vt
        args[#args + 1] = 'JUSTID'
        redis.call('XCLAIM', unpack(args))
        if #pending < 1000 then break end
      end
      redis.pcall('XGROUP', 'DELCONSUMER', s, g, c)
    end
  end
  redis.call('HDEL', P .. 'group:' .. g .. ':members', c)
end
)lua";

std::string with_prelude(std::string_view body) {
  std::string script(kPrelude);
  script += body;
  return script;
}

}  // namespace

const std::string kCreateScript = R"lua(
local meta = ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4]
return redis.call('HSETNX', KEYS[1], ARGV[1], meta)
)lua";

const std::string kDescribeScript = R"lua(
local meta = redis.call('HGET', KEYS[1], ARGV[2])
if not meta then return false end
local partitions = tonumber(string.match(meta, '^(%d+)'))
local length = 0
local order = {}
local groups = {}
for p = 0, partitions - 1 do
  local key = ARGV[1] .. ARGV[2] .. ':' .. p
  if redis.call('EXISTS', key) == 1 then
    length = length + redis.call('XLEN', key)
    for _, info in ipairs(redis.call('XINFO', 'GROUPS', key)) do
      local fields = {}
      for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
      local name = fields['name']
      if not groups[name] then
        groups[name] = {0, 0}
        order[#order + 1] = name
      end
      groups[name][1] = groups[name][1] + (tonumber(fields['pending']) or 0)
      groups[name][2] = groups[name][2] + (tonumber(fields['lag']) or 0)
    end
  end
end
local flat = {}
for _, name in ipairs(order) do
  flat[#flat + 1] = name
  flat[#flat + 1] = groups[name][1]
  flat[#flat + 1] = groups[name][2]
end
return {meta, length, flat}
)lua";

const std::string kDeleteScript = R"lua(
local meta = redis.call('HGET', KEYS[1], ARGV[2])
if not meta then return -1 end
local partitions = tonumber(string.match(meta, '^(%d+)'))
if ARGV[3] ~= '1' then
  for p = 0, partitions - 1 do
    local key = ARGV[1] .. ARGV[2] .. ':' .. p
    if redis.call('EXISTS', key) == 1 then
      for _, info in ipairs(redis.call('XINFO', 'GROUPS', key)) do
        for i = 1, #info, 2 do
          if info[i] == 'pending' and tonumber(info[i + 1]) > 0 then return -2 end
        end
      end
    end
  end
end
for p = 0, partitions - 1 do redis.call('DEL', ARGV[1] .. ARGV[2] .. ':' .. p) end
redis.call('HDEL', KEYS[1], ARGV[2])
return 1
)lua";

const std::string kPublishScript = with_prelude(R"lua(
local t = ARGV[2]
local n = partitions(t)
if not n then return redis.error_reply('NOTOPIC no such topic') end
local now = tonumber(ARGV[3])
local seed = tonumber(ARGV[4])
-- What append() works out per call is the same for every message of the
-- batch: the trim bound (from the topic's retention, read at the first
-- append) and each partition's stream key are made once.
local minid
local streams = {}
local out = {}
local appended = false
local at = 6
for m = 1, tonumber(ARGV[5]) do
  local hash = tonumber(ARGV[at])
  local p
  if hash < 0 then p = (seed + m) % n else p = hash % n end
  local delay = tonumber(ARGV[at + 5])
  out[#out + 1] = p
  if delay > 0 then
    -- Kept in Redis until due, so a restart loses no delayed message; the
    -- sequence number keeps equal messages apart in the set.
    local fields = {'k', ARGV[at + 1], 'v', ARGV[at + 2], 'b', ARGV[at + 3], 'h', ARGV[at + 4],
                    't', ARGV[3]}
    local seq = redis.call('INCR', P .. 'delayed:seq')
    redis.call('ZADD', P .. 'delayed', now + delay, cmsgpack.pack({t, p, seq, fields}))
    out[#out + 1] = ''
  else
    -- As append(t, p, now, fields) does it.
    minid = minid or tostring(math.max(0, now - retention(t)))
    local s = streams[p]
    if not s then
      s = P .. t .. ':' .. p
      streams[p] = s
    end
    out[#out + 1] = redis.call('XADD', s, 'MINID', '~', minid, '*', 'k', ARGV[at + 1], 'v',
                               ARGV[at + 2], 'b', ARGV[at + 3], 'h', ARGV[at + 4], 't', ARGV[3])
    appended = true
  end
  at = at + 6
end
if appended then redis.call('PUBLISH', P .. 'notify', t) end
return out
)lua");

const std::string kJoinScript = with_prelude(R"lua(
local g, c = ARGV[2], ARGV[3]
local now, session, instance = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
for i = 7, #ARGV do
  if not partitions(ARGV[i]) then return redis.error_reply('NOTOPIC ' .. ARGV[i]) end
end
redis.call('SADD', P .. 'groups', g)
for i = 7, #ARGV do
  local t = ARGV[i]
  for p = 0, partitions(t) - 1 do
    -- From the start of what the topic keeps: what was published before
    -- the first worker joined is work too. BUSYGROUP when it exists.
    redis.pcall('XGROUP', 'CREATE', P .. t .. ':' .. p, g, '0', 'MKSTREAM')
  end
  redis.call('SADD', P .. 'group:' .. g .. ':topics', t)
end
redis.call('HSET', P .. 'group:' .. g .. ':members', c, (now + session) .. ' ' .. instance)
return 1
)lua");

const std::string kHeartbeatScript = with_prelude(R"lua(
local g, c, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
if not live_consumer(g, c, now) then return 0 end
redis.call('HSET', P .. 'group:' .. g .. ':members', c, (now + tonumber(ARGV[5])) .. ' ' .. ARGV[6])
return 1
)lua");

const std::string kLeaveScript = with_prelude(R"lua(
local g, c = ARGV[2], ARGV[3]
if redis.call('HEXISTS', P .. 'group:' .. g .. ':members', c) == 0 then return 0 end
release(g, c, tonumber(ARGV[4]))
return 1
)lua");

const std::string kPollScript = with_prelude(R"lua(
local g, c = ARGV[2], ARGV[3]
local now, session, vt = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local max_retries, left, seed = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local members = P .. 'group:' .. g .. ':members'
if not live_consumer(g, c, now) then
  return redis.error_reply('NOCONSUMER unknown or expired consumer')
end
redis.call('HSET', members, c, (now + session) .. ' ' .. ARGV[10])
-- Sessions that ran out: their messages go back to the group.
local all = redis.call('HGETALL', members)
for i = 1, #all, 2 do
  if expiry_of(all[i + 1]) < now then release(g, all[i], vt) end
end

-- A message delivered max_retries times goes to <topic>.dlq (made on first
-- use, one partition) with its history in headers, and leaves the group.
local function dead_letter(t, s, id, owner, count)
  local entry = redis.call('XRANGE', s, id, id)[1]
  if entry then
    local f = entry[2]
    local dlq = t .. '.dlq'
    redis.call('HSETNX', P .. 'meta', dlq, '1 ' .. retention(t) .. ' ' .. now)
    local headers = cjson.decode(field(f, 'h') or '{}')
    headers['x-original-topic'] = t
    headers['x-original-id'] = id
    headers['x-deliveries'] = tostring(count)
    headers['x-reason'] = 'max_retries'
    headers['x-last-consumer'] = owner
    append(dlq, 0, now, {'k', field(f, 'k') or '', 'v', field(f, 'v') or '', 'b',
                         field(f, 'b') or '0', 'h', cjson.encode(headers), 't',
                         field(f, 't') or tostring(now)})
    redis.call('PUBLISH', P .. 'notify', dlq)
  end
  redis.call('XACK', s, g, id)
end

local topics = redis.call('SMEMBERS', P .. 'group:' .. g .. ':topics')
table.sort(topics)
local streams = {}
for _, t in ipairs(topics) do
  for p = 0, (partitions(t) or 0) - 1 do streams[#streams + 1] = {t, p} end
end
local out, moved = {}, 0
-- Starting where the seed says, so that a busy first partition does not
-- starve the others when max is small.
for k = 0, #streams - 1 do
  if left <= 0 then break end
  local t, p = streams[(seed + k) % #streams + 1][1], streams[(seed + k) % #streams + 1][2]
  local s = P .. t .. ':' .. p
  local due = redis.pcall('XPENDING', s, g, 'IDLE', vt, '-', '+', left)
  if due.err then
    -- The topic was deleted and made again since the group joined it.
    redis.pcall('XGROUP', 'CREATE', s, g, '0', 'MKSTREAM')
    due = {}
  end
  for _, e in ipairs(due) do
    local id, owner, count = e[1], e[2], tonumber(e[4])
    if count >= max_retries then
      dead_letter(t, s, id, owner, count)
      moved = moved + 1
    else
      local entry = redis.call('XCLAIM', s, g, c, vt, id)[1]
      if entry and entry[2] then  -- nothing when retention trimmed it away
        out[#out + 1] = {t, p, entry[1], count + 1, entry[2]}
        left = left - 1
      end
    end
  end
  if left > 0 then
    local fresh = redis.pcall('XREADGROUP', 'GROUP', g, c, 'COUNT', left, 'STREAMS', s, '>')
    if type(fresh) == 'table' and not fresh.err then
      for _, entry in ipairs(fresh[1][2]) do
        out[#out + 1] = {t, p, entry[1], 1, entry[2]}
        left = left - 1
      end
    end
  end
end
return {out, moved, topics}
)lua");

const std::string kAckScript = with_prelude(R"lua(
local g, c, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
if not live_consumer(g, c, now) then
  return redis.error_reply('NOCONSUMER unknown or expired consumer')
end
local acked = 0
for i = 5, #ARGV, 3 do
  local r = redis.pcall('XACK', P .. ARGV[i] .. ':' .. ARGV[i + 1], g, ARGV[i + 2])
  if type(r) == 'number' then acked = acked + r end
end
return acked
)lua");

const std::string kNackScript = with_prelude(R"lua(
local g, c, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local vt, delay = tonumber(ARGV[5]), tonumber(ARGV[6])
if not live_consumer(g, c, now) then
  return redis.error_reply('NOCONSUMER unknown or expired consumer')
end
local nacked = 0
for i = 7, #ARGV, 3 do
  local s, id = P .. ARGV[i] .. ':' .. ARGV[i + 1], ARGV[i + 2]
  -- Only what c still holds: a late nack must not take a message back
  -- from the consumer it was redelivered to.
  local pending = redis.pcall('XPENDING', s, g, id, id, 1)
  if type(pending) == 'table' and not pending.err and pending[1] and pending[1][2] == c then
    -- Due again once idle for the visibility timeout: that is `delay`
    -- from now. The delivery count stays (JUSTID): the nack ends one.
    redis.call('XCLAIM', s, g, c, 0, id, 'IDLE', vt - delay, 'JUSTID')
    nacked = nacked + 1
  end
end
return nacked
)lua");

const std::string kCommitScript = with_prelude(R"lua(
local g, c, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
if not live_consumer(g, c, now) then
  return redis.error_reply('NOCONSUMER unknown or expired consumer')
end
local s, upto = P .. ARGV[5] .. ':' .. ARGV[6], ARGV[7]
local acked = 0
while true do
  local pending = redis.pcall('XPENDING', s, g, '-', upto, 1000)
  if type(pending) ~= 'table' or pending.err or #pending == 0 then break end
  local ids = {}
  for i, e in ipairs(pending) do ids[i] = e[1] end
  acked = acked + redis.call('XACK', s, g, unpack(ids))
  if #pending < 1000 then break end
end
return acked
)lua");

const std::string kReleaseDelayedScript = with_prelude(R"lua(
local now, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', now, 'LIMIT', 0, limit)
local touched = {}
for _, packed in ipairs(due) do
  local m = cmsgpack.unpack(packed)  -- {topic, partition, seq, fields}
  local n = partitions(m[1])
  -- A topic deleted meanwhile takes its delayed messages with it.
  if n then
    append(m[1], m[2] % n, now, m[4])
    touched[m[1]] = true
  end
  redis.call('ZREM', P .. 'delayed', packed)
end
for t in pairs(touched) do redis.call('PUBLISH', P .. 'notify', t) end
return #due
)lua");

const std::string kClusterScript = R"lua(
local P, now, forget = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local instances = {}
local all = redis.call('HGETALL', P .. 'instances')
for i = 1, #all, 2 do
  local seen = tonumber(string.match(all[i + 1], '^%d+ (%d+)'))
  if seen and seen + forget < now then
    redis.call('HDEL', P .. 'instances', all[i])
  else
    instances[#instances + 1] = all[i]
    instances[#instances + 1] = all[i + 1]
  end
end
local groups = {}
local names = redis.call('SMEMBERS', P .. 'groups')
table.sort(names)
for _, g in ipairs(names) do
  local topics = redis.call('SMEMBERS', P .. 'group:' .. g .. ':topics')
  table.sort(topics)
  groups[#groups + 1] = {g, topics, redis.call('HGETALL', P .. 'group:' .. g .. ':members')}
end
return {instances, groups}
)lua";

const std::string kLagScript = R"lua(
local P = ARGV[1]
local out = {}
local topics = redis.call('HKEYS', P .. 'meta')
table.sort(topics)
for _, t in ipairs(topics) do
  local n = tonumber(string.match(redis.call('HGET', P .. 'meta', t), '^(%d+)'))
  for p = 0, n - 1 do
    local s = P .. t .. ':' .. p
    if redis.call('EXISTS', s) == 1 then
      for _, info in ipairs(redis.call('XINFO', 'GROUPS', s)) do
        local f = {}
        for i = 1, #info, 2 do f[info[i]] = info[i + 1] end
        -- lag is nil when Redis cannot tell (entries deleted mid-stream).
        out[#out + 1] = {t, p, f['name'], tonumber(f['lag']) or -1, tonumber(f['pending']) or 0}
      end
    end
  end
end
return out
)lua";

const std::array<const std::string*, 13> kAllScripts = {
    &kCreateScript,    &kDescribeScript,       &kDeleteScript, &kPublishScript, &kJoinScript,
    &kHeartbeatScript, &kLeaveScript,          &kPollScript,   &kAckScript,     &kNackScript,
    &kCommitScript,    &kReleaseDelayedScript, &kClusterScript};

const std::string& script_sha1(std::string_view script) {
  // Built on first use, after every script constant is initialised.
  // By address: the lookup is per request, and the scripts are constants.
  static const std::unordered_map<const char*, std::string> digests = [] {
    std::unordered_map<const char*, std::string> map;
    for (const std::string* s : kAllScripts) {
      std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
      SHA1(reinterpret_cast<const unsigned char*>(s->data()), s->size(), digest.data());
      map.emplace(s->data(), core::hex(digest));
    }
    return map;
  }();
  return digests.at(script.data());
}

}  // namespace gpsrelay::topics
