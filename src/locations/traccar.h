// One Traccar Client JSON object, for parse_traccar_json (traccar.cc) and
// for raw reports that have its shape (raw_report.cc).
//
// Internal to the location normaliser; nothing outside src/locations/
// includes it.
#pragma once

#include <jansson.h>

#include <cstdint>
#include <string>
#include <vector>

#include "locations/location_record.h"

namespace gpsrelay::locations::normalizer_internal {

// One Traccar Client object: {"device_id", "location": object or array}.
// Appends to `out`; false with `error` set (starting with `prefix`) on the
// first bad element.
bool traccar_object(const json_t* object, std::int64_t now_ms, const std::string& prefix,
                    std::vector<LocationRecord>& out, std::string& error);

}  // namespace gpsrelay::locations::normalizer_internal
