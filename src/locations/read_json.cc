// Rendering of the location read answers and parsing of stored records
// (see read_json.h). Records are spliced in as to_json writes them, so a
// record reads the same in every answer, in Redis and in live updates.
#include "locations/read_json.h"

#include <jansson.h>

#include <cmath>
#include <cstdlib>
#include <memory>

#include "core/json_handle.h"
#include "locations/normalizer.h"

namespace gpsrelay::locations {
namespace {

using core::JsonPtr;

// to_json's flags, so numbers and escapes look the same everywhere.
constexpr std::size_t kDumpFlags =
    JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15);

// `value` as text (any JSON value, not only objects); nullopt when
// `value` is null (jansson refused to build it) or memory ran out.
std::optional<std::string> dump(json_t* value) {
  const JsonPtr owned(value);
  if (!owned) return std::nullopt;
  const std::unique_ptr<char, decltype(&std::free)> text(
      json_dumps(owned.get(), kDumpFlags | JSON_ENCODE_ANY), &std::free);
  if (!text) return std::nullopt;
  return std::string(text.get());
}

// jansson refuses to build a string that is not UTF-8; ids are checked
// ASCII long before they get here, but a renderer must not lose a member.
json_t* string_or_null(std::string_view text) {
  json_t* value = json_stringn(text.data(), text.size());
  return value ? value : json_null();
}

// A non-finite coordinate (never in a checked record) becomes null, so a
// position keeps its two members and its index in "timestamps".
json_t* real_or_null(double value) {
  json_t* real = json_real(value);
  return real ? real : json_null();
}

// Distances to 0.1 m: GEOSEARCH gives more digits than a map needs.
double round_to_tenth(double metres) {
  const double tenths = metres * 10;
  return std::isfinite(tenths) ? std::round(tenths) / 10 : metres;
}

json_t* position(const LocationRecord& record) {
  json_t* pair = json_array();
  json_array_append_new(pair, real_or_null(record.longitude));
  json_array_append_new(pair, real_or_null(record.latitude));
  return pair;
}

// The geometry for `points` as read_json.h describes it.
json_t* route_geometry(std::span<const LocationRecord> points) {
  if (points.empty()) return json_null();
  json_t* geometry = json_object();
  if (points.size() == 1) {
    json_object_set_new(geometry, "type", json_string("Point"));
    json_object_set_new(geometry, "coordinates", position(points.front()));
    return geometry;
  }
  json_t* coordinates = json_array();
  for (const LocationRecord& point : points) json_array_append_new(coordinates, position(point));
  json_object_set_new(geometry, "type", json_string("LineString"));
  json_object_set_new(geometry, "coordinates", coordinates);
  return geometry;
}

// Optional number member: absent is fine, anything but a number is not.
bool read_optional_number(const json_t* object, const char* key, std::optional<double>& out) {
  const json_t* value = json_object_get(object, key);
  if (!value) return true;
  if (!json_is_number(value)) return false;
  out = json_number_value(value);
  return true;
}

}  // namespace

std::string nearby_json(std::span<const NearbyDriver> drivers) {
  std::string out = R"({"drivers":[)";
  for (const NearbyDriver& driver : drivers) {
    std::string record = driver.record_json;
    // to_json always writes at least the timestamp, so the object is never
    // empty and a member can follow a comma.
    if (record.size() < 3 || record.front() != '{' || record.back() != '}') continue;
    record.pop_back();
    if (const std::optional<std::string> distance =
            dump(json_real(round_to_tenth(driver.distance_m)))) {
      record += R"(,"distance_m":)";
      record += *distance;
    }
    record += '}';
    if (out.back() != '[') out += ',';
    out += record;
  }
  out += "]}";
  return out;
}

std::string route_json(std::string_view driver_id, std::span<const LocationRecord> points) {
  const std::optional<std::string> id = dump(string_or_null(driver_id));
  if (!id) return {};
  std::string out = R"({"driver_id":)" + *id + R"(,"points":[)";
  for (const LocationRecord& point : points) {
    const std::string record = to_json(point);
    if (record.empty()) return {};
    if (&point != points.data()) out += ',';
    out += record;
  }
  out += "]}";
  return out;
}

std::string route_geojson(std::string_view driver_id, std::int64_t start_ms, std::int64_t end_ms,
                          std::span<const LocationRecord> points) {
  json_t* timestamps = json_array();
  for (const LocationRecord& point : points) {
    json_array_append_new(timestamps, json_string(format_iso8601_utc(point.timestamp_ms).c_str()));
  }
  json_t* properties = json_object();
  json_object_set_new(properties, "driver_id", string_or_null(driver_id));
  json_object_set_new(properties, "start_time", json_string(format_iso8601_utc(start_ms).c_str()));
  json_object_set_new(properties, "end_time", json_string(format_iso8601_utc(end_ms).c_str()));
  json_object_set_new(properties, "timestamps", timestamps);
  json_object_set_new(properties, "points", json_integer(static_cast<json_int_t>(points.size())));

  json_t* feature = json_object();
  json_object_set_new(feature, "type", json_string("Feature"));
  json_object_set_new(feature, "geometry", route_geometry(points));
  json_object_set_new(feature, "properties", properties);
  return dump(feature).value_or(std::string());
}

std::optional<LocationRecord> parse_record_json(std::string_view text) {
  json_error_t error;
  // Duplicate keys are refused: to_json never writes them, so a record
  // with two latitudes was written by something else.
  const JsonPtr root(json_loadb(text.data(), text.size(), JSON_REJECT_DUPLICATES, &error));
  if (!root || !json_is_object(root.get())) return std::nullopt;
  const json_t* o = root.get();

  const json_t* driver_id = json_object_get(o, "driver_id");
  const json_t* latitude = json_object_get(o, "latitude");
  const json_t* longitude = json_object_get(o, "longitude");
  const json_t* timestamp = json_object_get(o, "timestamp");
  if (!json_is_string(driver_id) || !json_is_number(latitude) || !json_is_number(longitude) ||
      !json_is_string(timestamp)) {
    return std::nullopt;
  }
  const std::optional<std::int64_t> timestamp_ms = parse_timestamp_text(
      std::string_view(json_string_value(timestamp), json_string_length(timestamp)));
  if (!timestamp_ms) return std::nullopt;

  LocationRecord record;
  record.driver_id.assign(json_string_value(driver_id), json_string_length(driver_id));
  record.latitude = json_number_value(latitude);
  record.longitude = json_number_value(longitude);
  record.timestamp_ms = *timestamp_ms;
  if (!read_optional_number(o, "speed", record.speed_kmh) ||
      !read_optional_number(o, "heading", record.heading_deg) ||
      !read_optional_number(o, "accuracy", record.accuracy_m) ||
      !read_optional_number(o, "altitude", record.altitude_m) ||
      !read_optional_number(o, "battery", record.battery_percent)) {
    return std::nullopt;
  }
  if (const json_t* order_id = json_object_get(o, "order_id")) {
    if (!json_is_string(order_id)) return std::nullopt;
    record.order_id.emplace(json_string_value(order_id), json_string_length(order_id));
  }
  if (check_record(record)) return std::nullopt;
  return record;
}

}  // namespace gpsrelay::locations
