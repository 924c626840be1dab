// TIME arguments of gpsrelayctl: durations ago and UTC dates/times.
#include <gtest/gtest.h>

#include "ctl/time_spec.h"

namespace gpsrelay::ctl {
namespace {

constexpr std::int64_t kNow = 1795595200000;  // 2026-11-25 08:26:40 UTC

TEST(CtlTimeSpecTest, DurationsMeanThatLongAgo) {
  EXPECT_EQ(parse_time_spec("2h", kNow), kNow - 2 * 3600 * 1000);
  EXPECT_EQ(parse_time_spec("30s", kNow), kNow - 30000);
  EXPECT_EQ(parse_time_spec("7d", kNow), kNow - 7LL * 86400 * 1000);
  EXPECT_EQ(parse_time_spec("0s", kNow), kNow);
  EXPECT_EQ(parse_time_spec("10m", kNow), kNow - 600000);
  EXPECT_EQ(parse_time_spec("250ms", kNow), kNow - 250);
}

TEST(CtlTimeSpecTest, UtcDatesAndTimesInEveryAcceptedForm) {
  const std::int64_t midnight = 1795564800000;  // 2026-11-25 00:00:00 UTC
  EXPECT_EQ(parse_time_spec("2026-11-25", kNow), midnight);
  EXPECT_EQ(parse_time_spec("2026-11-25T08:26", kNow), midnight + (8 * 3600 + 26 * 60) * 1000LL);
  EXPECT_EQ(parse_time_spec("2026-11-25T08:26:40", kNow), kNow);
  EXPECT_EQ(parse_time_spec("2026-11-25T08:26:40Z", kNow), kNow);
  EXPECT_EQ(parse_time_spec("2026-11-25 08:26:40", kNow), kNow);
  EXPECT_EQ(parse_time_spec("1970-01-01", kNow), 0);
  EXPECT_EQ(parse_time_spec("2026-11-25 08:26", kNow), midnight + (8 * 3600 + 26 * 60) * 1000LL);
  EXPECT_EQ(parse_time_spec("2026-11-25T08:26Z", kNow), midnight + (8 * 3600 + 26 * 60) * 1000LL);
  EXPECT_EQ(parse_time_spec("2026-11-25t08:26:40z", kNow), kNow);
  EXPECT_EQ(parse_time_spec("2026-11-25Z", kNow), midnight);
  EXPECT_EQ(parse_time_spec("2024-02-29", kNow), 1709164800000);  // a leap day
  EXPECT_EQ(parse_time_spec("2026-11-25T23:59:59", kNow), midnight + 86399000);
}

TEST(CtlTimeSpecTest, RejectsEverythingElse) {
  for (const char* bad : {"",
                          "2h30m",
                          "yesterday",
                          "2026-13-01",
                          "2026-02-30",
                          "2026-11-25T24:00",
                          "2026-11-25T08:60",
                          "2026-11-25T08:26:61",
                          "2026-11-25X08:26",
                          "2026-11-5",
                          "26-11-25",
                          "2026-11-25T08",
                          "2026-11-25T08:26:40+01:00",
                          "-2h",
                          "2026/11/25",
                          "2023-02-29",
                          "2026-11-25T08:26:40.5",
                          "2026-11-25T08:26:4",
                          "2026-11-25T8:26",
                          " 2026-11-25",
                          "2026-11-25 ",
                          "2026-11-25T",
                          "2026-11-25T08:26:",
                          "2h ",
                          "2H",
                          "Z"}) {
    EXPECT_FALSE(parse_time_spec(bad, kNow).has_value()) << bad;
  }
}

TEST(CtlTimeSpecTest, FormatsUtc) {
  EXPECT_EQ(format_utc(kNow), "2026-11-25 08:26:40");
  EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00");
  EXPECT_EQ(format_utc(kNow + 999), "2026-11-25 08:26:40");
}

}  // namespace
}  // namespace gpsrelay::ctl
