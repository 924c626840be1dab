// The values' Redis side for one worker (see value_cache.h).
#include "events/value_cache.h"

#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include <array>
#include <span>
#include <utility>

#include "core/callback_guard.h"
#include "core/hex.h"
#include "queue/stream_schema.h"

namespace gpsrelay::events {
namespace {

// Both scripts start with cached_is_newer. A cached record ends with
// "ts":<ms>} (format_value_record writes it last), so it finds the cached
// ts without decoding the value; ts values are below 2^53, so Lua's
// doubles compare them exactly. A record without that tail (another
// writer's) is replaced.
//
// Write: KEYS[1] the values stream, KEYS[2] the user's cache key; ARGV[1]
// the record, ARGV[2] its ts, ARGV[3] cache_ttl in ms, ARGV[4] the request
// id. Answers {stream id, 1 when cached or 0 when a newer one was}. The
// append comes first: once the client has its 202 the record is in the
// stream, whatever the cache did.
constexpr std::string_view kWriteScript = R"lua(
local function cached_is_newer(key, ts)
  local cached = redis.call('GET', key)
  if not cached then return false end
  local cached_ts = string.match(cached, '"ts":(%d+)}$')
  return cached_ts ~= nil and tonumber(cached_ts) > tonumber(ts)
end
local id = redis.call('XADD', KEYS[1], '*', 'payload', ARGV[1], 'request_id', ARGV[4])
if cached_is_newer(KEYS[2], ARGV[2]) then return {id, 0} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
return {id, 1}
)lua";

// Fill (read-through): KEYS[1] the cache key; ARGV[1] the record, ARGV[2]
// its ts, ARGV[3] cache_ttl in ms. Answers 1 when cached, 0 when a newer
// one was.
constexpr std::string_view kFillScript = R"lua(
local function cached_is_newer(key, ts)
  local cached = redis.call('GET', key)
  if not cached then return false end
  local cached_ts = string.match(cached, '"ts":(%d+)}$')
  return cached_ts ~= nil and tonumber(cached_ts) > tonumber(ts)
end
if cached_is_newer(KEYS[1], ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
)lua";

// The write script's fields are the report stream's (queue::StreamConsumer
// reads them by these names).
static_assert(queue::kPayloadField == "payload" && queue::kRequestIdField == "request_id");

constexpr std::array<std::string_view, 2> kScripts = {kWriteScript, kFillScript};

std::string sha1_of(std::string_view script) {
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(script.data()), script.size(), digest.data());
  return core::hex(digest);
}

const std::string& sha_of(std::string_view script) {
  static const std::array<std::string, 2> digests = {sha1_of(kWriteScript), sha1_of(kFillScript)};
  return digests[script.data() == kWriteScript.data() ? 0 : 1];
}

std::string_view text(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
                          r->type == REDIS_REPLY_ERROR)
             ? std::string_view(r->str, r->len)
             : std::string_view();
}

std::string error_of(const redisReply* r) {
  if (r == nullptr) return "Redis unavailable";
  if (r->type == REDIS_REPLY_ERROR) return std::string(text(r));
  return "unexpected reply from Redis";
}

}  // namespace

std::string value_cache_key(std::string_view values_stream, std::string_view user_id) {
  std::string key(values_stream);
  key += ":user:";
  key += user_id;
  return key;
}

ValueCache::ValueCache(event_base* base, const core::RedisConfig& redis,
                       const core::EventsConfig& events)
    : stream_(events.values_stream),
      ttl_ms_(std::to_string(events.cache_ttl.count())),
      acks_(base, connection_, redis.min_replicas_acked, redis.replica_ack_timeout),
      connection_(base, queue::RedisConnection::Options::from(redis), [this](bool up) {
        if (up) load_scripts();
      }) {}

void ValueCache::load_scripts() {
  // First on a new connection: every EVALSHA sent after it on this
  // connection finds its script. Nothing to do with the answers.
  for (const std::string_view script : kScripts) {
    connection_.send(nullptr, nullptr, {"SCRIPT", "LOAD", script});
  }
}

void ValueCache::write(const ValueRecord& record, std::string_view request_id,
                       std::function<void(Written)> done) {
  send(
      {"EVALSHA", sha_of(kWriteScript), "2", stream_, value_cache_key(stream_, record.user_id),
       format_value_record(record), std::to_string(record.ts_ms), ttl_ms_, std::string(request_id)},
      [this, done = std::move(done)](const redisReply* r) {
        Written out;
        if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING) {
          out.error = error_of(r);
          return done(std::move(out));
        }
        out.ok = true;
        out.stream_id = std::string(text(r->element[0]));
        out.cached = r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer == 1;
        acks_.after_replicas([done, out = std::move(out)](bool acked) mutable {
          if (!acked) out = Written{false, {}, false, "too few Redis replicas confirmed the write"};
          done(std::move(out));
        });
      },
      /*write=*/true);
}

void ValueCache::read(std::string_view user_id, std::function<void(Cached)> done) {
  send({"GET", value_cache_key(stream_, user_id)}, [done = std::move(done)](const redisReply* r) {
    Cached out;
    if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) {
      out.error = error_of(r);
      return done(std::move(out));
    }
    out.ok = true;
    if (r->type == REDIS_REPLY_STRING) out.record = std::string(text(r));
    done(std::move(out));
  });
}

void ValueCache::fill(const ValueRecord& record, std::function<void(bool ok)> done) {
  send({"EVALSHA", sha_of(kFillScript), "1", value_cache_key(stream_, record.user_id),
        format_value_record(record), std::to_string(record.ts_ms), ttl_ms_},
       [done = std::move(done)](const redisReply* r) {
         done(r != nullptr && r->type == REDIS_REPLY_INTEGER);
       });
}

void ValueCache::send(std::vector<std::string> args, ReplyFn done, bool write) {
  auto pending = std::make_unique<Pending>(Pending{std::move(args), std::move(done), this, write});
  if (send_pending(pending)) return;
  core::guarded("values reply", [&] { pending->done(nullptr); });
}

bool ValueCache::send_pending(std::unique_ptr<Pending>& pending) {
  const std::vector<std::string_view> args(pending->args.begin(), pending->args.end());
  // hiredis calls back exactly once for a sent command: the callback takes
  // the Pending back from there.
  if (!connection_.send(&ValueCache::on_reply, pending.get(), std::span(args))) return false;
  if (pending->write) acks_.note_write();
  static_cast<void>(pending.release());
  return true;
}

void ValueCache::on_reply(redisAsyncContext*, void* reply, void* privdata) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(privdata));
  const auto* r = static_cast<const redisReply*>(reply);
  if (r != nullptr && r->type == REDIS_REPLY_ERROR && text(r).starts_with("NOSCRIPT") &&
      !pending->resent) {
    // Redis lost its script cache while we were connected: load the
    // scripts again for later calls, and send this one with its text.
    ValueCache& cache = *pending->cache;
    cache.load_scripts();
    pending->resent = true;
    pending->args[0] = "EVAL";
    pending->args[1] =
        std::string(pending->args[1] == sha_of(kWriteScript) ? kWriteScript : kFillScript);
    if (cache.send_pending(pending)) return;
    r = nullptr;
  }
  core::guarded("values reply", [&] { pending->done(r); });
}

}  // namespace gpsrelay::events
