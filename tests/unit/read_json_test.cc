// Tests for the read API's JSON (read_json.h): the exact text of the
// nearby answer, the route list and the three GeoJSON geometries, and
// parse_record_json against what to_json writes (exact round trips) and
// against everything it must refuse.
#include "locations/read_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "location_samples.h"

namespace gpsrelay::locations {
namespace {

constexpr std::int64_t kNow = 1749996000000;  // 2025-06-15T14:00:00Z
constexpr std::int64_t kHourMs = 3600000;

using testing::full_record;

LocationRecord point(double latitude, double longitude, std::int64_t timestamp_ms) {
  LocationRecord r;
  r.driver_id = "d1";
  r.latitude = latitude;
  r.longitude = longitude;
  r.timestamp_ms = timestamp_ms;
  return r;
}

void expect_same_record(const LocationRecord& a, const LocationRecord& b) {
  EXPECT_EQ(a.driver_id, b.driver_id);
  EXPECT_EQ(a.latitude, b.latitude);
  EXPECT_EQ(a.longitude, b.longitude);
  EXPECT_EQ(a.timestamp_ms, b.timestamp_ms);
  EXPECT_EQ(a.speed_kmh, b.speed_kmh);
  EXPECT_EQ(a.heading_deg, b.heading_deg);
  EXPECT_EQ(a.accuracy_m, b.accuracy_m);
  EXPECT_EQ(a.altitude_m, b.altitude_m);
  EXPECT_EQ(a.order_id, b.order_id);
  EXPECT_EQ(a.battery_percent, b.battery_percent);
}

// ---- nearby ---------------------------------------------------------------

TEST(ReadJsonTest, NearbyAddsTheDistanceAsEachRecordsLastMember) {
  const std::vector<NearbyDriver> drivers = {
      {to_json(point(52.52, 13.405, 1749995100000)), 12.34},
      {to_json(full_record()), 1499.96},
  };
  EXPECT_EQ(nearby_json(drivers),
            R"({"drivers":[)"
            R"({"driver_id":"d1","latitude":52.52,"longitude":13.405,)"
            R"("timestamp":"2025-06-15T13:45:00.000Z","distance_m":12.3},)"
            R"({"driver_id":"driver-42","latitude":37.4219983,"longitude":-122.084,)"
            R"("timestamp":"2025-06-15T13:45:12.862Z","speed":36.5,"heading":90.0,)"
            R"("accuracy":4.7,"altitude":-3.5,"order_id":"order_7","battery":62.0,)"
            R"("distance_m":1500.0}]})");
}

TEST(ReadJsonTest, NearbyWithoutDriversIsAnEmptyList) {
  EXPECT_EQ(nearby_json({}), R"({"drivers":[]})");
}

TEST(ReadJsonTest, NearbyDistancesAreRoundedToATenthOfAMetre) {
  const auto distance_text = [](double metres) {
    const std::vector<NearbyDriver> one = {{to_json(point(0, 0, kNow)), metres}};
    const std::string text = nearby_json(one);
    const std::size_t at = text.find(R"("distance_m":)");
    return at == std::string::npos ? std::string("(none)")
                                   : text.substr(at + 13, text.size() - at - 13 - 3);
  };
  EXPECT_EQ(distance_text(0), "0.0");
  EXPECT_EQ(distance_text(0.04), "0.0");
  EXPECT_EQ(distance_text(0.05), "0.1");
  EXPECT_EQ(distance_text(2.25), "2.3");  // halves round away from zero
  EXPECT_EQ(distance_text(49999.99), "50000.0");
  EXPECT_EQ(distance_text(1e300), "1e300");  // too large to scale: kept as it is
  // JSON has no NaN or infinity: the member is left out, as to_json does.
  EXPECT_EQ(distance_text(std::nan("")), "(none)");
  EXPECT_EQ(distance_text(INFINITY), "(none)");
}

// ---- route ----------------------------------------------------------------

TEST(ReadJsonTest, RouteListKeepsThePointsInTheGivenOrder) {
  const std::vector<LocationRecord> points = {point(52.52, 13.405, 1749995100000),
                                              point(52.5205, 13.4061, 1749995105000)};
  EXPECT_EQ(route_json("d1", points), R"({"driver_id":"d1","points":[)"
                                      R"({"driver_id":"d1","latitude":52.52,"longitude":13.405,)"
                                      R"("timestamp":"2025-06-15T13:45:00.000Z"},)"
                                      R"({"driver_id":"d1","latitude":52.5205,"longitude":13.4061,)"
                                      R"("timestamp":"2025-06-15T13:45:05.000Z"}]})");
}

TEST(ReadJsonTest, RouteListWithoutPointsIsEmpty) {
  EXPECT_EQ(route_json("d1", {}), R"({"driver_id":"d1","points":[]})");
  // Ids reach here checked, but the text stays JSON whatever they hold.
  EXPECT_EQ(route_json("a\"b", {}), R"({"driver_id":"a\"b","points":[]})");
  EXPECT_EQ(route_json("\xff", {}), R"({"driver_id":null,"points":[]})");
}

TEST(ReadJsonTest, GeoJsonOfTwoOrMorePointsIsALineString) {
  const std::vector<LocationRecord> points = {point(52.52, 13.405, 1749995100000),
                                              point(52.5205, 13.4061, 1749995105000),
                                              point(-33.5, -70.25, 1749995110000)};
  EXPECT_EQ(route_geojson("d1", kNow - kHourMs, kNow, points),
            R"({"type":"Feature","geometry":{"type":"LineString","coordinates":)"
            R"([[13.405,52.52],[13.4061,52.5205],[-70.25,-33.5]]},)"
            R"("properties":{"driver_id":"d1","start_time":"2025-06-15T13:00:00.000Z",)"
            R"("end_time":"2025-06-15T14:00:00.000Z","timestamps":["2025-06-15T13:45:00.000Z",)"
            R"("2025-06-15T13:45:05.000Z","2025-06-15T13:45:10.000Z"],"points":3}})");
}

TEST(ReadJsonTest, GeoJsonOfOnePointIsAPoint) {
  // RFC 7946 3.1.4: a LineString needs two positions.
  const std::vector<LocationRecord> points = {point(52.52, 13.405, 1749995100000)};
  EXPECT_EQ(route_geojson("d1", kNow - kHourMs, kNow, points),
            R"({"type":"Feature","geometry":{"type":"Point","coordinates":[13.405,52.52]},)"
            R"("properties":{"driver_id":"d1","start_time":"2025-06-15T13:00:00.000Z",)"
            R"("end_time":"2025-06-15T14:00:00.000Z",)"
            R"("timestamps":["2025-06-15T13:45:00.000Z"],"points":1}})");
}

TEST(ReadJsonTest, GeoJsonWithoutPointsHasANullGeometry) {
  // RFC 7946 3.2: an unlocated Feature has "geometry": null.
  EXPECT_EQ(route_geojson("d1", kNow - kHourMs, kNow, {}),
            R"({"type":"Feature","geometry":null,)"
            R"("properties":{"driver_id":"d1","start_time":"2025-06-15T13:00:00.000Z",)"
            R"("end_time":"2025-06-15T14:00:00.000Z","timestamps":[],"points":0}})");
}

TEST(ReadJsonTest, GeoJsonKeepsAPositionsShapeForANonFiniteCoordinate) {
  const std::vector<LocationRecord> points = {point(NAN, 1, kNow), point(2, 3, kNow)};
  const std::string text = route_geojson("d1", kNow, kNow, points);
  EXPECT_NE(text.find(R"("coordinates":[[1.0,null],[3.0,2.0]])"), std::string::npos) << text;
}

// ---- parse_record_json ----------------------------------------------------

TEST(ReadJsonTest, RecordJsonRoundTripsEveryField) {
  const LocationRecord full = full_record();
  const std::optional<LocationRecord> back = parse_record_json(to_json(full));
  ASSERT_TRUE(back.has_value());
  expect_same_record(*back, full);
  EXPECT_EQ(to_json(*back), to_json(full));
}

TEST(ReadJsonTest, RecordJsonRoundTripsWithoutOptionalFields) {
  const LocationRecord minimal = point(0, 0, 946684800000);
  const std::optional<LocationRecord> back = parse_record_json(to_json(minimal));
  ASSERT_TRUE(back.has_value());
  expect_same_record(*back, minimal);
  EXPECT_FALSE(back->speed_kmh || back->heading_deg || back->accuracy_m || back->altitude_m ||
               back->order_id || back->battery_percent);
}

TEST(ReadJsonTest, RecordJsonRoundTripsAtTheLimits) {
  LocationRecord r = point(-90, 180, 253402300799999);  // 9999-12-31T23:59:59.999Z
  r.driver_id = std::string(kMaxIdLength, '~');
  r.speed_kmh = kMaxSpeedKmh;
  r.heading_deg = 360;
  r.accuracy_m = kMaxAccuracyM;
  r.altitude_m = -kMaxAbsAltitudeM;
  r.order_id = "0";
  r.battery_percent = 0;
  const std::optional<LocationRecord> back = parse_record_json(to_json(r));
  ASSERT_TRUE(back.has_value()) << to_json(r);
  expect_same_record(*back, r);
}

// Device values have at most 15 significant digits (7 decimals of a
// coordinate, one of a speed); to_json keeps 15, so they come back exact.
TEST(ReadJsonTest, RecordJsonRoundTripsDeviceValuesExactly) {
  std::mt19937_64 random(20250615);
  const auto decimal = [&random](double low, double high, int decimals) {
    const double raw = std::uniform_real_distribution<double>(low, high)(random);
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, raw);
    return std::strtod(text, nullptr);
  };
  for (int i = 0; i < 2000; ++i) {
    LocationRecord r = point(decimal(-90, 90, 7), decimal(-180, 180, 7),
                             kNow - static_cast<std::int64_t>(random() % (kNow - kMinTimestampMs)));
    r.speed_kmh = decimal(0, 300, 2);
    r.heading_deg = decimal(0, 360, 1);
    r.accuracy_m = decimal(0, 100, 3);
    r.altitude_m = decimal(-400, 9000, 4);
    r.battery_percent = decimal(0, 100, 0);
    const std::optional<LocationRecord> back = parse_record_json(to_json(r));
    ASSERT_TRUE(back.has_value()) << to_json(r);
    expect_same_record(*back, r);
    if (HasFailure()) break;
  }
}

