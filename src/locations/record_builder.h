// The one place that checks location values and words their errors. The
// device formats differ in names, units and where the device id lives; the
// checks do not, so each format only maps its fields onto one
// RecordBuilder, which owns every range check and every error message
// about a value. Also here: the ParseResult and per-element Item helpers
// the formats return through.
//
// Internal to the location normaliser; nothing outside src/locations/
// includes it. It knows no format: field names arrive as the device spelt
// them, units as factors, and the meaning of a negative value as Negative.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "locations/location_record.h"
#include "locations/normalizer.h"
#include "locations/wire_value.h"

namespace gpsrelay::locations::normalizer_internal {

// What a negative value means for an optional field: our own API refuses
// it; device protocols use it for "unknown" (CoreLocation's -1).
enum class Negative : std::uint8_t { kRefuse, kUnknown };

// Builds one LocationRecord field by field. Each setter checks its value
// and returns false with error() set ("<prefix><field> must be ...") when
// it is wrong; chain them with && so the first bad field is the one named.
// The timestamp defaults to `now_ms`.
class RecordBuilder {
 public:
  // `prefix` starts every error, e.g. "element 2: " in a batch.
  RecordBuilder(std::int64_t now_ms, std::string prefix);

  const std::string& error() const { return error_; }
  // The record built so far; call once, after the setters succeeded.
  LocationRecord take() { return std::move(record_); }

  // Required; a string or a JSON integer following is_valid_id.
  bool driver_id(const Wire& wire, std::string_view field);
  // An id already taken out of its container (path, header, topic).
  bool driver_id_text(std::string_view id, std::string_view field);
  // Optional; same rule as the driver id.
  bool order_id(const Wire& wire, std::string_view field);

  // Required; |latitude| <= 90, |longitude| <= 180.
  bool latitude(const Wire& wire, std::string_view field);
  bool longitude(const Wire& wire, std::string_view field);

  // Optional; ISO 8601 or Unix s/ms, from 2000-01-01 to a day after now_ms.
  bool timestamp(const Wire& wire, std::string_view field);

  // Optional fields within location_record.h's bounds. `kmh_per_unit`
  // converts the device's speed unit (named by `unit`) to km/h.
  bool speed(const Wire& wire, std::string_view field, double kmh_per_unit, const char* unit,
             Negative negative);
  bool heading(const Wire& wire, std::string_view field, Negative negative);
  bool accuracy(const Wire& wire, std::string_view field, Negative negative);
  bool altitude(const Wire& wire, std::string_view field);
  // `percent_per_unit`: 1 for percent, 100 for Traccar's 0-1 level.
  bool battery(const Wire& wire, std::string_view field, double percent_per_unit,
               Negative negative);

 private:
  bool coordinate(const Wire& wire, std::string_view field, double limit, double& out);
  bool optional_number(const Wire& wire, std::string_view field, double low, double high,
                       double factor, const char* unit, Negative negative,
                       std::optional<double>& out);
  bool fail(std::string_view field, std::string_view what);

  std::int64_t now_ms_;
  std::string prefix_;
  LocationRecord record_;
  std::string error_;
};

// ---- Results ---------------------------------------------------------------

ParseResult invalid(std::string error);
ParseResult not_a_location();
ParseResult records(std::vector<LocationRecord> found);

// "element <index>: ", the error prefix of a batch's element.
std::string element_prefix(std::size_t index);

// What one JSON object of a batch gave.
struct Item {
  enum class Kind : std::uint8_t { kRecord, kSkip, kError };
  Kind kind = Kind::kSkip;
  LocationRecord record;
  std::string error;
};

// The builder's record when `ok`, else its error.
Item item_from(RecordBuilder& builder, bool ok);
Item item_error(std::string error);

}  // namespace gpsrelay::locations::normalizer_internal
