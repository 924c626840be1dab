// Tests for the shared ISO 8601 reader (core/iso8601.h): each accepted
// form with its exact millisecond value, the calendar and offset checks,
// and the text it refuses. The location and event tests cover the range
// policies their callers put on top.
#include "core/iso8601.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

namespace gpsrelay::core {
namespace {

TEST(Iso8601Test, ReadsUtcWithAndWithoutFraction) {
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601_ms("2000-01-01T00:00:00Z"), 946684800000);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00Z"), 1714564800000);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00.123Z"), 1714564800123);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00.5Z"), 1714564800500);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00,25Z"), 1714564800250);
  EXPECT_EQ(parse_iso8601_ms("9999-12-31T23:59:59.999Z"), 253402300799999);
}

TEST(Iso8601Test, FractionBeyondMillisecondsIsTruncated) {
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00.123999999Z"), 1714564800123);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00." + std::string(1000, '9') + "Z"), 1714564800999);
}

TEST(Iso8601Test, OffsetsMoveTheTimeToUtc) {
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00.123+02:00"), 1714557600123);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00+0200"), 1714557600000);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00+02"), 1714557600000);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00-05:30"), 1714584600000);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00+00:00"), 1714564800000);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00-00:00"), 1714564800000);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00+23:59"), 1714564800000 - 1439 * 60000);
}

TEST(Iso8601Test, NoOffsetMeansUtc) {
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00"), 1714564800000);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00"), 1714564800000);
}

TEST(Iso8601Test, AcceptsRfc3339SpellingsOfTheSeparators) {
  EXPECT_EQ(parse_iso8601_ms("2024-05-01 12:00:00Z"), 1714564800000);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01t12:00:00z"), 1714564800000);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00Z"), 1714564800000);
}

TEST(Iso8601Test, LeapDaysAndLeapSeconds) {
  EXPECT_EQ(parse_iso8601_ms("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(parse_iso8601_ms("2000-02-29T00:00:00Z"), 951782400000);
  EXPECT_EQ(parse_iso8601_ms("2023-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_iso8601_ms("1900-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_iso8601_ms("2016-12-31T23:59:60Z"), 1483228800000);
}

TEST(Iso8601Test, YearsBefore1970AreNegative) {
  EXPECT_EQ(parse_iso8601_ms("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:30:00+01:00"), -1800000);
  EXPECT_EQ(parse_iso8601_ms("0000-01-01T00:00:00Z"), -62167219200000);
}

TEST(Iso8601Test, RefusesEverythingElse) {
  for (const char* bad : {"",
                          "2024-05-01",
                          "2024-05-01T",
                          "2024-05-01T12",
                          "2024-05-01T12:00:0",
                          "2024-05-01T12:00:00.",
                          "2024-05-01T12:00:00.Z",
                          "2024-5-01T12:00:00Z",
                          "24-05-01T12:00:00Z",
                          "+2024-05-01T12:00:00Z",
                          "2024/05/01T12:00:00Z",
                          "20240501T120000Z",
                          "2024-05-01X12:00:00Z",
                          "2024-00-01T12:00:00Z",
                          "2024-13-01T12:00:00Z",
                          "2024-04-31T12:00:00Z",
                          "2024-05-00T12:00:00Z",
                          "2024-05-01T24:00:00Z",
                          "2024-05-01T12:60:00Z",
                          "2024-05-01T12:00:61Z",
                          "2024-05-01T12:00:00+2",
                          "2024-05-01T12:00:00+02:",
                          "2024-05-01T12:00:00+24:00",
                          "2024-05-01T12:00:00+02:60",
                          "2024-05-01T12:00:00ZZ",
                          "2024-05-01T12:00:00Z ",
                          " 2024-05-01T12:00:00Z",
                          "2024-05-01T12:00:00 UTC",
                          "1714564800000",
                          "now"}) {
    EXPECT_EQ(parse_iso8601_ms(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(parse_iso8601_ms(std::string_view("2024-05-01T12:00:00Z\0", 21)), std::nullopt);
}

}  // namespace
}  // namespace gpsrelay::core
