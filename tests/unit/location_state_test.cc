// The location state's key names and the arguments of its update script
// (locations/location_state.h): what the consumer sends Redis, checked
// without a server.
#include "locations/location_state.h"

#include <gtest/gtest.h>

#include <limits>

namespace gpsrelay::locations {
namespace {

LocationRecord record(std::string id, double latitude, double longitude, std::int64_t at) {
  LocationRecord r;
  r.driver_id = std::move(id);
  r.latitude = latitude;
  r.longitude = longitude;
  r.timestamp_ms = at;
  return r;
}

TEST(LocationStateTest, KeysLiveUnderTheStreamsName) {
  const StateKeys keys("gps:reports");
  EXPECT_EQ(keys.prefix(), "gps:reports:loc:");
  EXPECT_EQ(keys.driver("d-1"), "gps:reports:loc:driver:d-1");
  EXPECT_EQ(keys.order("o.7"), "gps:reports:loc:order:o.7");
  EXPECT_EQ(keys.geo(), "gps:reports:loc:geo");
  EXPECT_EQ(keys.expiry(), "gps:reports:loc:expiry");
}

TEST(LocationStateTest, UpdateBatchHasAHeaderThenSevenArgumentsPerRecord) {
  const StateKeys keys("s");
  UpdateBatch batch(keys, 300000, 1749995100000);
  LocationRecord with_order = record("d-1", 52.52, 13.405, 1749995099000);
  with_order.order_id = "o-9";
  with_order.speed_kmh = 36.5;
  batch.add(with_order, "1749995100000-0");
  batch.add(record("d-2", -33.8688, 151.2093, 1749995098123), "1749995100000-1", "{}");
  EXPECT_EQ(batch.records(), 2u);
  const std::vector<std::string>& args = batch.args();
  ASSERT_EQ(args.size(), 3u + 2 * 7);
  EXPECT_EQ(args[0], "s:loc:");
  EXPECT_EQ(args[1], "300000");
  EXPECT_EQ(args[2], "1749995100000");
  EXPECT_EQ(args[3], "d-1");
  EXPECT_EQ(args[4], "1749995099000");
  EXPECT_EQ(args[5], "13.405");  // longitude first, as GEOADD takes it
  EXPECT_EQ(args[6], "52.52");
  EXPECT_EQ(args[7], "o-9");
  EXPECT_EQ(args[8], to_json(with_order));
  EXPECT_EQ(args[9], "1749995100000-0");
  EXPECT_EQ(args[14], "");    // no order
  EXPECT_EQ(args[15], "{}");  // the caller's JSON, as given
  EXPECT_EQ(args[16], "1749995100000-1");
}

TEST(LocationStateTest, NumbersAreTheShortestTextThatReadsBackExactly) {
  EXPECT_EQ(format_number(0.1), "0.1");
  EXPECT_EQ(format_number(-180), "-180");
  EXPECT_EQ(format_number(179.99999999999997), "179.99999999999997");
  EXPECT_EQ(format_number(std::numeric_limits<double>::denorm_min()), "5e-324");
}

}  // namespace
}  // namespace gpsrelay::locations
