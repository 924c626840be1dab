// Limits, ISO 8601 rendering and JSON output of LocationRecord. No parsing
// of device input happens here.
#include "locations/location_record.h"

#include <jansson.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/json_handle.h"

namespace gpsrelay::locations {
namespace {

using core::JsonPtr;

bool in_range(double value, double low, double high) {
  return std::isfinite(value) && value >= low && value <= high;
}

bool optional_in_range(const std::optional<double>& value, double low, double high) {
  return !value || in_range(*value, low, high);
}

struct CivilDate {
  std::int64_t year;
  unsigned month;  // 1-12
  unsigned day;    // 1-31
};

// Howard Hinnant's civil_from_days: the proleptic Gregorian date of a day
// count since 1970-01-01, exact for the whole int64 range we pass in.
CivilDate civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<std::uint64_t>(days - era * 146097);
  const std::uint64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::uint64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::uint64_t mp = (5 * day_of_year + 2) / 153;
  const auto day = static_cast<unsigned>(day_of_year - (153 * mp + 2) / 5 + 1);
  const auto month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  const std::int64_t year =
      static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

void set_real(json_t* object, const char* key, const std::optional<double>& value) {
  if (value) json_object_set_new(object, key, json_real(*value));
}

}  // namespace

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength || id == "." || id == "..") return false;
  for (const char c : id) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (!unreserved) return false;
  }
  return true;
}

std::optional<std::string> check_record(const LocationRecord& record) {
  if (!is_valid_id(record.driver_id)) return "driver_id is not a valid id";
  if (!in_range(record.latitude, -90, 90)) return "latitude out of range";
  if (!in_range(record.longitude, -180, 180)) return "longitude out of range";
  if (record.timestamp_ms < kMinTimestampMs) return "timestamp before 2000";
  if (!optional_in_range(record.speed_kmh, 0, kMaxSpeedKmh)) return "speed out of range";
  if (!optional_in_range(record.heading_deg, 0, 360)) return "heading out of range";
  if (!optional_in_range(record.accuracy_m, 0, kMaxAccuracyM)) return "accuracy out of range";
  if (!optional_in_range(record.altitude_m, -kMaxAbsAltitudeM, kMaxAbsAltitudeM)) {
    return "altitude out of range";
  }
  if (record.order_id && !is_valid_id(*record.order_id)) return "order_id is not a valid id";
  if (!optional_in_range(record.battery_percent, 0, 100)) return "battery out of range";
  return std::nullopt;
}

std::string format_iso8601_utc(std::int64_t unix_ms) {
  constexpr std::int64_t kMsPerDay = 86400000;
  std::int64_t days = unix_ms / kMsPerDay;
  std::int64_t ms_of_day = unix_ms % kMsPerDay;
  if (ms_of_day < 0) {
    ms_of_day += kMsPerDay;
    --days;
  }
  const CivilDate date = civil_from_days(days);
  const auto seconds_of_day = ms_of_day / 1000;
  char text[64];
  std::snprintf(text, sizeof text, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(date.year), date.month, date.day,
                static_cast<long long>(seconds_of_day / 3600),
                static_cast<long long>(seconds_of_day / 60 % 60),
                static_cast<long long>(seconds_of_day % 60),
                static_cast<long long>(ms_of_day % 1000));
  return text;
}

std::string to_json(const LocationRecord& record) {
  const JsonPtr object(json_object());
  json_t* o = object.get();
  json_object_set_new(o, "driver_id",
                      json_stringn(record.driver_id.data(), record.driver_id.size()));
  json_object_set_new(o, "latitude", json_real(record.latitude));
  json_object_set_new(o, "longitude", json_real(record.longitude));
  json_object_set_new(o, "timestamp", json_string(format_iso8601_utc(record.timestamp_ms).c_str()));
  set_real(o, "speed", record.speed_kmh);
  set_real(o, "heading", record.heading_deg);
  set_real(o, "accuracy", record.accuracy_m);
  set_real(o, "altitude", record.altitude_m);
  if (record.order_id) {
    json_object_set_new(o, "order_id",
                        json_stringn(record.order_id->data(), record.order_id->size()));
  }
  set_real(o, "battery", record.battery_percent);
  // 15 significant digits: enough for a coordinate to the millimetre, and
  // 37.4219983 stays 37.4219983 instead of 37.421998299999999.
  const std::unique_ptr<char, decltype(&std::free)> text(
      json_dumps(o,
                 JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)),
      &std::free);
  // Only allocation failure makes json_dumps fail. A record that fails
  // check_record still renders: jansson refuses to build a non-finite real
  // or a non-UTF-8 string, so such a field is left out.
  return text ? std::string(text.get()) : std::string();
}

}  // namespace gpsrelay::locations
