// Tests for the location record and the device-format normaliser: every
// accepted format on fixtures shaped as the apps send them, unit
// conversions, each validation error with its field name, batches, ignored
// OwnTracks types, and locations taken out of raw reports.
#include <gtest/gtest.h>
#include <jansson.h>

#include <cmath>
#include <limits>
#include <string>

#include "location_samples.h"
#include "locations/location_record.h"
#include "locations/normalizer.h"

namespace gpsrelay::locations {
namespace {

constexpr std::int64_t kNow = 1749996000000;  // 2025-06-15T14:00:00Z

// ---- Fixtures, written for these tests in the shape each app sends -------

// Traccar Client 9.x (Android), flutter_background_geolocation posting the
// app's locationTemplate (traccar/traccar-client lib/preferences.dart before
// "Migrate to our own SDK") with params {"device_id"} merged in: compact,
// "location" first, a "_" key carrying the same values as OsmAnd
// parameters. Same shape as traccar/traccar's OsmAndProtocolDecoderTest.
constexpr const char* kTraccarAndroid =
    R"({"location":{"timestamp":"2025-06-15T13:45:12.862Z","coords":{"latitude":52.5200066,)"
    R"("longitude":13.404954,"accuracy":4.7,"speed":8.3,"heading":271.5,"altitude":38.2},)"
    R"("is_moving":true,"odometer":1520.4,"event":"motionchange","battery":{"level":0.62,)"
    R"("is_charging":false},"activity":{"type":"in_vehicle"},"extras":{},)"
    R"("_":"&id=31415926&lat=52.5200066&lon=13.404954&timestamp=2025-06-15T13:45:12.862Z&"},)"
    R"("device_id":"31415926"})";

// The same client on iOS: CoreLocation's -1 for unknown speed, heading and
// battery, extra *_accuracy keys, "floor":null, keys in another order.
constexpr const char* kTraccarIos =
    R"({"location":{"extras":{},"mock":false,"coords":{"speed_accuracy":-1,"speed":-1,)"
    R"("longitude":-0.1275862,"ellipsoidal_altitude":47,"floor":null,"heading_accuracy":-1,)"
    R"("latitude":51.5072178,"accuracy":12,"altitude_accuracy":-1,"altitude":11,"heading":-1},)"
    R"("is_moving":false,"age":95,"odometer":0,"uuid":"9C1B2D4E-1F0A-4B7C-8E6D-5A4B3C2D1E0F",)"
    R"("event":"motionchange","battery":{"level":-1,"is_charging":false},)"
    R"("activity":{"type":"unknown","confidence":100},"timestamp":"2025-06-15T13:40:00.000Z"},)"
    R"("device_id":"77001234"})";

// flutter_background_geolocation with batchSync: "location" is an array.
constexpr const char* kTraccarBatch =
    R"({"location":[{"timestamp":"2025-06-15T13:40:00.000Z","coords":{"latitude":48.1371,)"
    R"("longitude":11.5754,"accuracy":5,"speed":0,"heading":0,"altitude":519}},)"
    R"({"timestamp":"2025-06-15T13:45:12.862Z","coords":{"latitude":48.1402,"longitude":11.5601,)"
    R"("accuracy":6,"speed":13.9,"heading":90,"altitude":521}}],"device_id":"31415926"})";

// Traccar Client's own SDK (traccar-client-sdk HttpUploader): a form POST
// via ktor submitForm, in its append order; speed already in knots rounded
// to two decimals, timestamp in Unix seconds.
constexpr const char* kTraccarSdkForm =
    "id=31415926&lat=52.5200066&lon=13.404954&timestamp=1749995112&accuracy=4.7&altitude=38.2"
    "&speed=19.44&bearing=271.5&batt=62.0";

// Traccar Client for Android before the Flutter rewrite (ProtocolFormatter:
// Uri.Builder.appendQueryParameter in this order, Kotlin Double.toString).
constexpr const char* kTraccarLegacyQuery =
    "id=353861053849681&timestamp=1749995112&lat=52.5200066&lon=13.404954&speed=0.0"
    "&bearing=0.0&altitude=38.2&accuracy=12.0&batt=87.0";

// The OsmAnd app's online tracking, with a user's URL template of
// lat={0}&lon={1}&timestamp={2}&hdop={3}&altitude={4}&speed={5} and an id:
// OsmAnd fills the timestamp in milliseconds.
constexpr const char* kOsmAndApp =
    "id=902064&lat=42.06288&lon=-88.23412&timestamp=1749995112862&hdop=6.0&altitude=224.0"
    "&speed=0.0";

// OwnTracks Android in HTTP mode: compact, keys in the serializer's order
// (owntracks/android ParserTest), tid and topic added for HTTP; the device
// name also arrives as X-Limit-D.
constexpr const char* kOwnTracksAndroid =
    R"({"_type":"location","created_at":1749995113,"_id":"a1b2c3d4","batt":83,"bs":1,"acc":14,)"
    R"("vac":3,"lat":48.85833,"lon":2.29513,"alt":53,"vel":27,"cog":185,"tst":1749995112,)"
    R"("m":1,"conn":"m","tid":"ph","topic":"owntracks/jane/phone"})";

// OwnTracks iOS: unordered keys, no X-Limit-D, device from the topic (a
// UUID on iOS); shape as in traccar/traccar's OwnTracksProtocolDecoderTest.
constexpr const char* kOwnTracksIos =
    R"({"lon":-122.4194,"acc":5,"created_at":1749995113,"lat":37.7749,)"
    R"("topic":"owntracks/ckrey/5E0C2A6B-3D4F-4E21-9A8B-7C6D5E4F3A2B","t":"u","m":1,)"
    R"("tst":1749995112,"conn":"w","alt":0,"_type":"location","tid":"2B"})";

// OwnTracks region transition (booklet "JSON", _type=transition): carries
// lat/lon but is an event, not a location report.
constexpr const char* kOwnTracksTransition =
    R"({"_type":"transition","wtst":1749000000,"lat":48.85833,"lon":2.29513,"tst":1749995112,)"
    R"("acc":10,"tid":"ph","event":"enter","desc":"Depot","t":"c"})";

// ---- Helpers ------------------------------------------------------------------

// By value: callers pass temporaries.
LocationRecord only(const ParseResult& result) {
  EXPECT_EQ(result.status, ParseStatus::kOk) << result.error;
  EXPECT_EQ(result.records.size(), 1U);
  return result.records.empty() ? LocationRecord{} : result.records.front();
}

void expect_invalid(const ParseResult& result, const std::string& error) {
  EXPECT_EQ(result.status, ParseStatus::kInvalid);
  EXPECT_EQ(result.error, error);
  EXPECT_TRUE(result.records.empty());
}

ParseResult driver(const std::string& body) { return parse_driver_location("d-1", body, kNow); }

// ---- The record ---------------------------------------------------------------

TEST(LocationRecordTest, JsonHasTheContractFieldsInOrder) {
  const LocationRecord r = testing::full_record();
  EXPECT_EQ(to_json(r), R"({"driver_id":"driver-42","latitude":37.4219983,"longitude":-122.084,)"
                        R"("timestamp":"2025-06-15T13:45:12.862Z","speed":36.5,"heading":90.0,)"
                        R"("accuracy":4.7,"altitude":-3.5,"order_id":"order_7","battery":62.0})");
}

TEST(LocationRecordTest, JsonOmitsAbsentFields) {
  LocationRecord r;
  r.driver_id = "d";
  r.latitude = 0;
  r.longitude = 0;
  r.timestamp_ms = 946684800000;
  EXPECT_EQ(to_json(r), R"({"driver_id":"d","latitude":0.0,"longitude":0.0,)"
                        R"("timestamp":"2000-01-01T00:00:00.000Z"})");
}

TEST(LocationRecordTest, Iso8601RendersUtcWithMilliseconds) {
  EXPECT_EQ(format_iso8601_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_utc(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_utc(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_utc(4102444799999), "2099-12-31T23:59:59.999Z");
  // Never crashes at the extremes, whatever it prints.
  EXPECT_FALSE(format_iso8601_utc(std::numeric_limits<std::int64_t>::min()).empty());
  EXPECT_FALSE(format_iso8601_utc(std::numeric_limits<std::int64_t>::max()).empty());
}

TEST(LocationRecordTest, IdsAreUnreservedCharactersUpTo128) {
  for (const char* id : {"a", "31415926", "driver-42", "A.b_c~d", "...", ".a",
                         "5E0C2A6B-3D4F-4E21-9A8B-7C6D5E4F3A2B"}) {
    EXPECT_TRUE(is_valid_id(id)) << id;
  }
  EXPECT_TRUE(is_valid_id(std::string(128, 'x')));
  EXPECT_FALSE(is_valid_id(std::string(129, 'x')));
  for (const char* id :
       {"", ".", "..", "a b", "a:b", "a/b", "a*", "a?", "a[1]", "a%20", "é", "a\nb", "{x}"}) {
    EXPECT_FALSE(is_valid_id(id)) << id;
  }
  EXPECT_FALSE(is_valid_id(std::string("a\0b", 3)));
}

TEST(LocationRecordTest, CheckRecordNamesTheBrokenField) {
  LocationRecord r;
  r.driver_id = "d";
  r.timestamp_ms = kNow;
  EXPECT_EQ(check_record(r), std::nullopt);
  r.latitude = std::nan("");
  EXPECT_EQ(check_record(r), "latitude out of range");
  r.latitude = 0;
  r.heading_deg = 361;
  EXPECT_EQ(check_record(r), "heading out of range");
  r.heading_deg.reset();
  r.order_id = "a:b";
  EXPECT_EQ(check_record(r), "order_id is not a valid id");
}

// ---- Driver endpoint -------------------------------------------------------------

TEST(DriverEndpointTest, FullBodyBecomesOneRecord) {
  const ParseResult result = parse_driver_location(
      "driver-42",
      R"({"latitude":37.4219983,"longitude":-122.084,"speed":36.5,"heading":90,"accuracy":4.7,)"
      R"("altitude":-3.5,"order_id":"order_7","timestamp":"2025-06-15T13:45:12.862Z"})",
      kNow);
  const LocationRecord r = only(result);
  EXPECT_EQ(r.driver_id, "driver-42");
  EXPECT_DOUBLE_EQ(r.latitude, 37.4219983);
  EXPECT_DOUBLE_EQ(r.longitude, -122.084);
  EXPECT_EQ(r.timestamp_ms, 1749995112862);
  EXPECT_EQ(r.speed_kmh, 36.5);
  EXPECT_EQ(r.heading_deg, 90);
  EXPECT_EQ(r.accuracy_m, 4.7);
  EXPECT_EQ(r.altitude_m, -3.5);
  EXPECT_EQ(r.order_id, "order_7");
  EXPECT_FALSE(r.battery_percent);
  EXPECT_EQ(check_record(r), std::nullopt);
}

TEST(DriverEndpointTest, OnlyCoordinatesAreRequiredAndTimeDefaultsToNow) {
  const LocationRecord r = only(driver(R"({"latitude":-33.8688,"longitude":151.2093})"));
  EXPECT_EQ(r.timestamp_ms, kNow);
  EXPECT_FALSE(r.speed_kmh || r.heading_deg || r.accuracy_m || r.altitude_m || r.order_id);
}

TEST(DriverEndpointTest, TimestampIsIsoOrUnixSecondsOrMilliseconds) {
  const std::pair<const char*, std::int64_t> cases[] = {
      {R"("2025-06-15T13:45:12.862Z")", 1749995112862},
      {R"("2025-06-15T15:45:12.862+02:00")", 1749995112862},
      {R"("2025-06-15T08:45:12.862-0500")", 1749995112862},
      {R"("2025-06-15T13:45:12.8629Z")", 1749995112862},
      {R"("2025-06-15 13:45:12")", 1749995112000},
      {R"("2025-06-15T13:45")", 1749995100000},
      {"1749995112", 1749995112000},
      {"1749995112.862", 1749995112862},
      {"1749995112862", 1749995112862},
      {R"("1749995112")", 1749995112000},
  };
  for (const auto& [timestamp, expected] : cases) {
    const std::string body =
        std::string(R"({"latitude":1,"longitude":2,"timestamp":)") + timestamp + "}";
    EXPECT_EQ(only(driver(body)).timestamp_ms, expected) << timestamp;
  }
}

TEST(DriverEndpointTest, NumbersMayArriveAsStringsAndIdsAsIntegers) {
  const LocationRecord r =
      only(driver(R"({"latitude":"52.52","longitude":"13.405","speed":"10","order_id":1234})"));
  EXPECT_DOUBLE_EQ(r.latitude, 52.52);
  EXPECT_EQ(r.speed_kmh, 10);
  EXPECT_EQ(r.order_id, "1234");
}

TEST(DriverEndpointTest, EachBadFieldIsNamedInTheError) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"longitude":2})", "latitude is required"},
      {R"({"latitude":1})", "longitude is required"},
      {R"({"latitude":null,"longitude":2})", "latitude is required"},
      {R"({"latitude":90.0001,"longitude":2})", "latitude must be a number between -90 and 90"},
      {R"({"latitude":-91,"longitude":2})", "latitude must be a number between -90 and 90"},
      {R"({"latitude":"north","longitude":2})", "latitude must be a number between -90 and 90"},
      {R"({"latitude":"NaN","longitude":2})", "latitude must be a number between -90 and 90"},
      {R"({"latitude":"inf","longitude":2})", "latitude must be a number between -90 and 90"},
      {R"({"latitude":true,"longitude":2})", "latitude must be a number between -90 and 90"},
      {R"({"latitude":[1],"longitude":2})", "latitude must be a number between -90 and 90"},
      {R"({"latitude":1,"longitude":180.5})", "longitude must be a number between -180 and 180"},
      {R"({"latitude":1,"longitude":2,"speed":-1})",
       "speed must be a number between 0 and 10000 km/h"},
      {R"({"latitude":1,"longitude":2,"speed":1e5})",
       "speed must be a number between 0 and 10000 km/h"},
      {R"({"latitude":1,"longitude":2,"heading":360.5})",
       "heading must be a number between 0 and 360"},
      {R"({"latitude":1,"longitude":2,"heading":-1})",
       "heading must be a number between 0 and 360"},
      {R"({"latitude":1,"longitude":2,"accuracy":-5})",
       "accuracy must be a number between 0 and 1e+06"},
      {R"({"latitude":1,"longitude":2,"altitude":2e5})",
       "altitude must be a number between -100000 and 100000"},
      {R"({"latitude":1,"longitude":2,"battery":101})",
       "battery must be a number between 0 and 100"},
      {R"({"latitude":1,"longitude":2,"order_id":"a b"})",
       "order_id must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~"},
      {R"({"latitude":1,"longitude":2,"order_id":1.5})",
       "order_id must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~"},
      {R"({"latitude":1,"longitude":2,"timestamp":"yesterday"})",
       "timestamp must be ISO 8601 or Unix seconds or milliseconds"},
      {R"({"latitude":1,"longitude":2,"timestamp":"2025-02-29T00:00:00Z"})",
       "timestamp must be ISO 8601 or Unix seconds or milliseconds"},
      {R"({"latitude":1,"longitude":2,"timestamp":"2025-06-15T24:00:00Z"})",
       "timestamp must be ISO 8601 or Unix seconds or milliseconds"},
      {R"({"latitude":1,"longitude":2,"timestamp":{}})",
       "timestamp must be ISO 8601 or Unix seconds or milliseconds"},
      {R"({"latitude":1,"longitude":2,"timestamp":0})",
       "timestamp must be between 2000-01-01 and one day after the server's time"},
      {R"({"latitude":1,"longitude":2,"timestamp":"1999-12-31T23:59:59Z"})",
       "timestamp must be between 2000-01-01 and one day after the server's time"},
      {R"({"latitude":1,"longitude":2,"timestamp":1750168800})",  // now + 2 days
       "timestamp must be between 2000-01-01 and one day after the server's time"},
      {R"({"latitude":1,"longitude":2,"timestamp":1e300})",
       "timestamp must be between 2000-01-01 and one day after the server's time"},
      {R"([1,2])", "body must be a JSON object"},
      {R"({"latitude":1,"latitude":2,"longitude":3})",
       "body is not valid JSON (line 1, column 24)"},
      {"", "body is not valid JSON (line 1, column 0)"},
  };
  for (const auto& [body, error] : cases) expect_invalid(driver(body), error);
}

