// OwnTracks in HTTP mode (parse_owntracks): the apps POST one message
// object or an array of them, as the OwnTracks booklet ("HTTP", "JSON")
// describes; only _type "location" carries a position (lat, lon, tst, vel
// in km/h, cog, acc, alt, batt), and -1 means unknown.
#include "locations/owntracks.h"

#include <cstddef>
#include <utility>
#include <vector>

#include "locations/normalizer.h"
#include "locations/text_scan.h"
#include "locations/wire_value.h"

namespace gpsrelay::locations {
namespace normalizer_internal {

Item owntracks_message(const json_t* message, std::string_view device_header, std::int64_t now_ms,
                       const std::string& prefix) {
  if (!json_is_object(message)) return item_error(prefix + "must be a JSON object");
  const Wire type = json_field(message, "_type");
  if (type.kind != Wire::Kind::kText) return item_error(prefix + "_type must be a string");
  if (type.text != "location") return {};  // transition, waypoint, lwt, encrypted, ...
  RecordBuilder b(now_ms, prefix);
  bool ok = false;
  if (!device_header.empty()) {
    ok = b.driver_id_text(device_header, "X-Limit-D");
  } else {
    const Wire topic = json_field(message, "topic");
    if (topic.kind != Wire::Kind::kText) {
      return item_error(prefix + "topic is required when there is no X-Limit-D header");
    }
    const std::size_t slash = topic.text.rfind('/');
    ok = b.driver_id_text(
        slash == std::string_view::npos ? topic.text : topic.text.substr(slash + 1), "topic");
  }
  ok = ok && b.latitude(json_field(message, "lat"), "lat") &&
       b.longitude(json_field(message, "lon"), "lon") &&
       b.timestamp(json_field(message, "tst"), "tst") &&
       b.speed(json_field(message, "vel"), "vel", 1, " km/h", Negative::kUnknown) &&
       b.heading(json_field(message, "cog"), "cog", Negative::kUnknown) &&
       b.accuracy(json_field(message, "acc"), "acc", Negative::kUnknown) &&
       b.altitude(json_field(message, "alt"), "alt") &&
       b.battery(json_field(message, "batt"), "batt", 1, Negative::kUnknown);
  return item_from(b, ok);
}

}  // namespace normalizer_internal

using normalizer_internal::element_prefix;
using normalizer_internal::invalid;
using normalizer_internal::Item;
using normalizer_internal::load_json;
using normalizer_internal::owntracks_message;
using normalizer_internal::records;
using normalizer_internal::trim;

ParseResult parse_owntracks(std::string_view body, std::string_view device_header,
                            std::int64_t now_ms) {
  // The apps POST an empty body when a friend is deleted (OwnTracks
  // booklet, "HTTP"); the booklet asks endpoints to ignore it.
  if (trim(body).empty()) return records({});
  std::string error;
  const core::JsonPtr root = load_json(body, error);
  if (!root) return invalid(error);
  std::vector<LocationRecord> found;
  const bool batch = json_is_array(root.get());
  const std::size_t count = batch ? json_array_size(root.get()) : 1;
  for (std::size_t i = 0; i < count; ++i) {
    const json_t* message = batch ? json_array_get(root.get(), i) : root.get();
    Item item = owntracks_message(message, device_header, now_ms, batch ? element_prefix(i) : "");
    if (item.kind == Item::Kind::kError) return invalid(std::move(item.error));
    if (item.kind == Item::Kind::kRecord) found.push_back(std::move(item.record));
  }
  return records(std::move(found));
}

}  // namespace gpsrelay::locations
