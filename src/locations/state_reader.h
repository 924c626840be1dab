// StateReader: the reads of the location state in Redis for one HTTP
// worker thread — a driver's current record, an order's driver's record,
// the drivers near a point — on a connection of its own, so reads never
// queue behind the worker's appends. Answers come back on the worker's
// loop through the callback, exactly once per read: with the data, or
// with `ok = false` when Redis is down or the read failed.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "locations/location_state.h"
#include "locations/read_json.h"
#include "queue/redis_connection.h"

struct redisReply;

namespace gpsrelay::locations {

struct StateReply {
  bool ok = false;
  std::string error;                  // set when !ok
  std::optional<std::string> record;  // current/order: the record's JSON, none = unknown
  std::vector<NearbyDriver> nearby;   // nearest first
};

class StateReader {
 public:
  using Callback = std::function<void(StateReply)>;

  StateReader(event_base* base, const core::RedisConfig& redis);
  void start() { connection_.start(); }

  void current(std::string_view driver_id, Callback done);
  void order(std::string_view order_id, Callback done);
  void nearby(double latitude, double longitude, double radius_m, unsigned limit, Callback done);

 private:
  enum class Kind { kRecord, kNearby };
  struct Read {
    Kind kind;
    Callback done;
  };
  void send(Kind kind, Callback done, std::initializer_list<std::string_view> args);
  static void on_reply(redisAsyncContext*, void* reply, void* read);
  static StateReply parse(Kind kind, const redisReply* reply);

  const StateKeys keys_;
  queue::RedisConnection connection_;
};

}  // namespace gpsrelay::locations