TEST(DriverEndpointTest, OneHourAheadIsStillAccepted) {
  EXPECT_TRUE(driver(R"({"latitude":1,"longitude":2,"timestamp":1749999600})").ok());
}

TEST(DriverEndpointTest, PathIdIsPercentDecodedThenChecked) {
  EXPECT_EQ(
      only(parse_driver_location("dr%69ver-1", R"({"latitude":1,"longitude":2})", kNow)).driver_id,
      "driver-1");
  const char* kRule = "driver_id must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~";
  for (const char* id : {"", "a%20b", "a%3Ab", "a%2", "%zz", "a+b", ".."}) {
    expect_invalid(parse_driver_location(id, R"({"latitude":1,"longitude":2})", kNow), kRule);
  }
}

// ---- OsmAnd parameters -----------------------------------------------------------

TEST(OsmAndTest, TraccarSdkFormConvertsKnotsToKmh) {
  const LocationRecord r = only(parse_osmand_params(kTraccarSdkForm, kNow));
  EXPECT_EQ(r.driver_id, "31415926");
  EXPECT_DOUBLE_EQ(r.latitude, 52.5200066);
  EXPECT_DOUBLE_EQ(r.longitude, 13.404954);
  EXPECT_EQ(r.timestamp_ms, 1749995112000);
  EXPECT_NEAR(*r.speed_kmh, 19.44 * 1.852, 1e-9);
  EXPECT_EQ(r.heading_deg, 271.5);
  EXPECT_EQ(r.accuracy_m, 4.7);
  EXPECT_EQ(r.altitude_m, 38.2);
  EXPECT_EQ(r.battery_percent, 62);
}

