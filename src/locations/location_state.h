// The location state in Redis: key names, the Lua scripts that change and
// read it, and the arguments they take. Pure (strings in, strings out), so
// argument building is unit-tested without a server; the consumer and the
// readers send what this builds.
//
// Keys, under "<redis.stream>:loc:" so that deployments sharing a Redis
// stay apart:
//   driver:<id>  hash {ts: Unix ms, record: the record's JSON, entry: its
//                stream id}, expires after ttl
//   order:<id>   the order's driver id, expires after ttl
//   geo          geo set of drivers, for nearby search
//   expiry       sorted set: driver id -> when its current location expires
// A sorted set member cannot expire by itself, so the geo set keeps
// drivers whose location expired until the sweep (every second) removes
// them; nearby search skips any whose driver:<id> is already gone, so an
// expired driver never appears in a result.
//
// Every change is one script call, so the stale check and the writes that
// follow are atomic: two instances (or a redelivery racing a newer report)
// can never put an older location over a newer one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "locations/location_record.h"

namespace gpsrelay::locations {

class StateKeys {
 public:
  explicit StateKeys(std::string_view stream) : prefix_(std::string(stream) + ":loc:") {}

  const std::string& prefix() const { return prefix_; }
  std::string driver(std::string_view id) const { return prefix_ + "driver:" + std::string(id); }
  std::string order(std::string_view id) const { return prefix_ + "order:" + std::string(id); }
  std::string geo() const { return prefix_ + "geo"; }
  std::string expiry() const { return prefix_ + "expiry"; }

 private:
  std::string prefix_;
};

// What the update script did with each record, in argument order.
enum class UpdateResult : std::uint8_t {
  kStale = 0,      // older than the current location: not applied
  kApplied = 1,    // now the current location; published
  kDuplicate = 2,  // same time as the current one: a redelivery, not applied again
};

// Redis' geo index covers latitudes up to this (Web Mercator); a driver
// beyond it has a current location but is not found by nearby search.
inline constexpr double kMaxGeoLatitude = 85.05112878;

// ARGV: prefix, ttl ms, now ms, then per record: driver id, timestamp ms,
// longitude, latitude, order id ("" = none), record JSON, stream entry id.
// Answers one UpdateResult per record. Publishes "<entry id>\n<record
// JSON>" on driver:<id> and order:<id> (the live updates' channels,
// live/pubsub_message.h) when applied.
extern const std::string_view kUpdateScript;
// ARGV: prefix, now ms, at most how many. Removes drivers whose location
// expired from the geo index; answers {removed, drivers still active}.
extern const std::string_view kSweepScript;
// ARGV: prefix, longitude, latitude, radius in metres, limit. Answers
// [record JSON, distance in metres, ...], nearest first, live drivers only.
extern const std::string_view kNearbyScript;
// ARGV: prefix, order id. Answers the order's driver's record JSON, or nil.
extern const std::string_view kOrderScript;

// The arguments of one kUpdateScript call (after EVAL, the script and
// "0"): for every record of `records`, in order.
class UpdateBatch {
 public:
  UpdateBatch(const StateKeys& keys, std::int64_t ttl_ms, std::int64_t now_ms);
  // `json`: the record's to_json text when the caller has it already.
  void add(const LocationRecord& record, std::string_view entry_id, std::string_view json = {});
  std::size_t records() const { return (args_.size() - kHeader) / kPerRecord; }
  const std::vector<std::string>& args() const { return args_; }

 private:
  static constexpr std::size_t kHeader = 3;
  static constexpr std::size_t kPerRecord = 7;
  std::vector<std::string> args_;
};

// A double as the shortest text that reads back as the same value.
std::string format_number(double value);

}  // namespace gpsrelay::locations
