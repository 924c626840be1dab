// Tests of the duration and size grammar (core/units.h).
#include "core/units.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>

namespace gpsrelay::core {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("5s"), milliseconds(5000));
  EXPECT_EQ(parse_duration("10m"), milliseconds(600000));
  EXPECT_EQ(parse_duration("2h"), milliseconds(7200000));
  EXPECT_EQ(parse_duration("30d"), milliseconds(2592000000));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
  EXPECT_EQ(parse_duration("007s"), milliseconds(7000));
}

TEST(ParseDuration, RejectsABareNumberBecauseTheUnitIsAmbiguous) {
  EXPECT_EQ(parse_duration("30"), std::nullopt);
  EXPECT_EQ(parse_duration("0"), std::nullopt);
}

TEST(ParseDuration, RejectsSignsFractionsSpacesAndEmptyText) {
  for (const char* text : {"", "s", "-5s", "+5s", "1.5s", " 5s", "5s ", "5 s", "5s5", "1h30m"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
  }
}

TEST(ParseDuration, RejectsUnknownAndUpperCaseUnits) {
  for (const char* text : {"5S", "5MS", "5sec", "5us", "5w", "5y", "5msx"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
  }
}

TEST(ParseDuration, RejectsOverflowInsteadOfWrapping) {
  EXPECT_EQ(parse_duration("9223372036854775807ms"), milliseconds::max());
  EXPECT_EQ(parse_duration("9223372036854775808ms"), std::nullopt);
  EXPECT_EQ(parse_duration("9223372036854776s"), std::nullopt);
  EXPECT_EQ(parse_duration("106751991167d"), milliseconds(9223372036828800000));
  EXPECT_EQ(parse_duration("106751991168d"), std::nullopt);
  EXPECT_EQ(parse_duration("99999999999999999999999ms"), std::nullopt);
}

TEST(FormatDuration, UsesTheLargestUnitThatDividesExactly) {
  EXPECT_EQ(format_duration(milliseconds(5000)), "5s");
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(90000)), "90s");
  EXPECT_EQ(format_duration(milliseconds(600000)), "10m");
  EXPECT_EQ(format_duration(milliseconds(7200000)), "2h");
  EXPECT_EQ(format_duration(milliseconds(2592000000)), "30d");
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
}

TEST(FormatDuration, WritesNegativeDurationsInMillisecondsWithoutCrashing) {
  EXPECT_EQ(format_duration(milliseconds(-5000)), "-5000ms");
  EXPECT_EQ(format_duration(milliseconds::min()), "-9223372036854775808ms");
}

TEST(FormatDuration, OutputParsesBackToTheSameDuration) {
  const std::int64_t kSamples[] = {
      0,     1,       999,      1000,     59999,
      60000, 3600000, 86400000, 86400001, std::numeric_limits<std::int64_t>::max()};
  for (const std::int64_t ms : kSamples) {
    EXPECT_EQ(parse_duration(format_duration(milliseconds(ms))), milliseconds(ms)) << ms;
  }
}

TEST(ParseSize, AcceptsPlainBytesAndSuffixesInEitherCase) {
  EXPECT_EQ(parse_size("1048576"), 1048576u);
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("512k"), 512u * 1024);
  EXPECT_EQ(parse_size("512K"), 512u * 1024);
  EXPECT_EQ(parse_size("1m"), 1024u * 1024);
  EXPECT_EQ(parse_size("1M"), 1024u * 1024);
}

TEST(ParseSize, RejectsAnythingElse) {
  for (const char* text :
       {"", "k", "-1", "+1", "1.5m", " 1", "1 ", "1 k", "1g", "1kb", "1b", "0x10", "1mm"}) {
    EXPECT_EQ(parse_size(text), std::nullopt) << text;
  }
}

TEST(ParseSize, RejectsOverflowInsteadOfWrapping) {
  EXPECT_EQ(parse_size("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(parse_size("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_size("17592186044415m"), 17592186044415ull << 20);
  EXPECT_EQ(parse_size("17592186044416m"), std::nullopt);
  EXPECT_EQ(parse_size("18014398509481984k"), std::nullopt);
}

TEST(FormatSize, UsesTheLargestSuffixThatDividesExactly) {
  EXPECT_EQ(format_size(1048576), "1m");
  EXPECT_EQ(format_size(3 * 1048576), "3m");
  EXPECT_EQ(format_size(2048), "2k");
  EXPECT_EQ(format_size(1536), "1536");
  EXPECT_EQ(format_size(1049600), "1025k");
  EXPECT_EQ(format_size(0), "0");
  EXPECT_EQ(format_size(1), "1");
}

TEST(FormatSize, OutputParsesBackToTheSameSize) {
  for (const std::uint64_t bytes :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1023}, std::uint64_t{1024},
        std::uint64_t{1048575}, std::uint64_t{1048576}, std::numeric_limits<std::uint64_t>::max(),
        std::numeric_limits<std::uint64_t>::max() - 1048575}) {
    EXPECT_EQ(parse_size(format_size(bytes)), bytes) << bytes;
  }
}

TEST(ParseDistance, TakesMetresAndKilometres) {
  EXPECT_EQ(parse_distance("500m"), 500u);
  EXPECT_EQ(parse_distance("50km"), 50000u);
  EXPECT_EQ(parse_distance("0m"), 0u);
  for (const std::string_view bad :
       {"50", "50 km", "-5m", "5.5km", "5KM", "km", "", "18446744073709552km"}) {
    EXPECT_EQ(parse_distance(bad), std::nullopt) << bad;
  }
}

TEST(FormatDistance, OutputParsesBack) {
  EXPECT_EQ(format_distance(50000), "50km");
  EXPECT_EQ(format_distance(1500), "1500m");
  EXPECT_EQ(format_distance(0), "0m");
  for (const std::uint64_t metres :
       {std::uint64_t{0}, std::uint64_t{999}, std::uint64_t{1000}, std::uint64_t{20000000}}) {
    EXPECT_EQ(parse_distance(format_distance(metres)), metres) << metres;
  }
}

}  // namespace
}  // namespace gpsrelay::core
