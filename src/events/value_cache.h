// ValueCache: the Redis side of the write-behind values for one HTTP
// worker thread, on a connection of its own (so its scripts never queue
// behind the worker's report appends). A write is one script call that
// appends the record to events.values_stream and sets the user's cache key
// (PX events.cache_ttl) unless the cached record has a newer ts, so an
// older write arriving late never hides a newer one; a read-through refill
// follows the same rule. Scripts go by EVALSHA, loaded on every connect;
// a NOSCRIPT answer (SCRIPT FLUSH, a failover) loads them again and sends
// that call once more with EVAL.
//
// It does not parse bodies (value_request.h) or touch MySQL (the consumer
// and store::ValueReader do). Every call answers exactly once, on the
// worker's loop.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "events/value_request.h"
#include "queue/redis_connection.h"
#include "queue/replica_acks.h"

struct redisReply;

namespace gpsrelay::events {

// The cache key of `user_id`: "<values_stream>:user:<user_id>".
std::string value_cache_key(std::string_view values_stream, std::string_view user_id);

class ValueCache {
 public:
  struct Written {
    bool ok = false;
    std::string stream_id;  // when ok
    bool cached = false;    // false: a newer record was cached already
    std::string error;      // when !ok
  };
  struct Cached {
    bool ok = false;                    // false: Redis down or refused
    std::optional<std::string> record;  // none: not cached
    std::string error;
  };

  ValueCache(event_base* base, const core::RedisConfig& redis, const core::EventsConfig& events);
  void start() { connection_.start(); }
  bool up() const { return connection_.up(); }

  void write(const ValueRecord& record, std::string_view request_id,
             std::function<void(Written)> done);
  void read(std::string_view user_id, std::function<void(Cached)> done);
  // Caches `record` unless a newer one is cached; `done(true)` when Redis
  // ran the script (whether or not it replaced anything).
  void fill(const ValueRecord& record, std::function<void(bool ok)> done);

 private:
  // nullptr when Redis is unavailable.
  using ReplyFn = std::function<void(const redisReply*)>;
  struct Pending {
    std::vector<std::string> args;
    ReplyFn done;
    ValueCache* cache;
    bool write = false;  // a WAIT must follow it (redis.min_replicas_acked)
    bool resent = false;
  };
  void load_scripts();
  void send(std::vector<std::string> args, ReplyFn done, bool write = false);
  bool send_pending(std::unique_ptr<Pending>& pending);
  static void on_reply(redisAsyncContext*, void* reply, void* pending);

  const std::string stream_;
  const std::string ttl_ms_;
  // Before the connection: closing it calls back into both.
  queue::ReplicaAcks acks_;
  queue::RedisConnection connection_;
};

}  // namespace gpsrelay::events