TEST(OsmAndTest, LegacyTraccarAndroidQuery) {
  const LocationRecord r = only(parse_osmand_params(kTraccarLegacyQuery, kNow));
  EXPECT_EQ(r.driver_id, "353861053849681");
  EXPECT_EQ(r.speed_kmh, 0);
  EXPECT_EQ(r.heading_deg, 0);
  EXPECT_EQ(r.accuracy_m, 12);
  EXPECT_EQ(r.battery_percent, 87);
}

TEST(OsmAndTest, OsmAndAppSendsMillisecondsAndHdop) {
  const LocationRecord r = only(parse_osmand_params(kOsmAndApp, kNow));
  EXPECT_EQ(r.driver_id, "902064");
  EXPECT_EQ(r.timestamp_ms, 1749995112862);
  EXPECT_EQ(r.accuracy_m, 6);
  EXPECT_EQ(r.altitude_m, 224);
  EXPECT_FALSE(r.battery_percent);
}

TEST(OsmAndTest, TimestampsAsTraccarDocumentsThem) {
  // Percent-encoded ISO 8601, and '+' as the space of "yyyy-MM-dd HH:mm:ss".
  EXPECT_EQ(
      only(parse_osmand_params(
               "id=902064&lat=42.06288&lon=-88.23412&timestamp=2016-01-27T18%3A55%3A47Z", kNow))
          .timestamp_ms,
      1453920947000);
  EXPECT_EQ(
      only(parse_osmand_params(
               "lat=49.60688&lon=6.15788&timestamp=2014-06-04+09%3A10%3A11&id=353861053849681",
               kNow))
          .timestamp_ms,
      1401873011000);
  EXPECT_EQ(only(parse_osmand_params("id=1&lat=1&lon=2", kNow)).timestamp_ms, kNow);
}

