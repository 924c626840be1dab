// Our own driver endpoint (parse_driver_location), POST
// /api/v1/drivers/{driver_id}/location with the JSON body the contract
// ("Locations") defines. Being our API, not a device protocol, it refuses
// negative speed, heading, accuracy and battery instead of reading them as
// unknown.
#include <optional>
#include <string>

#include "locations/normalizer.h"
#include "locations/record_builder.h"
#include "locations/wire_value.h"

namespace gpsrelay::locations {

using normalizer_internal::invalid;
using normalizer_internal::json_field;
using normalizer_internal::load_json;
using normalizer_internal::Negative;
using normalizer_internal::RecordBuilder;
using normalizer_internal::records;

ParseResult parse_driver_location(std::string_view driver_id, std::string_view body,
                                  std::int64_t now_ms) {
  RecordBuilder b(now_ms, "");
  const std::optional<std::string> id = percent_decode(driver_id, false);
  if (!b.driver_id_text(id ? std::string_view(*id) : std::string_view(), "driver_id")) {
    return invalid(b.error());
  }
  std::string error;
  const core::JsonPtr root = load_json(body, error);
  if (!root) return invalid(error);
  const json_t* o = root.get();
  if (!json_is_object(o)) return invalid("body must be a JSON object");
  const bool ok = b.latitude(json_field(o, "latitude"), "latitude") &&
                  b.longitude(json_field(o, "longitude"), "longitude") &&
                  b.timestamp(json_field(o, "timestamp"), "timestamp") &&
                  b.speed(json_field(o, "speed"), "speed", 1, " km/h", Negative::kRefuse) &&
                  b.heading(json_field(o, "heading"), "heading", Negative::kRefuse) &&
                  b.accuracy(json_field(o, "accuracy"), "accuracy", Negative::kRefuse) &&
                  b.altitude(json_field(o, "altitude"), "altitude") &&
                  b.order_id(json_field(o, "order_id"), "order_id") &&
                  b.battery(json_field(o, "battery"), "battery", 1, Negative::kRefuse);
  if (!ok) return invalid(b.error());
  return records({b.take()});
}

}  // namespace gpsrelay::locations
