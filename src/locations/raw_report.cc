// Locations inside raw /api/gps/reports bodies (extract_report_location),
// the contract's ("Locations") last source. Those bodies were accepted
// byte-exact and may be anything; per object (a top-level array element by
// element) the shape decides: OwnTracks (has "_type", owntracks.h),
// Traccar Client JSON (has "location", traccar.h), else the flat keys
// listed in normalizer.h. There is nobody to answer: the caller only
// counts what it gets.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "locations/normalizer.h"
#include "locations/owntracks.h"
#include "locations/record_builder.h"
#include "locations/traccar.h"
#include "locations/wire_value.h"

namespace gpsrelay::locations {

using normalizer_internal::element_prefix;
using normalizer_internal::invalid;
using normalizer_internal::Item;
using normalizer_internal::item_from;
using normalizer_internal::json_field;
using normalizer_internal::json_field_any;
using normalizer_internal::load_json;
using normalizer_internal::Negative;
using normalizer_internal::not_a_location;
using normalizer_internal::owntracks_message;
using normalizer_internal::RecordBuilder;
using normalizer_internal::records;
using normalizer_internal::traccar_object;
using normalizer_internal::Wire;

namespace {

bool has_coordinates(const json_t* object) {
  for (const char* key : {"lat", "latitude", "lon", "lng", "longitude"}) {
    if (json_object_get(object, key) != nullptr) return true;
  }
  return false;
}

Item flat_report(const json_t* object, std::int64_t now_ms, const std::string& prefix) {
  RecordBuilder b(now_ms, prefix);
  const char* name = nullptr;
  bool ok = true;
  const Wire id = json_field_any(object, {"device_id", "driver_id", "id"}, &name);
  ok = ok && b.driver_id(id, name);
  const Wire lat = json_field_any(object, {"lat", "latitude"}, &name);
  ok = ok && b.latitude(lat, name);
  const Wire lon = json_field_any(object, {"lon", "lng", "longitude"}, &name);
  ok = ok && b.longitude(lon, name);
  const Wire ts = json_field_any(object, {"ts", "timestamp"}, &name);
  ok = ok && b.timestamp(ts, name);
  const Wire speed = json_field(object, "speed");
  ok = ok && b.speed(speed, "speed", 1, " km/h", Negative::kUnknown);
  const Wire heading = json_field_any(object, {"heading", "bearing", "course"}, &name);
  ok = ok && b.heading(heading, name, Negative::kUnknown);
  ok = ok && b.accuracy(json_field(object, "accuracy"), "accuracy", Negative::kUnknown);
  ok = ok && b.altitude(json_field(object, "altitude"), "altitude");
  ok = ok && b.order_id(json_field(object, "order_id"), "order_id");
  const Wire battery = json_field_any(object, {"battery", "batt"}, &name);
  ok = ok && b.battery(battery, name, 1, Negative::kUnknown);
  return item_from(b, ok);
}

// One object of a raw report, by shape: appends what it holds to `out`;
// false with `error` set when a shape matched but a value is wrong.
bool report_object(const json_t* object, std::int64_t now_ms, const std::string& prefix,
                   std::vector<LocationRecord>& out, std::string& error) {
  if (!json_is_object(object)) return true;
  const Wire type = json_field(object, "_type");
  if (type.kind == Wire::Kind::kText) {
    Item item = owntracks_message(object, {}, now_ms, prefix);
    if (item.kind == Item::Kind::kError) error = std::move(item.error);
    if (item.kind == Item::Kind::kRecord) out.push_back(std::move(item.record));
    return item.kind != Item::Kind::kError;
  }
  const json_t* location = json_object_get(object, "location");
  if (json_is_array(location) ||
      (json_is_object(location) && json_object_get(location, "coords") != nullptr)) {
    return traccar_object(object, now_ms, prefix, out, error);
  }
  if (!has_coordinates(object)) return true;
  Item item = flat_report(object, now_ms, prefix);
  if (item.kind == Item::Kind::kError) {
    error = std::move(item.error);
    return false;
  }
  out.push_back(std::move(item.record));
  return true;
}

}  // namespace

ParseResult extract_report_location(std::string_view body, std::int64_t now_ms) {
  std::string error;
  const core::JsonPtr root = load_json(body, error);
  if (!root) return not_a_location();
  std::vector<LocationRecord> found;
  const bool batch = json_is_array(root.get());
  const std::size_t count = batch ? json_array_size(root.get()) : 1;
  for (std::size_t i = 0; i < count; ++i) {
    const json_t* object = batch ? json_array_get(root.get(), i) : root.get();
    if (!report_object(object, now_ms, batch ? element_prefix(i) : "", found, error)) {
      return invalid(std::move(error));
    }
  }
  if (found.empty()) return not_a_location();
  return records(std::move(found));
}

}  // namespace gpsrelay::locations
