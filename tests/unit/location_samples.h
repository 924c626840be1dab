// A location record with every field set, shared by the unit tests of the
// record's JSON (location_normalizer_test.cc) and of the read answers
// (read_json_test.cc), so both check the very same values.
#pragma once

#include "locations/location_record.h"

namespace gpsrelay::locations::testing {

inline LocationRecord full_record() {
  LocationRecord r;
  r.driver_id = "driver-42";
  r.latitude = 37.4219983;
  r.longitude = -122.084;
  r.timestamp_ms = 1749995112862;
  r.speed_kmh = 36.5;
  r.heading_deg = 90;
  r.accuracy_m = 4.7;
  r.altitude_m = -3.5;
  r.order_id = "order_7";
  r.battery_percent = 62;
  return r;
}

}  // namespace gpsrelay::locations::testing
