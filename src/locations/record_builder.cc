// Value checks and error wording for every location format (see
// record_builder.h).
#include "locations/record_builder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "locations/text_scan.h"
#include "locations/timestamp.h"

namespace gpsrelay::locations::normalizer_internal {
namespace {

constexpr const char* kIdRule = " must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~";

std::string format_bound(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::optional<double> number(const Wire& wire) {
  if (wire.kind == Wire::Kind::kNumber) {
    if (std::isfinite(wire.number)) return wire.number;
    return std::nullopt;
  }
  if (wire.kind == Wire::Kind::kText) return parse_number_text(wire.text);
  return std::nullopt;
}

std::optional<std::string> id_text(const Wire& wire) {
  std::string id;
  if (wire.kind == Wire::Kind::kText) {
    id = std::string(wire.text);
  } else if (wire.kind == Wire::Kind::kNumber && wire.integer) {
    id = std::to_string(*wire.integer);
  } else {
    return std::nullopt;
  }
  if (!is_valid_id(id)) return std::nullopt;
  return id;
}

}  // namespace

RecordBuilder::RecordBuilder(std::int64_t now_ms, std::string prefix)
    : now_ms_(now_ms), prefix_(std::move(prefix)) {
  record_.timestamp_ms = now_ms;
}

bool RecordBuilder::driver_id(const Wire& wire, std::string_view field) {
  if (wire.kind == Wire::Kind::kAbsent) return fail(field, " is required");
  const std::optional<std::string> id = id_text(wire);
  if (!id) return fail(field, kIdRule);
  record_.driver_id = *id;
  return true;
}

bool RecordBuilder::driver_id_text(std::string_view id, std::string_view field) {
  if (!is_valid_id(id)) return fail(field, kIdRule);
  record_.driver_id = std::string(id);
  return true;
}

bool RecordBuilder::order_id(const Wire& wire, std::string_view field) {
  if (wire.kind == Wire::Kind::kAbsent) return true;
  const std::optional<std::string> id = id_text(wire);
  if (!id) return fail(field, kIdRule);
  record_.order_id = *id;
  return true;
}

bool RecordBuilder::latitude(const Wire& wire, std::string_view field) {
  return coordinate(wire, field, 90, record_.latitude);
}
bool RecordBuilder::longitude(const Wire& wire, std::string_view field) {
  return coordinate(wire, field, 180, record_.longitude);
}

bool RecordBuilder::timestamp(const Wire& wire, std::string_view field) {
  std::optional<std::int64_t> ms;
  if (wire.kind == Wire::Kind::kAbsent) return true;
  if (wire.kind == Wire::Kind::kNumber) {
    if (std::isfinite(wire.number)) ms = unix_number_to_ms(wire.number);
  } else if (wire.kind == Wire::Kind::kText) {
    ms = parse_timestamp_text(wire.text);
  }
  if (!ms) return fail(field, " must be ISO 8601 or Unix seconds or milliseconds");
  if (*ms < kMinTimestampMs || *ms - kMaxFutureSkewMs > now_ms_) {
    return fail(field, " must be between 2000-01-01 and one day after the server's time");
  }
  record_.timestamp_ms = *ms;
  return true;
}

bool RecordBuilder::speed(const Wire& wire, std::string_view field, double kmh_per_unit,
                          const char* unit, Negative negative) {
  return optional_number(wire, field, 0, kMaxSpeedKmh, kmh_per_unit, unit, negative,
                         record_.speed_kmh);
}
bool RecordBuilder::heading(const Wire& wire, std::string_view field, Negative negative) {
  return optional_number(wire, field, 0, 360, 1, "", negative, record_.heading_deg);
}
bool RecordBuilder::accuracy(const Wire& wire, std::string_view field, Negative negative) {
  return optional_number(wire, field, 0, kMaxAccuracyM, 1, "", negative, record_.accuracy_m);
}
bool RecordBuilder::altitude(const Wire& wire, std::string_view field) {
  return optional_number(wire, field, -kMaxAbsAltitudeM, kMaxAbsAltitudeM, 1, "", Negative::kRefuse,
                         record_.altitude_m);
}
bool RecordBuilder::battery(const Wire& wire, std::string_view field, double percent_per_unit,
                            Negative negative) {
  return optional_number(wire, field, 0, 100, percent_per_unit, "", negative,
                         record_.battery_percent);
}

bool RecordBuilder::coordinate(const Wire& wire, std::string_view field, double limit,
                               double& out) {
  if (wire.kind == Wire::Kind::kAbsent) return fail(field, " is required");
  const std::optional<double> value = number(wire);
  if (!value || *value < -limit || *value > limit) {
    return fail(
        field, " must be a number between -" + format_bound(limit) + " and " + format_bound(limit));
  }
  out = *value;
  return true;
}

// `low` and `high` bound the record's value; the device's value is
// checked against them divided by `factor` (its unit), and the message
// gives the bounds in the device's unit so its author can act on it.
bool RecordBuilder::optional_number(const Wire& wire, std::string_view field, double low,
                                    double high, double factor, const char* unit, Negative negative,
                                    std::optional<double>& out) {
  if (wire.kind == Wire::Kind::kAbsent) return true;
  const std::optional<double> value = number(wire);
  if (value && *value < 0 && low == 0 && negative == Negative::kUnknown) return true;
  if (!value || *value < low / factor || *value > high / factor) {
    return fail(field, " must be a number between " + format_bound(low / factor) + " and " +
                           format_bound(high / factor) + unit);
  }
  // Rounding in the conversion must not push a value past the bound.
  out = std::clamp(*value * factor, low, high);
  return true;
}

bool RecordBuilder::fail(std::string_view field, std::string_view what) {
  error_ = prefix_;
  error_.append(field);
  error_.append(what);
  return false;
}

// ---- Results ---------------------------------------------------------------

ParseResult invalid(std::string error) {
  ParseResult result;
  result.status = ParseStatus::kInvalid;
  result.error = std::move(error);
  return result;
}

ParseResult not_a_location() { return ParseResult{}; }

ParseResult records(std::vector<LocationRecord> found) {
  ParseResult result;
  result.status = ParseStatus::kOk;
  result.records = std::move(found);
  return result;
}

std::string element_prefix(std::size_t index) { return "element " + std::to_string(index) + ": "; }

Item item_from(RecordBuilder& builder, bool ok) {
  Item item;
  if (ok) {
    item.kind = Item::Kind::kRecord;
    item.record = builder.take();
  } else {
    item.kind = Item::Kind::kError;
    item.error = builder.error();
  }
  return item;
}

Item item_error(std::string error) {
  Item item;
  item.kind = Item::Kind::kError;
  item.error = std::move(error);
  return item;
}

}  // namespace gpsrelay::locations::normalizer_internal
