// JSON bodies of the location read API (CONTRACT.md, "Locations", Reads):
// the nearby answer, the route as a list and as GeoJSON, and the way back
// from a stored record's JSON (what locations::to_json wrote into Redis) to
// a LocationRecord.
//
// Pure: values in, text out. It does not fetch, sort or filter anything:
// the Redis reader gives the nearby drivers nearest first and the MySQL
// reader gives route points in time order, and these functions keep the
// order they are given. Every renderer is compact and ASCII-only, with
// numbers written as to_json writes them (15 significant digits), and
// returns an empty string only when memory runs out.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "locations/location_record.h"

namespace gpsrelay::locations {

// One driver of a nearby answer: its current record as to_json wrote it
// (the state in Redis holds that text, so it is served without a round
// trip through LocationRecord) and its distance from the query's centre.
struct NearbyDriver {
  std::string record_json;
  double distance_m = 0;
};

// {"drivers":[<record>,...]}, each record's JSON with "distance_m"
// (rounded to 0.1 m) added as its last member; a non-finite distance is
// left out, as to_json leaves out what JSON cannot hold. A record text
// that is not a non-empty JSON object is skipped.
std::string nearby_json(std::span<const NearbyDriver> drivers);

// {"driver_id":"<id>","points":[<record>,...]}: a route as a list. An id
// that is not UTF-8 (the router only passes is_valid_id ones) is null.
std::string route_json(std::string_view driver_id, std::span<const LocationRecord> points);

// A route as one GeoJSON Feature (RFC 7946):
//   {"type":"Feature","geometry":<geometry>,"properties":{"driver_id":…,
//    "start_time":…,"end_time":…,"timestamps":[…],"points":N}}
// start_time and end_time are the range asked for (`start_ms`, `end_ms`,
// ISO 8601), so the answer shows what the defaults were even when no point
// lies in it; timestamps are the points' times, one per position. The
// geometry depends on the count, because RFC 7946 3.1.4 requires a
// LineString to have two or more positions:
//   - 2 or more points: {"type":"LineString","coordinates":[[lon,lat],…]};
//   - 1 point: {"type":"Point","coordinates":[lon,lat]};
//   - no point: null, which 3.2 allows for a Feature with no location.
// Positions are [longitude, latitude] (RFC 7946 3.1.1 order), without
// altitude: not every point has one, and a position's length should not
// vary along a line.
std::string route_geojson(std::string_view driver_id, std::int64_t start_ms, std::int64_t end_ms,
                          std::span<const LocationRecord> points);

// A record from the JSON to_json writes: the contract's members with the
// types to_json gives them (strings for the ids and the ISO 8601
// timestamp, numbers for the rest); members it does not know, such as
// "distance_m", are ignored. nullopt when the text is not such an object,
// or the record fails check_record: a stored record that breaks the
// record's own limits is corrupt, not something to serve.
//
// Round trip: to_json(*parse_record_json(to_json(r))) == to_json(r) for
// every r that passes check_record with a timestamp in years 0000-9999,
// and every field comes back equal when its numbers have at most 15
// significant digits (as device reports do); beyond that, to_json has
// already rounded them to 15.
std::optional<LocationRecord> parse_record_json(std::string_view text);

}  // namespace gpsrelay::locations