TEST(OsmAndTest, AliasesAndTheLocationPair) {
  const LocationRecord r = only(parse_osmand_params(
      "lat=60.0&lon=30.0&speed=0.0&heading=45&altitude=0&deviceid=123456", kNow));
  EXPECT_EQ(r.driver_id, "123456");
  EXPECT_EQ(r.heading_deg, 45);
  const LocationRecord pair =
      only(parse_osmand_params("id=123456&timestamp=1749995112&location=60.5,30.25", kNow));
  EXPECT_EQ(pair.latitude, 60.5);
  EXPECT_EQ(pair.longitude, 30.25);
  // accuracy wins over hdop; the last of a repeated parameter counts.
  const LocationRecord both =
      only(parse_osmand_params("id=1&lat=1&lon=2&hdop=9&accuracy=3&lat=5", kNow));
  EXPECT_EQ(both.accuracy_m, 3);
  EXPECT_EQ(both.latitude, 5);
}

TEST(OsmAndTest, NegativeOrEmptyOptionalValuesMeanUnknown) {
  const LocationRecord r = only(parse_osmand_params(
      "id=1&lat=1&lon=2&speed=-1&bearing=-1&accuracy=-1&batt=-1&altitude=", kNow));
  EXPECT_FALSE(r.speed_kmh || r.heading_deg || r.accuracy_m || r.battery_percent || r.altitude_m);
}

