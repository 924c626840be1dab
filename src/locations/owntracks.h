// One OwnTracks message, for parse_owntracks (owntracks.cc) and for raw
// reports that have its shape (raw_report.cc).
//
// Internal to the location normaliser; nothing outside src/locations/
// includes it.
#pragma once

#include <jansson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "locations/record_builder.h"

namespace gpsrelay::locations::normalizer_internal {

// One message object. A record for _type "location", a skip for any other
// type (transition, waypoint, lwt, encrypted, ...), an error (starting
// with `prefix`) when it is no object, has no string _type, or a location
// has a bad value. The device name: `device_header` (X-Limit-D) when not
// empty, else the topic's last segment (owntracks/user/device; Android
// sends both, iOS only the topic).
Item owntracks_message(const json_t* message, std::string_view device_header, std::int64_t now_ms,
                       const std::string& prefix);

}  // namespace gpsrelay::locations::normalizer_internal
