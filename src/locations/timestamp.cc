// Timestamp parsing for the location formats: ISO 8601 (core/iso8601.h),
// and Unix seconds or milliseconds (see timestamp.h).
#include "locations/timestamp.h"

#include <cmath>
#include <optional>
#include <string_view>

#include "core/iso8601.h"
#include "locations/normalizer.h"
#include "locations/text_scan.h"

namespace gpsrelay::locations {
namespace normalizer_internal {
namespace {

// Unix times below this are seconds, above it milliseconds: 1e11 s is the
// year 5138, 1e11 ms is 1973, both outside what we accept anyway.
constexpr double kSecondsBelow = 1e11;

}  // namespace

std::int64_t unix_number_to_ms(double value) {
  const double ms = std::fabs(value) < kSecondsBelow ? value * 1000 : value;
  if (ms >= 9e18) return INT64_MAX;
  if (ms <= -9e18) return INT64_MIN;
  return std::llround(ms);
}

}  // namespace normalizer_internal

std::optional<std::int64_t> parse_timestamp_text(std::string_view text) {
  if (const std::optional<double> number = normalizer_internal::parse_number_text(text)) {
    return normalizer_internal::unix_number_to_ms(*number);
  }
  return core::parse_iso8601_ms(text);
}

}  // namespace gpsrelay::locations