TEST(OsmAndTest, AnIdWithoutCoordinatesIsAHeartbeatNotALocation) {
  const ParseResult result = parse_osmand_params(
      "id=123456&timestamp=1377177267&cell=257,02,16,2224&wifi=00-14-22-01-23-45,-80", kNow);
  EXPECT_EQ(result.status, ParseStatus::kNotALocation);
  EXPECT_TRUE(result.records.empty());
}

TEST(OsmAndTest, EachBadParameterIsNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {"timestamp=1377177267&lat=60.0&lon=30.0", "id is required"},
      {"", "id is required"},
      {"id=a%2Fb&lat=1&lon=2", "id must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~"},
      {"deviceid=a+b&lat=1&lon=2", "deviceid must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~"},
      {"id=1&lat=1", "lon is required"},
      {"id=1&lat=95&lon=2", "lat must be a number between -90 and 90"},
      {"id=1&lat=1&lon=1,5", "lon must be a number between -180 and 180"},
      {"id=1&lat=1&lon=2%20", "lon must be a number between -180 and 180"},
      {"id=1&location=1", "location must be lat,lon"},
      {"id=1&location=1,x", "location must be a number between -180 and 180"},
      {"id=1&lat=1&lon=2&speed=6000", "speed must be a number between 0 and 5399.57 knots"},
      {"id=1&lat=1&lon=2&bearing=400", "bearing must be a number between 0 and 360"},
      {"id=1&lat=1&lon=2&hdop=x", "hdop must be a number between 0 and 1e+06"},
      {"id=1&lat=1&lon=2&batt=150", "batt must be a number between 0 and 100"},
      {"id=1&lat=1&lon=2&timestamp=0",
       "timestamp must be between 2000-01-01 and one day after the server's time"},
      {"id=1&lat=1&lon=2&timestamp=abc",
       "timestamp must be ISO 8601 or Unix seconds or milliseconds"},
      {"id=1&lat=1%&lon=2", "parameters are not valid percent-encoding"},
      {"id=1&lat=1&lon=2&x=%G0", "parameters are not valid percent-encoding"},
  };
  for (const auto& [params, error] : cases)
    expect_invalid(parse_osmand_params(params, kNow), error);
}

// ---- Traccar Client JSON -----------------------------------------------------------

TEST(TraccarJsonTest, AndroidBodyConvertsMetresPerSecondAndBatteryLevel) {
  const LocationRecord r = only(parse_traccar_json(kTraccarAndroid, kNow));
  EXPECT_EQ(r.driver_id, "31415926");
  EXPECT_DOUBLE_EQ(r.latitude, 52.5200066);
  EXPECT_DOUBLE_EQ(r.longitude, 13.404954);
  EXPECT_EQ(r.timestamp_ms, 1749995112862);
  EXPECT_NEAR(*r.speed_kmh, 8.3 * 3.6, 1e-9);
  EXPECT_EQ(r.heading_deg, 271.5);
  EXPECT_EQ(r.accuracy_m, 4.7);
  EXPECT_EQ(r.altitude_m, 38.2);
  EXPECT_NEAR(*r.battery_percent, 62, 1e-9);
}

