// Location state reads (see state_reader.h).
#include "locations/state_reader.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <memory>

#include "core/callback_guard.h"

namespace gpsrelay::locations {

StateReader::StateReader(event_base* base, const core::RedisConfig& redis)
    : keys_(redis.stream),
      connection_(base, queue::RedisConnection::Options::from(redis), [](bool) {}) {}

void StateReader::current(std::string_view driver_id, Callback done) {
  const std::string key = keys_.driver(driver_id);
  send(Kind::kRecord, std::move(done), {"HGET", key, "record"});
}

void StateReader::order(std::string_view order_id, Callback done) {
  send(Kind::kRecord, std::move(done), {"EVAL", kOrderScript, "0", keys_.prefix(), order_id});
}

void StateReader::nearby(double latitude, double longitude, double radius_m, unsigned limit,
                         Callback done) {
  const std::string lon = format_number(longitude);
  const std::string lat = format_number(latitude);
  const std::string radius = format_number(radius_m);
  const std::string count = std::to_string(limit);
  send(Kind::kNearby, std::move(done),
       {"EVAL", kNearbyScript, "0", keys_.prefix(), lon, lat, radius, count});
}

void StateReader::send(Kind kind, Callback done, std::initializer_list<std::string_view> args) {
  auto read = std::make_unique<Read>(Read{kind, std::move(done)});
  // hiredis calls back exactly once for a sent command, so the callback
  // takes the Read back from there.
  if (connection_.send(&StateReader::on_reply, read.get(), args)) {
    static_cast<void>(read.release());  // the pending command owns it now
    return;
  }
  StateReply down;
  down.error = "Redis unavailable";
  read->done(std::move(down));
}

void StateReader::on_reply(redisAsyncContext*, void* reply, void* privdata) {
  const std::unique_ptr<Read> read(static_cast<Read*>(privdata));
  core::guarded("location read reply",
                [&] { read->done(parse(read->kind, static_cast<const redisReply*>(reply))); });
}

StateReply StateReader::parse(Kind kind, const redisReply* r) {
  StateReply out;
  if (r == nullptr) {
    out.error = "Redis unavailable";
    return out;
  }
  if (r->type == REDIS_REPLY_ERROR) {
    out.error = std::string(r->str, r->len);
    return out;
  }
  out.ok = true;
  if (kind == Kind::kRecord) {
    if (r->type == REDIS_REPLY_STRING) out.record = std::string(r->str, r->len);
    return out;
  }
  if (r->type != REDIS_REPLY_ARRAY) return out;
  for (std::size_t i = 0; i + 1 < r->elements; i += 2) {
    const redisReply* record = r->element[i];
    const redisReply* distance = r->element[i + 1];
    if (record->type != REDIS_REPLY_STRING || distance->type != REDIS_REPLY_STRING) continue;
    double metres = 0;
    std::from_chars(distance->str, distance->str + distance->len, metres);
    out.nearby.push_back({std::string(record->str, record->len), metres});
  }
  return out;
}

}  // namespace gpsrelay::locations