// Past 15 digits to_json has already rounded: the text is the fixed point.
TEST(ReadJsonTest, RecordJsonTextIsAFixedPointBeyondFifteenDigits) {
  LocationRecord r = point(0.1 + 0.2, 1.0 / 3, kNow);
  const std::string text = to_json(r);
  const std::optional<LocationRecord> back = parse_record_json(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(to_json(*back), text);
  EXPECT_EQ(back->latitude, 0.3);
}

TEST(ReadJsonTest, RecordJsonIgnoresMembersItDoesNotKnow) {
  const std::optional<LocationRecord> back =
      parse_record_json(R"({"driver_id":"d1","latitude":52,"longitude":-13,"distance_m":12.3,)"
                        R"("timestamp":"2025-06-15T13:45:00.000Z","future":{"x":[1]}})");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->latitude, 52);  // integers are numbers too
  EXPECT_EQ(back->longitude, -13);
  EXPECT_EQ(back->timestamp_ms, 1749995100000);
}

TEST(ReadJsonTest, RecordJsonRefusesWhatToJsonNeverWrites) {
  const std::string ts = R"("timestamp":"2025-06-15T13:45:00.000Z")";
  const std::string base = R"("driver_id":"d1","latitude":1.0,"longitude":2.0,)" + ts;
  ASSERT_TRUE(parse_record_json("{" + base + "}").has_value());
  const std::vector<std::string> bad_texts = {
      "",
      "null",
      "not json",
      "[{" + base + "}]",
      "{" + base + "} trailing",
      "{" + base + ",",
      R"({"latitude":1.0,"longitude":2.0,)" + ts + "}",
      R"({"driver_id":7,"latitude":1.0,"longitude":2.0,)" + ts + "}",
      R"({"driver_id":"a b","latitude":1.0,"longitude":2.0,)" + ts + "}",
      R"({"driver_id":"","latitude":1.0,"longitude":2.0,)" + ts + "}",
      R"({"driver_id":"d1","longitude":2.0,)" + ts + "}",
      R"({"driver_id":"d1","latitude":"1.0","longitude":2.0,)" + ts + "}",
      R"({"driver_id":"d1","latitude":90.5,"longitude":2.0,)" + ts + "}",
      R"({"driver_id":"d1","latitude":1.0,"longitude":-181,)" + ts + "}",
      R"({"driver_id":"d1","latitude":1.0,"longitude":null,)" + ts + "}",
      R"({"driver_id":"d1","latitude":1.0,"longitude":2.0})",
      R"({"driver_id":"d1","latitude":1.0,"longitude":2.0,"timestamp":1749995100000})",
      R"({"driver_id":"d1","latitude":1.0,"longitude":2.0,"timestamp":"yesterday"})",
      R"({"driver_id":"d1","latitude":1.0,"longitude":2.0,)"
      R"("timestamp":"1999-12-31T23:59:59.999Z"})",
      "{" + base + R"(,"speed":"5"})",
      "{" + base + R"(,"speed":null})",
      "{" + base + R"(,"speed":-1.0})",
      "{" + base + R"(,"heading":360.5})",
      "{" + base + R"(,"accuracy":true})",
      "{" + base + R"(,"altitude":1e6})",
      "{" + base + R"(,"battery":101})",
      "{" + base + R"(,"order_id":7})",
      "{" + base + R"(,"order_id":"a:b"})",
      "{" + base + R"(,"latitude":3.0})",  // a duplicate key
  };
  for (const std::string& bad : bad_texts) {
    EXPECT_FALSE(parse_record_json(bad).has_value()) << bad;
  }
}

TEST(ReadJsonTest, RecordJsonReadsBackANearbyEntry) {
  // A nearby entry is a record plus distance_m: readable as a record.
  const std::vector<NearbyDriver> one = {{to_json(full_record()), 5}};
  const std::string text = nearby_json(one);
  const std::string entry = text.substr(12, text.size() - 12 - 2);
  const std::optional<LocationRecord> back = parse_record_json(entry);
  ASSERT_TRUE(back.has_value()) << entry;
  expect_same_record(*back, full_record());
}

}  // namespace
}  // namespace gpsrelay::locations