TEST(TraccarJsonTest, IosMinusOneMeansUnknown) {
  const LocationRecord r = only(parse_traccar_json(kTraccarIos, kNow));
  EXPECT_EQ(r.driver_id, "77001234");
  EXPECT_EQ(r.timestamp_ms, 1749994800000);
  EXPECT_FALSE(r.speed_kmh);
  EXPECT_FALSE(r.heading_deg);
  EXPECT_FALSE(r.battery_percent);
  EXPECT_EQ(r.accuracy_m, 12);
  EXPECT_EQ(r.altitude_m, 11);
}

TEST(TraccarJsonTest, LocationArrayAndTopLevelArrayAreBatches) {
  const ParseResult batch = parse_traccar_json(kTraccarBatch, kNow);
  ASSERT_EQ(batch.status, ParseStatus::kOk);
  ASSERT_EQ(batch.records.size(), 2U);
  EXPECT_EQ(batch.records[0].timestamp_ms, 1749994800000);
  EXPECT_EQ(batch.records[1].heading_deg, 90);
  EXPECT_NEAR(*batch.records[1].speed_kmh, 13.9 * 3.6, 1e-9);

  const std::string two = std::string("[") + kTraccarAndroid + "," + kTraccarIos + "]";
  const ParseResult outer = parse_traccar_json(two, kNow);
  ASSERT_EQ(outer.records.size(), 2U);
  EXPECT_EQ(outer.records[1].driver_id, "77001234");
}

TEST(TraccarJsonTest, ErrorsNameThePathAndTheBatchElement) {
  const std::pair<std::string, const char*> cases[] = {
      {R"({"location":{"coords":{"latitude":1,"longitude":2}}})", "device_id is required"},
      {R"({"device_id":"a b","location":{"coords":{"latitude":1,"longitude":2}}})",
       "device_id must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~"},
      {R"({"device_id":"1"})", "location is required"},
      {R"({"device_id":"1","location":5})", "location must be an object"},
      {R"({"device_id":"1","location":{"timestamp":"2025-06-15T13:45:12Z"}})",
       "location.coords must be an object"},
      {R"({"device_id":"1","location":{"coords":{"latitude":100,"longitude":2}}})",
       "location.coords.latitude must be a number between -90 and 90"},
      {R"({"device_id":"1","location":{"coords":{"latitude":1,"longitude":2,"speed":3000}}})",
       "location.coords.speed must be a number between 0 and 2777.78 m/s"},
      {R"({"device_id":"1","location":{"coords":{"latitude":1,"longitude":2},"battery":{"level":1.5}}})",
       "location.battery.level must be a number between 0 and 1"},
      {R"({"device_id":"1","location":{"timestamp":"soon","coords":{"latitude":1,"longitude":2}}})",
       "location.timestamp must be ISO 8601 or Unix seconds or milliseconds"},
      {R"({"device_id":"1","location":[{"coords":{"latitude":1,"longitude":2}},{"coords":{}}]})",
       "location[1]: location.coords.latitude is required"},
      {std::string("[") + kTraccarAndroid + R"(,{"device_id":"2"}])",
       "element 1: location is required"},
      {"[7]", "element 0: must be a JSON object"},
      {"{", "body is not valid JSON (line 1, column 1)"},
  };
  for (const auto& [body, error] : cases) expect_invalid(parse_traccar_json(body, kNow), error);
}

TEST(OsmAndRequestTest, QueryFirstThenJsonBodyThenFormBody) {
  EXPECT_EQ(only(parse_osmand_request(kOsmAndApp, kTraccarAndroid, kNow)).driver_id, "902064");
  EXPECT_EQ(only(parse_osmand_request("", std::string(" \n") + kTraccarAndroid, kNow)).driver_id,
            "31415926");
  EXPECT_EQ(only(parse_osmand_request("", kTraccarSdkForm, kNow)).driver_id, "31415926");
  expect_invalid(parse_osmand_request("", "", kNow), "id is required");
}

// ---- OwnTracks ---------------------------------------------------------------------

TEST(OwnTracksTest, AndroidUsesTheXLimitDHeader) {
  const LocationRecord r = only(parse_owntracks(kOwnTracksAndroid, "jane-phone", kNow));
  EXPECT_EQ(r.driver_id, "jane-phone");
  EXPECT_EQ(r.latitude, 48.85833);
  EXPECT_EQ(r.longitude, 2.29513);
  EXPECT_EQ(r.timestamp_ms, 1749995112000);
  EXPECT_EQ(r.speed_kmh, 27);  // vel is already km/h
  EXPECT_EQ(r.heading_deg, 185);
  EXPECT_EQ(r.accuracy_m, 14);
  EXPECT_EQ(r.altitude_m, 53);
  EXPECT_EQ(r.battery_percent, 83);
}

