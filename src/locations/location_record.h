// LocationRecord: the one shape every accepted device format is normalised
// to, and what reads return and live updates push (CONTRACT.md,
// "Locations"). This file owns the record, its limits (what a valid record
// is) and its JSON rendering. It does not parse device formats (that is
// normalizer.h) and knows nothing of Redis, MySQL or HTTP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gpsrelay::locations {

struct LocationRecord {
  std::string driver_id;
  double latitude = 0;
  double longitude = 0;
  std::int64_t timestamp_ms = 0;  // Unix milliseconds, UTC
  std::optional<double> speed_kmh;
  std::optional<double> heading_deg;  // 0 (north) to 360, clockwise
  std::optional<double> accuracy_m;
  std::optional<double> altitude_m;
  std::optional<std::string> order_id;
  std::optional<double> battery_percent;
};

// Driver and order ids end up in Redis keys ("driver:{id}"), Pub/Sub
// channels and URL path segments (/api/v1/drivers/{id}/location), so they
// are limited to RFC 3986 unreserved characters: A-Z a-z 0-9 - . _ ~. Those
// need no escaping in a path, contain no ':' (our key separator), no
// space, '*', '?' or '[' (Redis glob patterns) and no '/'. "." and ".."
// are refused because a path segment of that text is a dot-segment.
inline constexpr std::size_t kMaxIdLength = 128;
bool is_valid_id(std::string_view id);

// Bounds on values. Coordinates are the contract's; the others keep
// garbage (1e300 km/h) out of the MySQL columns and the map without
// refusing any real device: airliners fly below 1200 km/h, the highest
// GPS altitude an app can report is well under 100 km.
inline constexpr double kMaxSpeedKmh = 10000;
inline constexpr double kMaxAccuracyM = 1e6;
inline constexpr double kMaxAbsAltitudeM = 100000;

// Timestamps before 2000 are a device without a clock (1970, GPS week
// rollover); more than a day ahead of now is a device with a wrong one, and
// would block every later report, since a report older than the current
// one never replaces it.
inline constexpr std::int64_t kMinTimestampMs = 946684800000;  // 2000-01-01T00:00:00Z
inline constexpr std::int64_t kMaxFutureSkewMs = 24LL * 3600 * 1000;

// nullopt when every field of `record` is within the limits above (finite
// coordinates in range, a valid driver id, optional fields in range);
// otherwise a message naming the record's field. The normaliser never
// returns a record that fails this; it is here for tests and fuzzers, and
// for callers that build records themselves.
std::optional<std::string> check_record(const LocationRecord& record);

// "2025-06-15T13:45:12.862Z": ISO 8601 UTC, always with milliseconds.
// Works for any int64 whose year fits in four digits (0000-9999); outside
// that the year is printed with more digits or a sign.
std::string format_iso8601_utc(std::int64_t unix_ms);

// The contract's JSON record: {"driver_id","latitude","longitude",
// "timestamp","speed","heading","accuracy","altitude","order_id",
// "battery"} in that order, absent fields omitted, compact, ASCII only.
// Meant for records that pass check_record; others still render, minus
// any field jansson cannot represent (a non-finite number).
std::string to_json(const LocationRecord& record);

}  // namespace gpsrelay::locations
