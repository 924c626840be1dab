// libFuzzer target for the location normaliser. The input's first line is
// the "head" (driver id path parameter, X-Limit-D header, query string) and
// the rest the body; every entry point sees them. Invariants: no crash or
// out-of-bounds read; a result is exactly one of records, error, or
// not-a-location; every record passes check_record and is not ahead of the
// clock by more than the allowed skew; its JSON parses back, and taken out
// again as a raw report it gives the same record (to 15 digits).
#include <jansson.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/json_handle.h"
#include "locations/location_record.h"
#include "locations/normalizer.h"

namespace {

using gpsrelay::core::JsonPtr;
using namespace gpsrelay::locations;  // NOLINT(google-build-using-namespace)

constexpr std::int64_t kNow = 1749996000000;  // 2025-06-15T14:00:00Z

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "violated: %s\n", what);
    std::abort();
  }
}

bool close(double a, double b) { return std::fabs(a - b) <= 1e-12 * std::fmax(1, std::fabs(a)); }

void check_json_round_trip(const LocationRecord& record) {
  const std::string text = to_json(record);
  json_error_t error;
  const JsonPtr parsed(json_loadb(text.data(), text.size(), 0, &error));
  check(parsed != nullptr && json_is_object(parsed.get()), "to_json gives a JSON object");
  const json_t* id = json_object_get(parsed.get(), "driver_id");
  check(json_is_string(id) && record.driver_id == json_string_value(id), "driver_id survives");
  check(json_is_number(json_object_get(parsed.get(), "latitude")), "latitude is a number");
  check(json_is_string(json_object_get(parsed.get(), "timestamp")), "timestamp is a string");

  const ParseResult again = extract_report_location(text, kNow);
  check(again.ok() && again.records.size() == 1, "a record is a raw-report location");
  const LocationRecord& back = again.records.front();
  check(back.driver_id == record.driver_id, "driver_id round-trips");
  check(back.timestamp_ms == record.timestamp_ms, "timestamp round-trips");
  check(close(back.latitude, record.latitude) && close(back.longitude, record.longitude),
        "coordinates round-trip");
  check(back.order_id == record.order_id, "order_id round-trips");
  check(back.speed_kmh.has_value() == record.speed_kmh.has_value(), "speed presence round-trips");
}

void check_result(const ParseResult& result) {
  switch (result.status) {
    case ParseStatus::kOk:
      check(result.error.empty(), "no error with records");
      for (const LocationRecord& record : result.records) {
        check(!check_record(record).has_value(), "every record passes check_record");
        check(std::isfinite(record.latitude) && std::fabs(record.latitude) <= 90, "latitude");
        check(std::isfinite(record.longitude) && std::fabs(record.longitude) <= 180, "longitude");
        check(!record.driver_id.empty(), "driver id");
        check(record.timestamp_ms <= kNow + kMaxFutureSkewMs, "timestamp not in the far future");
        check_json_round_trip(record);
      }
      break;
    case ParseStatus::kInvalid:
      check(!result.error.empty(), "an invalid result says why");
      check(result.records.empty(), "no records with an error");
      break;
    case ParseStatus::kNotALocation:
      check(result.error.empty() && result.records.empty(), "not-a-location is empty");
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view head = input.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  const ParseResult driver = parse_driver_location(head, body, kNow);
  check_result(driver);
  check(driver.status != ParseStatus::kNotALocation, "the driver endpoint always decides");
  check(!driver.ok() || driver.records.size() == 1, "the driver endpoint gives one record");

  const ParseResult osmand = parse_osmand_params(input, kNow);
  check_result(osmand);
  check(!osmand.ok() || osmand.records.size() == 1, "OsmAnd parameters give one record");

  check_result(parse_osmand_request(head, body, kNow));
  check_result(parse_traccar_json(input, kNow));
  check_result(parse_owntracks(body, head, kNow));
  check_result(parse_owntracks(input, {}, kNow));
  check_result(extract_report_location(input, kNow));

  if (const auto decoded = percent_decode(input, true)) {
    check(decoded->size() <= input.size(), "decoding never grows the text");
  }
  (void)parse_timestamp_text(input);
  if (size >= 8) {
    std::int64_t ms = 0;
    std::memcpy(&ms, data, sizeof ms);
    check(!format_iso8601_utc(ms).empty(), "any int64 formats");
  }
  return 0;
}