TEST(OwnTracksTest, WithoutTheHeaderTheTopicsLastSegmentIsTheDevice) {
  EXPECT_EQ(only(parse_owntracks(kOwnTracksAndroid, "", kNow)).driver_id, "phone");
  const LocationRecord ios = only(parse_owntracks(kOwnTracksIos, "", kNow));
  EXPECT_EQ(ios.driver_id, "5E0C2A6B-3D4F-4E21-9A8B-7C6D5E4F3A2B");
  EXPECT_EQ(ios.accuracy_m, 5);
  EXPECT_FALSE(ios.speed_kmh);
}

TEST(OwnTracksTest, OtherTypesAndEmptyBodiesAreIgnoredNotRefused) {
  for (const std::string& body :
       {std::string(kOwnTracksTransition), std::string(R"({"_type":"lwt","tst":1749995112})"),
        std::string(R"({"_type":"encrypted","data":"aGVsbG8="})"), std::string(""),
        std::string(" \r\n"), std::string("[]")}) {
    const ParseResult result = parse_owntracks(body, "phone", kNow);
    EXPECT_EQ(result.status, ParseStatus::kOk) << body;
    EXPECT_TRUE(result.records.empty()) << body;
  }
}

TEST(OwnTracksTest, ArraysKeepTheLocationsAndSkipTheRest) {
  const std::string body =
      std::string("[") + kOwnTracksTransition + "," + kOwnTracksAndroid + "," + kOwnTracksIos + "]";
  const ParseResult result = parse_owntracks(body, "", kNow);
  ASSERT_EQ(result.status, ParseStatus::kOk) << result.error;
  ASSERT_EQ(result.records.size(), 2U);
  EXPECT_EQ(result.records[0].driver_id, "phone");
  EXPECT_EQ(result.records[1].latitude, 37.7749);
}

TEST(OwnTracksTest, NegativeValuesMeanUnknown) {
  const LocationRecord r = only(parse_owntracks(
      R"({"_type":"location","lat":1,"lon":2,"tst":1749995112,"vel":-1,"cog":-1,"acc":-1,"batt":-1})",
      "p", kNow));
  EXPECT_FALSE(r.speed_kmh || r.heading_deg || r.accuracy_m || r.battery_percent);
}

TEST(OwnTracksTest, EachBadFieldIsNamed) {
  const std::pair<std::string, const char*> cases[] = {
      {R"({"_type":"location","lat":1,"lon":2,"tst":1749995112})",
       "topic is required when there is no X-Limit-D header"},
      {R"({"_type":"location","lat":1,"lon":2,"topic":"owntracks/jane/"})",
       "topic must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~"},
      {R"({"_type":"location","lat":1,"lon":2,"topic":"owntracks/jane/my phone"})",
       "topic must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~"},
      {R"({"_type":"location","lon":2,"topic":"owntracks/a/b"})", "lat is required"},
      {R"({"_type":"location","lat":-90.5,"lon":2,"topic":"owntracks/a/b"})",
       "lat must be a number between -90 and 90"},
      {R"({"_type":"location","lat":1,"lon":200,"topic":"owntracks/a/b"})",
       "lon must be a number between -180 and 180"},
      {R"({"_type":"location","lat":1,"lon":2,"tst":"x","topic":"owntracks/a/b"})",
       "tst must be ISO 8601 or Unix seconds or milliseconds"},
      {R"({"_type":"location","lat":1,"lon":2,"tst":1,"topic":"owntracks/a/b"})",
       "tst must be between 2000-01-01 and one day after the server's time"},
      {R"({"_type":"location","lat":1,"lon":2,"cog":720,"topic":"owntracks/a/b"})",
       "cog must be a number between 0 and 360"},
      {R"({"_type":"location","lat":1,"lon":2,"batt":101,"topic":"owntracks/a/b"})",
       "batt must be a number between 0 and 100"},
      {R"({"lat":1,"lon":2})", "_type must be a string"},
      {R"([{"_type":"lwt"},"x"])", "element 1: must be a JSON object"},
      {"nope", "body is not valid JSON (line 1, column 4)"},
  };
  for (const auto& [body, error] : cases) expect_invalid(parse_owntracks(body, "", kNow), error);
  expect_invalid(parse_owntracks(kOwnTracksAndroid, "a:b", kNow),
                 "X-Limit-D must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~");
}

// ---- Raw /api/gps/reports bodies --------------------------------------------------

TEST(RawReportTest, FlatKeysInTheirSpellings) {
  const LocationRecord a = only(extract_report_location(
      R"({"device_id":"truck-7","lat":40.4168,"lng":-3.7038,"ts":1749995112,"speed":50,)"
      R"("bearing":12,"accuracy":3,"altitude":650,"order_id":"o-1","battery":55,"extra":{"x":1}})",
      kNow));
  EXPECT_EQ(a.driver_id, "truck-7");
  EXPECT_EQ(a.longitude, -3.7038);
  EXPECT_EQ(a.timestamp_ms, 1749995112000);
  EXPECT_EQ(a.speed_kmh, 50);
  EXPECT_EQ(a.heading_deg, 12);
  EXPECT_EQ(a.order_id, "o-1");
  EXPECT_EQ(a.battery_percent, 55);

  const LocationRecord b = only(extract_report_location(
      R"({"id":12345,"latitude":"40.4","longitude":"-3.7","timestamp":"2025-06-15T13:45:12Z"})",
      kNow));
  EXPECT_EQ(b.driver_id, "12345");
  EXPECT_EQ(b.timestamp_ms, 1749995112000);
  EXPECT_EQ(
      only(extract_report_location(R"({"driver_id":"d","lat":1,"lon":2})", kNow)).timestamp_ms,
      kNow);
}

