// The query strings of the location read API (CONTRACT.md, "Locations",
// Reads): GET /api/v1/drivers/nearby and GET /api/v1/drivers/{id}/route,
// turned into typed requests with their defaults applied, or a 400 message
// that names the parameter.
//
// Pure: the query text (without '?', still percent-encoded) and the limits
// in, values out. It owns no I/O and no HTTP types, does not bound input
// sizes (the HTTP layer does) and does not look at path parameters (the
// driver id is the router's capture, checked with is_valid_id). Any byte
// sequence is safe input.
//
// Rules shared by both endpoints, chosen to match the OsmAnd parser
// (osmand.cc) so one client library can talk to both:
//  - names and values are percent-decoded with '+' as a space;
//  - a parameter given twice counts as given last;
//  - an empty value counts as absent (templated clients leave a
//    placeholder empty), so it takes the default or is "required";
//  - unknown parameters are ignored (cache busters, `token`, `_`), and so
//    is a pair whose name is not valid percent-encoding, since it cannot
//    be one we know; a known parameter with an undecodable value is an
//    error naming it;
//  - numbers are the whole text as one finite decimal ("52.52", "-0.5",
//    "1e3", "+4"), as the ingest side reads them: no blanks, no hex, no
//    "nan" or "inf". Counts (`limit`) are plain digits only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gpsrelay::locations {

// Either a value or a message for a 400 body naming the parameter, never
// both.
template <class T>
struct ParamResult {
  std::optional<T> value;
  std::string error;  // set exactly when !value

  bool ok() const { return value.has_value(); }
};

// ---- GET /api/v1/drivers/nearby ------------------------------------------

inline constexpr double kDefaultNearbyRadiusM = 1000;
inline constexpr unsigned kDefaultNearbyLimit = 100;
inline constexpr unsigned kMaxNearbyLimit = 1000;

struct NearbyQuery {
  double latitude = 0;   // finite, -90 to 90
  double longitude = 0;  // finite, -180 to 180
  double radius_m = 0;   // above 0, at most the max_radius_m it was parsed with
  unsigned limit = 0;    // 1 to kMaxNearbyLimit
};

// lat, lng (or its alias lon; whichever comes last counts), radius
// (metres, default kDefaultNearbyRadiusM or max_radius_m when that is
// smaller, above 0 and at most max_radius_m) and limit (default
// kDefaultNearbyLimit, 1 to kMaxNearbyLimit). REQUIRES: max_radius_m > 0
// (the config refuses 0).
ParamResult<NearbyQuery> parse_nearby_query(std::string_view query, std::uint64_t max_radius_m);

// ---- GET /api/v1/drivers/{driver_id}/route ---------------------------------

inline constexpr std::chrono::milliseconds kDefaultRouteSpan = std::chrono::hours(1);
inline constexpr unsigned kDefaultRouteLimit = 1000;
// One driver's day at one report every 5 s is 17,280 points.
inline constexpr unsigned kMaxRouteLimit = 20000;

struct RouteRange {
  std::int64_t start_ms = 0;  // Unix milliseconds, inclusive; start_ms <= end_ms
  std::int64_t end_ms = 0;    // inclusive; end_ms - start_ms <= the max_range it was parsed with
  unsigned limit = 0;         // 1 to kMaxRouteLimit
  bool geojson = false;       // format=geojson: a GeoJSON Feature instead of the list
};

// start_time and end_time (ISO 8601 or Unix s/ms, as parse_timestamp_text
// in normalizer.h reads them; an offset's '+' may arrive unencoded), limit
// (default kDefaultRouteLimit, 1 to kMaxRouteLimit) and format (absent or
// "json": the list, "geojson": GeoJSON). end_time defaults to `now_ms`,
// start_time to end_time minus kDefaultRouteSpan, or minus max_range when
// that is shorter, so the defaults alone are always a valid range. Errors:
// end before start, a range longer than max_range, an unknown format.
// REQUIRES: max_range >= 0.
ParamResult<RouteRange> parse_route_query(std::string_view query, std::int64_t now_ms,
                                          std::chrono::milliseconds max_range);

}  // namespace gpsrelay::locations
