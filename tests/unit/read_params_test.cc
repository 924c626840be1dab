// Tests for the query parameters of the location reads (read_params.h):
// defaults, every error message, the boundaries of each limit,
// percent-encoding, repeated and unknown parameters, and time ranges at the
// edges of int64.
#include "locations/read_params.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

namespace gpsrelay::locations {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kNow = 1749996000000;  // 2025-06-15T14:00:00Z
constexpr std::int64_t kHourMs = 3600000;
constexpr std::uint64_t kMaxRadiusM = 50000;
constexpr milliseconds kMaxRange{7LL * 24 * kHourMs};  // the config's default, 7d

NearbyQuery nearby_ok(std::string_view query, std::uint64_t max_radius_m = kMaxRadiusM) {
  const ParamResult<NearbyQuery> result = parse_nearby_query(query, max_radius_m);
  EXPECT_TRUE(result.ok()) << query << ": " << result.error;
  EXPECT_TRUE(!result.ok() || result.error.empty()) << query;
  return result.value.value_or(NearbyQuery{});
}

std::string nearby_error(std::string_view query) {
  const ParamResult<NearbyQuery> result = parse_nearby_query(query, kMaxRadiusM);
  EXPECT_FALSE(result.ok()) << query;
  return result.error;
}

RouteRange route_ok(std::string_view query, milliseconds max_range = kMaxRange) {
  const ParamResult<RouteRange> result = parse_route_query(query, kNow, max_range);
  EXPECT_TRUE(result.ok()) << query << ": " << result.error;
  EXPECT_TRUE(!result.ok() || result.error.empty()) << query;
  return result.value.value_or(RouteRange{});
}

std::string route_error(std::string_view query, milliseconds max_range = kMaxRange) {
  const ParamResult<RouteRange> result = parse_route_query(query, kNow, max_range);
  EXPECT_FALSE(result.ok()) << query;
  return result.error;
}

// ---- nearby ---------------------------------------------------------------

TEST(ReadNearbyQueryTest, OnlyCoordinatesAreNeededAndTheRestDefaults) {
  const NearbyQuery q = nearby_ok("lat=52.5200066&lng=13.404954");
  EXPECT_DOUBLE_EQ(q.latitude, 52.5200066);
  EXPECT_DOUBLE_EQ(q.longitude, 13.404954);
  EXPECT_EQ(q.radius_m, 1000);
  EXPECT_EQ(q.limit, 100u);
}

TEST(ReadNearbyQueryTest, EveryParameterIsRead) {
  const NearbyQuery q = nearby_ok("lat=-33.8688&lng=151.2093&radius=2500.5&limit=10");
  EXPECT_DOUBLE_EQ(q.latitude, -33.8688);
  EXPECT_DOUBLE_EQ(q.longitude, 151.2093);
  EXPECT_DOUBLE_EQ(q.radius_m, 2500.5);
  EXPECT_EQ(q.limit, 10u);
}

TEST(ReadNearbyQueryTest, DefaultRadiusNeverExceedsTheConfiguredMaximum) {
  EXPECT_EQ(nearby_ok("lat=1&lng=2", 500).radius_m, 500);
  EXPECT_EQ(nearby_ok("lat=1&lng=2", 1000).radius_m, 1000);
}

TEST(ReadNearbyQueryTest, LonIsAnAliasOfLngAndTheLastSpellingCounts) {
  EXPECT_EQ(nearby_ok("lat=1&lon=2").longitude, 2);
  EXPECT_EQ(nearby_ok("lat=1&lng=2&lon=3").longitude, 3);
  EXPECT_EQ(nearby_ok("lat=1&lon=3&lng=2").longitude, 2);
  // The message names the spelling the client used.
  EXPECT_EQ(nearby_error("lat=1&lon=181"), "lon must be a number between -180 and 180");
  EXPECT_EQ(nearby_error("lat=1&lng=181"), "lng must be a number between -180 and 180");
  EXPECT_EQ(nearby_error("lat=1&lng=2&lon=181"), "lon must be a number between -180 and 180");
  EXPECT_EQ(nearby_error("lat=1&lon=2&lng=181"), "lng must be a number between -180 and 180");
}

TEST(ReadNearbyQueryTest, CoordinatesAreAcceptedUpToTheirBoundsInclusive) {
  EXPECT_EQ(nearby_ok("lat=90&lng=180").latitude, 90);
  EXPECT_EQ(nearby_ok("lat=-90&lng=-180").latitude, -90);
  EXPECT_EQ(nearby_ok("lat=90&lng=180").longitude, 180);
  EXPECT_EQ(nearby_ok("lat=-90&lng=-180").longitude, -180);
  EXPECT_EQ(nearby_error("lat=90.0001&lng=0"), "lat must be a number between -90 and 90");
  EXPECT_EQ(nearby_error("lat=-90.0001&lng=0"), "lat must be a number between -90 and 90");
  EXPECT_EQ(nearby_error("lat=0&lng=180.0001"), "lng must be a number between -180 and 180");
  EXPECT_EQ(nearby_error("lat=0&lng=-180.0001"), "lng must be a number between -180 and 180");
}

TEST(ReadNearbyQueryTest, MissingOrEmptyCoordinatesAreRequired) {
  EXPECT_EQ(nearby_error(""), "lat is required");
  EXPECT_EQ(nearby_error("lng=1"), "lat is required");
  EXPECT_EQ(nearby_error("lat=&lng=1"), "lat is required");
  EXPECT_EQ(nearby_error("lat&lng=1"), "lat is required");
  EXPECT_EQ(nearby_error("lat=1"), "lng (or lon) is required");
  EXPECT_EQ(nearby_error("lat=1&lon="), "lng (or lon) is required");
}

TEST(ReadNearbyQueryTest, OnlyPlainFiniteDecimalsAreNumbers) {
  for (const char* bad : {"nan", "NaN", "inf", "-inf", "infinity", "0x10", "0x1p3", "52abc", "52,5",
                          "1e400", "-", ".", "e5", "%2052", "52%20", "52+", "++1"}) {
    EXPECT_EQ(nearby_error(std::string("lng=0&lat=") + bad),
              "lat must be a number between -90 and 90")
        << bad;
  }
  // What strtod would read, minus its leniency: exponents, a leading '+'
  // (percent-encoded, or it is a space), no integer or no fraction part.
  EXPECT_EQ(nearby_ok("lat=5e1&lng=0").latitude, 50);
  EXPECT_EQ(nearby_ok("lat=%2B45&lng=0").latitude, 45);
  EXPECT_EQ(nearby_ok("lat=.5&lng=0").latitude, 0.5);
  EXPECT_EQ(nearby_ok("lat=5.&lng=0").latitude, 5);
  EXPECT_EQ(nearby_ok("lat=-0&lng=0").latitude, 0);
}

TEST(ReadNearbyQueryTest, RadiusIsAboveZeroAndAtMostTheMaximum) {
  EXPECT_EQ(nearby_ok("lat=0&lng=0&radius=50000").radius_m, 50000);
  EXPECT_EQ(nearby_ok("lat=0&lng=0&radius=0.1").radius_m, 0.1);
  const std::string message = "radius must be a number of metres above 0 and at most 50000";
  for (const char* bad : {"50000.001", "0", "-0", "-1", "nan", "inf", "1km", "1e5"}) {
    EXPECT_EQ(nearby_error(std::string("lat=0&lng=0&radius=") + bad), message) << bad;
  }
  EXPECT_EQ(parse_nearby_query("lat=0&lng=0&radius=501", 500).error,
            "radius must be a number of metres above 0 and at most 500");
}

TEST(ReadNearbyQueryTest, LimitIsAnIntegerFromOneToAThousand) {
  EXPECT_EQ(nearby_ok("lat=0&lng=0&limit=1").limit, 1u);
  EXPECT_EQ(nearby_ok("lat=0&lng=0&limit=1000").limit, 1000u);
  EXPECT_EQ(nearby_ok("lat=0&lng=0&limit=007").limit, 7u);
  const std::string message = "limit must be an integer from 1 to 1000";
  for (const char* bad : {"0", "1001", "-1", "%2B5", "10.0", "1e2", "0x10", "abc",
                          "99999999999999999999999", "4294967297"}) {
    EXPECT_EQ(nearby_error(std::string("lat=0&lng=0&limit=") + bad), message) << bad;
  }
}

TEST(ReadNearbyQueryTest, NamesAndValuesArePercentDecoded) {
  const NearbyQuery q = nearby_ok("l%61t=%2D33.5&lng=151%2E25&r%61dius=1%30");
  EXPECT_EQ(q.latitude, -33.5);
  EXPECT_EQ(q.longitude, 151.25);
  EXPECT_EQ(q.radius_m, 10);
}

TEST(ReadNearbyQueryTest, BadEncodingOfAKnownParameterIsNamed) {
  EXPECT_EQ(nearby_error("lat=%zz&lng=1"), "lat is not valid percent-encoding");
  EXPECT_EQ(nearby_error("lat=1&lon=1%"), "lon is not valid percent-encoding");
  EXPECT_EQ(nearby_error("lat=1&lng=1&radius=%4"), "radius is not valid percent-encoding");
  EXPECT_EQ(nearby_error("lat=1&lng=1&limit=%g0"), "limit is not valid percent-encoding");
}

TEST(ReadNearbyQueryTest, RepeatedParametersCountAsGivenLast) {
  const NearbyQuery q = nearby_ok("lat=1&lng=2&lat=3&radius=10&radius=20&limit=5&limit=6");
  EXPECT_EQ(q.latitude, 3);
  EXPECT_EQ(q.radius_m, 20);
  EXPECT_EQ(q.limit, 6u);
  // An earlier bad value does not matter; a later empty one is absent.
  EXPECT_EQ(nearby_ok("lat=100&lat=1&lng=2").latitude, 1);
  EXPECT_EQ(nearby_error("lat=1&lng=2&lat="), "lat is required");
  EXPECT_EQ(nearby_ok("lat=1&lng=2&radius=7&radius=").radius_m, 1000);
}

TEST(ReadNearbyQueryTest, UnknownParametersAreIgnoredEvenWhenBadlyEncoded) {
  const NearbyQuery q =
      nearby_ok("_=1718000000&token=abc%2Fdef&lat=1&x=%zz&%zz=1&flag&&lng=2&latitude=99");
  EXPECT_EQ(q.latitude, 1);
  EXPECT_EQ(q.longitude, 2);
}

// ---- route ----------------------------------------------------------------

TEST(ReadRouteQueryTest, NoParametersMeanTheLastHourUpToNow) {
  const RouteRange r = route_ok("");
  EXPECT_EQ(r.start_ms, kNow - kHourMs);
  EXPECT_EQ(r.end_ms, kNow);
  EXPECT_EQ(r.limit, 1000u);
  EXPECT_FALSE(r.geojson);
}

TEST(ReadRouteQueryTest, DefaultStartIsAnHourBeforeTheEndOrTheMaximumRange) {
  EXPECT_EQ(route_ok("end_time=2025-06-15T12:00:00Z").start_ms, kNow - 3 * kHourMs);
  EXPECT_EQ(route_ok("", milliseconds(600000)).start_ms, kNow - 600000);
  EXPECT_EQ(route_ok("", milliseconds(0)).start_ms, kNow);
}

TEST(ReadRouteQueryTest, EndDefaultsToNow) {
  const RouteRange r = route_ok("start_time=2025-06-15T10:00:00Z");
  EXPECT_EQ(r.start_ms, kNow - 4 * kHourMs);
  EXPECT_EQ(r.end_ms, kNow);
}

TEST(ReadRouteQueryTest, TimesAreIsoOrUnixSecondsOrMilliseconds) {
  const RouteRange r = route_ok("start_time=1749992400&end_time=1749996000000");
  EXPECT_EQ(r.start_ms, kNow - kHourMs);
  EXPECT_EQ(r.end_ms, kNow);
  EXPECT_EQ(route_ok("start_time=1749992400.5").start_ms, kNow - kHourMs + 500);
  EXPECT_EQ(route_ok("start_time=2025-06-15T13:00:00.250Z").start_ms, kNow - kHourMs + 250);
}

TEST(ReadRouteQueryTest, PercentEncodedTimesAreDecoded) {
  EXPECT_EQ(route_ok("start_time=2025-06-15T13%3A45%3A00Z").start_ms, kNow - 900000);
  EXPECT_EQ(route_ok("start_time=2025-06-15T15%3A45%3A00%2B02%3A00").start_ms, kNow - 900000);
  // '+' is a space in a query, and ISO 8601 as we read it allows a space
  // between date and time.
  EXPECT_EQ(route_ok("start_time=2025-06-15+13:45:00Z").start_ms, kNow - 900000);
}

TEST(ReadRouteQueryTest, AnOffsetsPlusMayArriveUnencoded) {
  EXPECT_EQ(route_ok("start_time=2025-06-15T15:45:00+02:00").start_ms, kNow - 900000);
  EXPECT_EQ(route_ok("start_time=2025-06-15T15:45:00+0200").start_ms, kNow - 900000);
  EXPECT_EQ(route_ok("start_time=2025-06-15T11:45:00-02:00").start_ms, kNow - 900000);
}

TEST(ReadRouteQueryTest, BadTimesNameTheParameter) {
  EXPECT_EQ(route_error("start_time=yesterday"),
            "start_time must be ISO 8601 or Unix seconds or milliseconds");
  EXPECT_EQ(route_error("end_time=2025-06-15T25:00:00Z"),
            "end_time must be ISO 8601 or Unix seconds or milliseconds");
  EXPECT_EQ(route_error("start_time=2025-06-15+13:45:00+02:00"),
            "start_time must be ISO 8601 or Unix seconds or milliseconds");
  EXPECT_EQ(route_error("start_time=nan"),
            "start_time must be ISO 8601 or Unix seconds or milliseconds");
  EXPECT_EQ(route_error("start_time=%zz"), "start_time is not valid percent-encoding");
  EXPECT_EQ(route_error("end_time=2025%3"), "end_time is not valid percent-encoding");
}

TEST(ReadRouteQueryTest, EndEqualToStartIsAValidRange) {
  const RouteRange r = route_ok("start_time=1749996000&end_time=1749996000");
  EXPECT_EQ(r.start_ms, kNow);
  EXPECT_EQ(r.end_ms, kNow);
}

TEST(ReadRouteQueryTest, EndBeforeStartIsRefused) {
  EXPECT_EQ(route_error("start_time=1749996000001&end_time=1749996000000"),
            "end_time must not be before start_time");
  EXPECT_EQ(route_error("start_time=2025-06-15T14:00:00.001Z"),
            "start_time must not be after the server's time (the default end_time)");
  EXPECT_EQ(route_ok("start_time=2025-06-15T14:00:00Z").start_ms, kNow);
}

TEST(ReadRouteQueryTest, RangeMayBeExactlyTheMaximumButNotAMillisecondMore) {
  const std::int64_t start = kNow - kMaxRange.count();
  const RouteRange r = route_ok("start_time=" + std::to_string(start));
  EXPECT_EQ(r.start_ms, start);
  EXPECT_EQ(r.end_ms, kNow);
  EXPECT_EQ(route_error("start_time=" + std::to_string(start - 1)),
            "start_time to end_time must span at most 7d");
  EXPECT_EQ(route_error("start_time=1749995999999&end_time=1749996000000", milliseconds(0)),
            "start_time to end_time must span at most 0s");
  EXPECT_EQ(route_error("start_time=1749992399999", milliseconds(kHourMs)),
            "start_time to end_time must span at most 1h");
}

TEST(ReadRouteQueryTest, TimesAtTheEdgesOfInt64DoNotOverflow) {
  // Unix numbers beyond int64 milliseconds saturate to its limits.
  EXPECT_EQ(route_error("start_time=-1e19&end_time=1e19"),
            "start_time to end_time must span at most 7d");
  const RouteRange low = route_ok("end_time=-1e19");
  EXPECT_EQ(low.end_ms, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(low.start_ms, std::numeric_limits<std::int64_t>::min());
  const RouteRange high = route_ok("end_time=1e19");
  EXPECT_EQ(high.end_ms, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(high.start_ms, std::numeric_limits<std::int64_t>::max() - kHourMs);
}

TEST(ReadRouteQueryTest, LimitIsAnIntegerFromOneToTwentyThousand) {
  EXPECT_EQ(route_ok("limit=1").limit, 1u);
  EXPECT_EQ(route_ok("limit=17280").limit, 17280u);
  EXPECT_EQ(route_ok("limit=20000").limit, 20000u);
  for (const char* bad : {"0", "20001", "-5", "1.5", "lots"}) {
    EXPECT_EQ(route_error(std::string("limit=") + bad), "limit must be an integer from 1 to 20000")
        << bad;
  }
}

TEST(ReadRouteQueryTest, FormatIsJsonOrGeojson) {
  EXPECT_FALSE(route_ok("format=json").geojson);
  EXPECT_FALSE(route_ok("format=").geojson);
  EXPECT_TRUE(route_ok("format=geojson").geojson);
  EXPECT_TRUE(route_ok("format=geo%6Ason").geojson);
  for (const char* bad : {"GeoJSON", "xml", "geojson%20", "json+"}) {
    EXPECT_EQ(route_error(std::string("format=") + bad), "format must be json or geojson") << bad;
  }
  EXPECT_EQ(route_error("format=%"), "format is not valid percent-encoding");
}

TEST(ReadRouteQueryTest, RepeatedParametersCountAsGivenLast) {
  const RouteRange r = route_ok(
      "start_time=2025-06-15T10:00:00Z&start_time=2025-06-15T13:00:00Z&format=geojson&format=json"
      "&limit=5&limit=50&end_time=bad&end_time=");
  EXPECT_EQ(r.start_ms, kNow - kHourMs);
  EXPECT_EQ(r.end_ms, kNow);
  EXPECT_FALSE(r.geojson);
  EXPECT_EQ(r.limit, 50u);
}

TEST(ReadRouteQueryTest, UnknownParametersAreIgnored) {
  const RouteRange r = route_ok("token=secret&_=1749996000123&start=0&end=%zz&format=geojson");
  EXPECT_EQ(r.start_ms, kNow - kHourMs);
  EXPECT_TRUE(r.geojson);
}

}  // namespace
}  // namespace gpsrelay::locations
