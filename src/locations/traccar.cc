// Traccar Client's JSON body (parse_traccar_json): the location object of
// flutter_background_geolocation as the app's locationTemplate posts it
// (traccar/traccar-client lib/preferences.dart) with {"device_id"} merged
// in; with batchSync "location" is an array. Speed in m/s, battery level
// 0-1, and on iOS CoreLocation's -1 for unknown.
#include "locations/traccar.h"

#include <cstddef>
#include <utility>

#include "locations/normalizer.h"
#include "locations/record_builder.h"
#include "locations/wire_value.h"

namespace gpsrelay::locations {
namespace normalizer_internal {
namespace {

constexpr double kKmhPerMetrePerSecond = 3.6;

// One element of "location": an object with "coords".
Item traccar_location(const json_t* location, const Wire& device_id, std::int64_t now_ms,
                      const std::string& prefix) {
  RecordBuilder b(now_ms, prefix);
  if (!b.driver_id(device_id, "device_id")) return item_from(b, false);
  if (!json_is_object(location)) return item_error(prefix + "location must be an object");
  const json_t* coords = json_object_get(location, "coords");
  if (!json_is_object(coords)) return item_error(prefix + "location.coords must be an object");
  const json_t* battery = json_object_get(location, "battery");
  const bool ok =
      b.latitude(json_field(coords, "latitude"), "location.coords.latitude") &&
      b.longitude(json_field(coords, "longitude"), "location.coords.longitude") &&
      b.timestamp(json_field(location, "timestamp"), "location.timestamp") &&
      b.speed(json_field(coords, "speed"), "location.coords.speed", kKmhPerMetrePerSecond, " m/s",
              Negative::kUnknown) &&
      b.heading(json_field(coords, "heading"), "location.coords.heading", Negative::kUnknown) &&
      b.accuracy(json_field(coords, "accuracy"), "location.coords.accuracy", Negative::kUnknown) &&
      b.altitude(json_field(coords, "altitude"), "location.coords.altitude") &&
      b.battery(json_is_object(battery) ? json_field(battery, "level") : Wire{},
                "location.battery.level", 100, Negative::kUnknown);
  return item_from(b, ok);
}

}  // namespace

bool traccar_object(const json_t* object, std::int64_t now_ms, const std::string& prefix,
                    std::vector<LocationRecord>& out, std::string& error) {
  if (!json_is_object(object)) {
    error = prefix + "must be a JSON object";
    return false;
  }
  const Wire device_id = json_field(object, "device_id");
  const json_t* location = json_object_get(object, "location");
  if (location == nullptr) {
    error = prefix + "location is required";
    return false;
  }
  if (!json_is_array(location)) {
    Item item = traccar_location(location, device_id, now_ms, prefix);
    if (item.kind != Item::Kind::kRecord) {
      error = std::move(item.error);
      return false;
    }
    out.push_back(std::move(item.record));
    return true;
  }
  for (std::size_t i = 0; i < json_array_size(location); ++i) {
    Item item = traccar_location(json_array_get(location, i), device_id, now_ms,
                                 prefix + "location[" + std::to_string(i) + "]: ");
    if (item.kind != Item::Kind::kRecord) {
      error = std::move(item.error);
      return false;
    }
    out.push_back(std::move(item.record));
  }
  return true;
}

}  // namespace normalizer_internal

using normalizer_internal::element_prefix;
using normalizer_internal::invalid;
using normalizer_internal::load_json;
using normalizer_internal::records;
using normalizer_internal::traccar_object;

ParseResult parse_traccar_json(std::string_view body, std::int64_t now_ms) {
  std::string error;
  const core::JsonPtr root = load_json(body, error);
  if (!root) return invalid(error);
  std::vector<LocationRecord> found;
  if (json_is_array(root.get())) {
    for (std::size_t i = 0; i < json_array_size(root.get()); ++i) {
      if (!traccar_object(json_array_get(root.get(), i), now_ms, element_prefix(i), found, error)) {
        return invalid(error);
      }
    }
  } else if (!traccar_object(root.get(), now_ms, "", found, error)) {
    return invalid(error);
  }
  return records(std::move(found));
}

}  // namespace gpsrelay::locations
