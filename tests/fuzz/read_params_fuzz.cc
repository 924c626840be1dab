// libFuzzer target for the location read API's pure parts: the nearby and
// route query parsers (read_params.h) and parse_record_json (read_json.h),
// each fed the whole input. Invariants: no crash or out-of-bounds read; a
// result is a value or an error, never both; a nearby query has finite
// coordinates in range, a radius above 0 within the maximum and a limit in
// range; a route range has start <= end, a span within the maximum and a
// limit in range; a parsed record passes check_record, its to_json text is
// a fixed point of parse_record_json, and every answer rendered from it (or
// from a parsed range) is valid JSON.
#include <jansson.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_handle.h"
#include "locations/location_record.h"
#include "locations/read_json.h"
#include "locations/read_params.h"

namespace {

using gpsrelay::core::JsonPtr;
using namespace gpsrelay::locations;  // NOLINT(google-build-using-namespace)
using std::chrono::milliseconds;

constexpr std::int64_t kNow = 1749996000000;  // 2025-06-15T14:00:00Z

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "violated: %s\n", what);
    std::abort();
  }
}

void check_is_json(const std::string& text, const char* what) {
  json_error_t error;
  const JsonPtr parsed(json_loadb(text.data(), text.size(), 0, &error));
  check(parsed != nullptr && json_is_object(parsed.get()), what);
}

void check_nearby(std::string_view input, std::uint64_t max_radius_m) {
  const ParamResult<NearbyQuery> result = parse_nearby_query(input, max_radius_m);
  check(result.ok() == result.error.empty(), "nearby: a value or an error");
  if (!result.ok()) return;
  const NearbyQuery& q = *result.value;
  check(std::isfinite(q.latitude) && std::fabs(q.latitude) <= 90, "nearby: latitude");
  check(std::isfinite(q.longitude) && std::fabs(q.longitude) <= 180, "nearby: longitude");
  check(q.radius_m > 0 && q.radius_m <= static_cast<double>(max_radius_m), "nearby: radius");
  check(q.limit >= 1 && q.limit <= kMaxNearbyLimit, "nearby: limit");
}

void check_route(std::string_view input, milliseconds max_range,
                 const std::vector<LocationRecord>& points) {
  const ParamResult<RouteRange> result = parse_route_query(input, kNow, max_range);
  check(result.ok() == result.error.empty(), "route: a value or an error");
  if (!result.ok()) return;
  const RouteRange& r = *result.value;
  check(r.start_ms <= r.end_ms, "route: start <= end");
  const std::uint64_t span =
      static_cast<std::uint64_t>(r.end_ms) - static_cast<std::uint64_t>(r.start_ms);
  check(span <= static_cast<std::uint64_t>(max_range.count()), "route: span <= max");
  check(r.limit >= 1 && r.limit <= kMaxRouteLimit, "route: limit");
  check_is_json(route_geojson("d1", r.start_ms, r.end_ms, points), "route: GeoJSON for a range");
}

void check_record_json(std::string_view input, std::vector<LocationRecord>& parsed) {
  const std::optional<LocationRecord> record = parse_record_json(input);
  if (!record) return;
  check(!check_record(*record).has_value(), "record: passes check_record");
  const std::string text = to_json(*record);
  const std::optional<LocationRecord> again = parse_record_json(text);
  check(again.has_value(), "record: its to_json parses back");
  check(to_json(*again) == text, "record: to_json text is a fixed point");
  check(again->driver_id == record->driver_id && again->timestamp_ms == record->timestamp_ms &&
            again->order_id == record->order_id,
        "record: ids and time round-trip exactly");

  const std::vector<NearbyDriver> nearby = {{to_json(*record), record->latitude * 1000}};
  check_is_json(nearby_json(nearby), "record: nearby answer is JSON");
  parsed = {*record, *again};
  check_is_json(route_json(record->driver_id, parsed), "record: route list is JSON");
  check_is_json(route_geojson(record->driver_id, kNow, kNow, parsed), "record: GeoJSON");
  check_is_json(route_geojson(record->driver_id, kNow, kNow, {parsed.data(), 1}),
                "record: GeoJSON Point");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // The config's default maximum radius, and one below the default radius
  // so that the default is capped; likewise the default maximum range, one
  // shorter than the default span, and zero.
  check_nearby(input, 50000);
  check_nearby(input, 500);

  std::vector<LocationRecord> parsed;
  check_record_json(input, parsed);

  check_route(input, milliseconds(7LL * 24 * 3600 * 1000), parsed);
  check_route(input, milliseconds(3600 * 1000), parsed);
  check_route(input, milliseconds(0), parsed);
  return 0;
}
