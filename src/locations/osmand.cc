// The OsmAnd protocol (parse_osmand_params, parse_osmand_request): query or
// form parameters as the OsmAnd app's online tracking fills its URL
// template, and as Traccar Client sends them (its SDK's form POST, the
// legacy Android query). Speed in knots. location=lat,lon is Traccar's
// extension, and as in Traccar a repeated parameter counts as given last.
// A JSON body on the same endpoints is Traccar Client JSON (traccar.cc).
#include <cstddef>
#include <optional>

#include "locations/normalizer.h"
#include "locations/record_builder.h"
#include "locations/text_scan.h"
#include "locations/url_params.h"
#include "locations/wire_value.h"

namespace gpsrelay::locations {

using normalizer_internal::invalid;
using normalizer_internal::Negative;
using normalizer_internal::not_a_location;
using normalizer_internal::Params;
using normalizer_internal::RecordBuilder;
using normalizer_internal::records;
using normalizer_internal::split_params;
using normalizer_internal::trim;
using normalizer_internal::Wire;

namespace {

constexpr double kKmhPerKnot = 1.852;

// The last value of `key`; an empty value counts as absent, as OsmAnd's
// URL template leaves a placeholder empty when it has no value.
Wire param(const Params& params, std::string_view key) {
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (it->first == key) {
      Wire wire;
      if (!it->second.empty()) {
        wire.kind = Wire::Kind::kText;
        wire.text = it->second;
      }
      return wire;
    }
  }
  return {};
}

}  // namespace

ParseResult parse_osmand_params(std::string_view text, std::int64_t now_ms) {
  const std::optional<Params> params = split_params(text);
  if (!params) return invalid("parameters are not valid percent-encoding");
  RecordBuilder b(now_ms, "");
  Wire id = param(*params, "id");
  const char* id_name = "id";
  if (id.kind == Wire::Kind::kAbsent) {
    id = param(*params, "deviceid");
    if (id.kind != Wire::Kind::kAbsent) id_name = "deviceid";
  }
  if (!b.driver_id(id, id_name)) return invalid(b.error());
  Wire lat = param(*params, "lat");
  Wire lon = param(*params, "lon");
  const char* lat_name = "lat";
  const char* lon_name = "lon";
  const Wire location = param(*params, "location");
  if (lat.kind == Wire::Kind::kAbsent && lon.kind == Wire::Kind::kAbsent &&
      location.kind == Wire::Kind::kText) {
    // Traccar's extension: location=lat,lon.
    const std::size_t comma = location.text.find(',');
    if (comma == std::string_view::npos) return invalid("location must be lat,lon");
    lat.kind = lon.kind = Wire::Kind::kText;
    lat.text = location.text.substr(0, comma);
    lon.text = location.text.substr(comma + 1);
    lat_name = lon_name = "location";
  }
  if (lat.kind == Wire::Kind::kAbsent && lon.kind == Wire::Kind::kAbsent) {
    return not_a_location();  // a heartbeat or a cell/wifi-only report
  }
  Wire accuracy = param(*params, "accuracy");
  const char* accuracy_name = "accuracy";
  if (accuracy.kind == Wire::Kind::kAbsent) {
    accuracy = param(*params, "hdop");
    accuracy_name = "hdop";
  }
  Wire heading = param(*params, "bearing");
  const char* heading_name = "bearing";
  if (heading.kind == Wire::Kind::kAbsent) {
    heading = param(*params, "heading");
    heading_name = "heading";
  }
  const bool ok =
      b.latitude(lat, lat_name) && b.longitude(lon, lon_name) &&
      b.timestamp(param(*params, "timestamp"), "timestamp") &&
      b.speed(param(*params, "speed"), "speed", kKmhPerKnot, " knots", Negative::kUnknown) &&
      b.heading(heading, heading_name, Negative::kUnknown) &&
      b.accuracy(accuracy, accuracy_name, Negative::kUnknown) &&
      b.altitude(param(*params, "altitude"), "altitude") &&
      b.battery(param(*params, "batt"), "batt", 1, Negative::kUnknown);
  if (!ok) return invalid(b.error());
  return records({b.take()});
}

ParseResult parse_osmand_request(std::string_view query, std::string_view body,
                                 std::int64_t now_ms) {
  if (!query.empty()) return parse_osmand_params(query, now_ms);
  const std::string_view trimmed = trim(body);
  if (!trimmed.empty() && (trimmed.front() == '{' || trimmed.front() == '[')) {
    return parse_traccar_json(body, now_ms);
  }
  return parse_osmand_params(trimmed, now_ms);
}

}  // namespace gpsrelay::locations