TEST(RawReportTest, DeviceShapesAreRecognised) {
  EXPECT_EQ(only(extract_report_location(kTraccarAndroid, kNow)).driver_id, "31415926");
  EXPECT_EQ(only(extract_report_location(kOwnTracksAndroid, kNow)).driver_id, "phone");
  EXPECT_EQ(extract_report_location(kTraccarBatch, kNow).records.size(), 2U);
  // Our own record, re-posted, is a location too.
  LocationRecord r;
  r.driver_id = "d-9";
  r.latitude = 1.5;
  r.longitude = 2.5;
  r.timestamp_ms = 1749995112862;
  r.speed_kmh = 12;
  const LocationRecord back = only(extract_report_location(to_json(r), kNow));
  EXPECT_EQ(back.driver_id, "d-9");
  EXPECT_EQ(back.timestamp_ms, r.timestamp_ms);
  EXPECT_EQ(back.speed_kmh, 12);
}

TEST(RawReportTest, ArraysSkipWhatIsNoLocation) {
  const ParseResult result = extract_report_location(
      R"([{"event":"door_open"},{"id":"a","lat":1,"lon":2},7,{"_type":"lwt"},{"id":"b","lat":3,"lon":4}])",
      kNow);
  ASSERT_EQ(result.status, ParseStatus::kOk);
  ASSERT_EQ(result.records.size(), 2U);
  EXPECT_EQ(result.records[1].driver_id, "b");
}

TEST(RawReportTest, NoCoordinatesIsNotALocation) {
  for (const std::string& body :
       {std::string(R"({"device_id":"x","temperature":21.5})"), std::string("not json"),
        std::string(""), std::string("[]"), std::string(R"([1,"a",null])"),
        std::string(kOwnTracksTransition), std::string(R"({"location":"Berlin","id":"x"})"),
        std::string(R"({"_type":5})")}) {
    const ParseResult result = extract_report_location(body, kNow);
    EXPECT_EQ(result.status, ParseStatus::kNotALocation) << body;
    EXPECT_TRUE(result.records.empty());
  }
}

TEST(RawReportTest, ALocationShapeWithABadValueIsInvalid) {
  expect_invalid(extract_report_location(R"({"lat":1,"lon":2})", kNow), "device_id is required");
  expect_invalid(extract_report_location(R"({"id":"x","lat":91,"lon":2})", kNow),
                 "lat must be a number between -90 and 90");
  expect_invalid(extract_report_location(R"({"id":"x","latitude":1})", kNow), "lon is required");
  expect_invalid(
      extract_report_location(R"([{"id":"x","lat":1,"lon":2},{"id":"y","lat":1,"lon":"?"}])", kNow),
      "element 1: lon must be a number between -180 and 180");
  expect_invalid(extract_report_location(R"({"_type":"location","lat":1,"lon":2})", kNow),
                 "topic is required when there is no X-Limit-D header");
}

// ---- Shared pieces -------------------------------------------------------------------

TEST(NormalizerTest, PercentDecoding) {
  EXPECT_EQ(percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(percent_decode("a%20b+c", false), "a b+c");
  EXPECT_EQ(percent_decode("%3a%3A", false), "::");
  EXPECT_EQ(percent_decode("%00", false), std::string(1, '\0'));
  EXPECT_EQ(percent_decode("", false), "");
  EXPECT_EQ(percent_decode("%", false), std::nullopt);
  EXPECT_EQ(percent_decode("%4", false), std::nullopt);
  EXPECT_EQ(percent_decode("%4g", false), std::nullopt);
}

TEST(NormalizerTest, TimestampTextForms) {
  EXPECT_EQ(parse_timestamp_text("2000-01-01T00:00:00Z"), 946684800000);
  EXPECT_EQ(parse_timestamp_text("2024-02-29T12:00:00.5z"), 1709208000500);
  EXPECT_EQ(parse_timestamp_text("2024-02-29t12:00:00,25+01"), 1709204400250);
  EXPECT_EQ(parse_timestamp_text("+1749995112"), 1749995112000);
  for (const char* bad :
       {"", "2024-02-30T00:00:00Z", "2024-13-01T00:00:00Z", "2024-1-01T00:00Z", "2024-01-01",
        "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00+2", "2024-01-01T00:00:00+24:00",
        "2024-01-01T00:00:00Z ", "1e", "nan", "0x10", "--1", "++1"}) {
    EXPECT_EQ(parse_timestamp_text(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace gpsrelay::locations
