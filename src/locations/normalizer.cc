// Parsing of the device formats into LocationRecords. The formats differ
// in names, units and where the device id lives; the checks do not, so
// each format only maps its fields onto one RecordBuilder, which owns every
// range check and every error message.
#include "locations/normalizer.h"

#include <jansson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

#include "core/json_handle.h"

namespace gpsrelay::locations {
namespace {

using core::JsonPtr;

constexpr double kKmhPerKnot = 1.852;
constexpr double kKmhPerMetrePerSecond = 3.6;
// Unix times below this are seconds, above it milliseconds: 1e11 s is the
// year 5138, 1e11 ms is 1973, both outside what we accept anyway.
constexpr double kSecondsBelow = 1e11;

// ---- Text scanning ---------------------------------------------------------

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

// A whole string that is one finite decimal number ("12", "-3.5", "1e3",
// "+4" as Java's parseDouble allows); nothing else, no blanks, no "nan".
std::optional<double> parse_number_text(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.front() == '+') return std::nullopt;
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ---- Time ------------------------------------------------------------------

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic
// Gregorian date. Our years are four digits, so int64 never overflows.
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

unsigned days_in_month(std::int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Reads exactly `count` digits at `pos`.
bool read_digits(std::string_view text, std::size_t& pos, std::size_t count, unsigned& out) {
  if (text.size() - pos < count) return false;
  out = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  pos += count;
  return true;
}

bool consume(std::string_view text, std::size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

std::optional<std::int64_t> parse_iso8601(std::string_view text) {
  std::size_t pos = 0;
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, pos, 4, year) || !consume(text, pos, '-') ||
      !read_digits(text, pos, 2, month) || !consume(text, pos, '-') ||
      !read_digits(text, pos, 2, day)) {
    return std::nullopt;
  }
  if (!(consume(text, pos, 'T') || consume(text, pos, 't') || consume(text, pos, ' '))) {
    return std::nullopt;
  }
  if (!read_digits(text, pos, 2, hour) || !consume(text, pos, ':') ||
      !read_digits(text, pos, 2, minute)) {
    return std::nullopt;
  }
  unsigned millis = 0;
  if (consume(text, pos, ':')) {
    if (!read_digits(text, pos, 2, second)) return std::nullopt;
    if (consume(text, pos, '.') || consume(text, pos, ',')) {
      // Any number of fraction digits; milliseconds keep the first three.
      std::size_t digits = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (digits < 3) millis = millis * 10 + static_cast<unsigned>(text[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (; digits < 3; ++digits) millis *= 10;
    }
  }
  std::int64_t offset_minutes = 0;
  if (consume(text, pos, 'Z') || consume(text, pos, 'z')) {
    // UTC
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const bool west = text[pos] == '-';
    ++pos;
    unsigned offset_hour = 0, offset_minute = 0;
    if (!read_digits(text, pos, 2, offset_hour)) return std::nullopt;
    if (pos < text.size()) {
      consume(text, pos, ':');
      if (!read_digits(text, pos, 2, offset_minute)) return std::nullopt;
    }
    if (offset_hour > 23 || offset_minute > 59) return std::nullopt;
    offset_minutes = (west ? -1 : 1) * static_cast<std::int64_t>(offset_hour * 60 + offset_minute);
  }
  if (pos != text.size()) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  const std::int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 +
                               minute * 60 + second - offset_minutes * 60;
  return seconds * 1000 + millis;
}

// Any finite number is a time: the caller's range check refuses the absurd
// ones. Values beyond the int64 range become its limits, which fail it.
std::int64_t unix_number_to_ms(double value) {
  const double ms = std::fabs(value) < kSecondsBelow ? value * 1000 : value;
  if (ms >= 9e18) return INT64_MAX;
  if (ms <= -9e18) return INT64_MIN;
  return std::llround(ms);
}

// ---- Values as a device sent them -----------------------------------------

// One field as it arrived: absent, a JSON number, text (a JSON string or a
// form parameter), or some other JSON value (object, array, bool).
struct Wire {
  enum class Kind : std::uint8_t { kAbsent, kNumber, kText, kOther };
  Kind kind = Kind::kAbsent;
  double number = 0;
  std::optional<std::int64_t> integer;  // a JSON integer, for ids
  std::string_view text;                // kText; valid while its source is
};

Wire wire_from_json(const json_t* value) {
  Wire wire;
  if (value == nullptr || json_is_null(value)) return wire;
  if (json_is_integer(value)) {
    wire.kind = Wire::Kind::kNumber;
    wire.integer = json_integer_value(value);
    wire.number = static_cast<double>(*wire.integer);
  } else if (json_is_real(value)) {
    wire.kind = Wire::Kind::kNumber;
    wire.number = json_real_value(value);
  } else if (json_is_string(value)) {
    wire.kind = Wire::Kind::kText;
    wire.text = std::string_view(json_string_value(value), json_string_length(value));
  } else {
    wire.kind = Wire::Kind::kOther;
  }
  return wire;
}

Wire json_field(const json_t* object, const char* key) {
  return wire_from_json(json_object_get(object, key));
}

// The first of `keys` that `object` has.
Wire json_field_any(const json_t* object, std::initializer_list<const char*> keys,
                    const char** found = nullptr) {
  for (const char* key : keys) {
    const Wire wire = json_field(object, key);
    if (wire.kind != Wire::Kind::kAbsent) {
      if (found != nullptr) *found = key;
      return wire;
    }
  }
  if (found != nullptr) *found = *keys.begin();
  return {};
}

// ---- The one place that checks values and words errors --------------------

// What a negative value means for an optional field: our own API refuses
// it; device protocols use it for "unknown" (CoreLocation's -1).
enum class Negative : std::uint8_t { kRefuse, kUnknown };

std::string format_bound(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

class RecordBuilder {
 public:
  RecordBuilder(std::int64_t now_ms, std::string prefix)
      : now_ms_(now_ms), prefix_(std::move(prefix)) {
    record_.timestamp_ms = now_ms;
  }

  const std::string& error() const { return error_; }
  LocationRecord take() { return std::move(record_); }

  bool driver_id(const Wire& wire, std::string_view field) {
    if (wire.kind == Wire::Kind::kAbsent) return fail(field, " is required");
    const std::optional<std::string> id = id_text(wire);
    if (!id) return fail(field, kIdRule);
    record_.driver_id = *id;
    return true;
  }

  // An id already taken out of its container (path, header, topic).
  bool driver_id_text(std::string_view id, std::string_view field) {
    if (!is_valid_id(id)) return fail(field, kIdRule);
    record_.driver_id = std::string(id);
    return true;
  }

  bool order_id(const Wire& wire, std::string_view field) {
    if (wire.kind == Wire::Kind::kAbsent) return true;
    const std::optional<std::string> id = id_text(wire);
    if (!id) return fail(field, kIdRule);
    record_.order_id = *id;
    return true;
  }

  bool latitude(const Wire& wire, std::string_view field) {
    return coordinate(wire, field, 90, record_.latitude);
  }
  bool longitude(const Wire& wire, std::string_view field) {
    return coordinate(wire, field, 180, record_.longitude);
  }

  bool timestamp(const Wire& wire, std::string_view field) {
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

  // `kmh_per_unit` converts the device's speed unit to km/h.
  bool speed(const Wire& wire, std::string_view field, double kmh_per_unit, const char* unit,
             Negative negative) {
    return optional_number(wire, field, 0, kMaxSpeedKmh, kmh_per_unit, unit, negative,
                           record_.speed_kmh);
  }
  bool heading(const Wire& wire, std::string_view field, Negative negative) {
    return optional_number(wire, field, 0, 360, 1, "", negative, record_.heading_deg);
  }
  bool accuracy(const Wire& wire, std::string_view field, Negative negative) {
    return optional_number(wire, field, 0, kMaxAccuracyM, 1, "", negative, record_.accuracy_m);
  }
  bool altitude(const Wire& wire, std::string_view field) {
    return optional_number(wire, field, -kMaxAbsAltitudeM, kMaxAbsAltitudeM, 1, "",
                           Negative::kRefuse, record_.altitude_m);
  }
  // `percent_per_unit`: 1 for percent, 100 for Traccar's 0-1 level.
  bool battery(const Wire& wire, std::string_view field, double percent_per_unit,
               Negative negative) {
    return optional_number(wire, field, 0, 100, percent_per_unit, "", negative,
                           record_.battery_percent);
  }

 private:
  static constexpr const char* kIdRule = " must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~";

  static std::optional<double> number(const Wire& wire) {
    if (wire.kind == Wire::Kind::kNumber) {
      if (std::isfinite(wire.number)) return wire.number;
      return std::nullopt;
    }
    if (wire.kind == Wire::Kind::kText) return parse_number_text(wire.text);
    return std::nullopt;
  }

  static std::optional<std::string> id_text(const Wire& wire) {
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

  bool coordinate(const Wire& wire, std::string_view field, double limit, double& out) {
    if (wire.kind == Wire::Kind::kAbsent) return fail(field, " is required");
    const std::optional<double> value = number(wire);
    if (!value || *value < -limit || *value > limit) {
      return fail(field, " must be a number between -" + format_bound(limit) + " and " +
                             format_bound(limit));
    }
    out = *value;
    return true;
  }

  // `low` and `high` bound the record's value; the device's value is
  // checked against them divided by `factor` (its unit), and the message
  // gives the bounds in the device's unit so its author can act on it.
  bool optional_number(const Wire& wire, std::string_view field, double low, double high,
                       double factor, const char* unit, Negative negative,
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

  bool fail(std::string_view field, std::string_view what) {
    error_ = prefix_;
    error_.append(field);
    error_.append(what);
    return false;
  }

  std::int64_t now_ms_;
  std::string prefix_;
  LocationRecord record_;
  std::string error_;
};

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

// What one JSON object of a batch gave.
struct Item {
  enum class Kind : std::uint8_t { kRecord, kSkip, kError };
  Kind kind = Kind::kSkip;
  LocationRecord record;
  std::string error;
};

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

// Parses a JSON body; on failure `error` says where, without echoing the
// device's bytes (jansson's text quotes the offending token).
JsonPtr load_json(std::string_view body, std::string& error) {
  json_error_t json_error;
  JsonPtr root(json_loadb(body.data(), body.size(), JSON_REJECT_DUPLICATES, &json_error));
  if (!root) {
    error = "body is not valid JSON (line " + std::to_string(json_error.line) + ", column " +
            std::to_string(json_error.column) + ")";
  }
  return root;
}

// ---- Traccar Client JSON ---------------------------------------------------

// One element of "location": an object with "coords".
Item traccar_location(const json_t* location, const Wire& device_id, std::int64_t now_ms,
                      const std::string& prefix) {
  RecordBuilder b(now_ms, prefix);
  if (!b.driver_id(device_id, "device_id")) return item_from(b, false);
  if (!json_is_object(location)) return item_error(prefix + "location must be an object");
  const json_t* coords = json_object_get(location, "coords");
  if (!json_is_object(coords)) return item_error(prefix + "location.coords must be an object");
  const json_t* battery = json_object_get(location, "battery");
  const bool ok =
      b.latitude(json_field(coords, "latitude"), "location.coords.latitude") &&
      b.longitude(json_field(coords, "longitude"), "location.coords.longitude") &&
      b.timestamp(json_field(location, "timestamp"), "location.timestamp") &&
      b.speed(json_field(coords, "speed"), "location.coords.speed", kKmhPerMetrePerSecond, " m/s",
              Negative::kUnknown) &&
      b.heading(json_field(coords, "heading"), "location.coords.heading", Negative::kUnknown) &&
      b.accuracy(json_field(coords, "accuracy"), "location.coords.accuracy", Negative::kUnknown) &&
      b.altitude(json_field(coords, "altitude"), "location.coords.altitude") &&
      b.battery(json_is_object(battery) ? json_field(battery, "level") : Wire{},
                "location.battery.level", 100, Negative::kUnknown);
  return item_from(b, ok);
}

// One Traccar Client object: {"device_id", "location": object or array}.
// Appends to `out`; false with `error` set on the first bad element.
bool traccar_object(const json_t* object, std::int64_t now_ms, const std::string& prefix,
                    std::vector<LocationRecord>& out, std::string& error) {
  if (!json_is_object(object)) {
    error = prefix + "must be a JSON object";
    return false;
  }
  const Wire device_id = json_field(object, "device_id");
  const json_t* location = json_object_get(object, "location");
  if (location == nullptr) {
    error = prefix + "location is required";
    return false;
  }
  if (!json_is_array(location)) {
    Item item = traccar_location(location, device_id, now_ms, prefix);
    if (item.kind != Item::Kind::kRecord) {
      error = std::move(item.error);
      return false;
    }
    out.push_back(std::move(item.record));
    return true;
  }
  for (std::size_t i = 0; i < json_array_size(location); ++i) {
    Item item = traccar_location(json_array_get(location, i), device_id, now_ms,
                                 prefix + "location[" + std::to_string(i) + "]: ");
    if (item.kind != Item::Kind::kRecord) {
      error = std::move(item.error);
      return false;
    }
    out.push_back(std::move(item.record));
  }
  return true;
}

// ---- OwnTracks --------------------------------------------------------------

// The device name: X-Limit-D when sent, else the topic's last segment
// (owntracks/user/device; Android sends both, iOS only the topic).
Item owntracks_message(const json_t* message, std::string_view device_header, std::int64_t now_ms,
                       const std::string& prefix) {
  if (!json_is_object(message)) return item_error(prefix + "must be a JSON object");
  const Wire type = json_field(message, "_type");
  if (type.kind != Wire::Kind::kText) return item_error(prefix + "_type must be a string");
  if (type.text != "location") return {};  // transition, waypoint, lwt, encrypted, ...
  RecordBuilder b(now_ms, prefix);
  bool ok = false;
  if (!device_header.empty()) {
    ok = b.driver_id_text(device_header, "X-Limit-D");
  } else {
    const Wire topic = json_field(message, "topic");
    if (topic.kind != Wire::Kind::kText) {
      return item_error(prefix + "topic is required when there is no X-Limit-D header");
    }
    const std::size_t slash = topic.text.rfind('/');
    ok = b.driver_id_text(
        slash == std::string_view::npos ? topic.text : topic.text.substr(slash + 1), "topic");
  }
  ok = ok && b.latitude(json_field(message, "lat"), "lat") &&
       b.longitude(json_field(message, "lon"), "lon") &&
       b.timestamp(json_field(message, "tst"), "tst") &&
       b.speed(json_field(message, "vel"), "vel", 1, " km/h", Negative::kUnknown) &&
       b.heading(json_field(message, "cog"), "cog", Negative::kUnknown) &&
       b.accuracy(json_field(message, "acc"), "acc", Negative::kUnknown) &&
       b.altitude(json_field(message, "alt"), "alt") &&
       b.battery(json_field(message, "batt"), "batt", 1, Negative::kUnknown);
  return item_from(b, ok);
}

// ---- Flat keys of a raw report ---------------------------------------------

bool has_coordinates(const json_t* object) {
  for (const char* key : {"lat", "latitude", "lon", "lng", "longitude"}) {
    if (json_object_get(object, key) != nullptr) return true;
  }
  return false;
}

Item flat_report(const json_t* object, std::int64_t now_ms, const std::string& prefix) {
  RecordBuilder b(now_ms, prefix);
  const char* name = nullptr;
  bool ok = true;
  const Wire id = json_field_any(object, {"device_id", "driver_id", "id"}, &name);
  ok = ok && b.driver_id(id, name);
  const Wire lat = json_field_any(object, {"lat", "latitude"}, &name);
  ok = ok && b.latitude(lat, name);
  const Wire lon = json_field_any(object, {"lon", "lng", "longitude"}, &name);
  ok = ok && b.longitude(lon, name);
  const Wire ts = json_field_any(object, {"ts", "timestamp"}, &name);
  ok = ok && b.timestamp(ts, name);
  const Wire speed = json_field(object, "speed");
  ok = ok && b.speed(speed, "speed", 1, " km/h", Negative::kUnknown);
  const Wire heading = json_field_any(object, {"heading", "bearing", "course"}, &name);
  ok = ok && b.heading(heading, name, Negative::kUnknown);
  ok = ok && b.accuracy(json_field(object, "accuracy"), "accuracy", Negative::kUnknown);
  ok = ok && b.altitude(json_field(object, "altitude"), "altitude");
  ok = ok && b.order_id(json_field(object, "order_id"), "order_id");
  const Wire battery = json_field_any(object, {"battery", "batt"}, &name);
  ok = ok && b.battery(battery, name, 1, Negative::kUnknown);
  return item_from(b, ok);
}

// One object of a raw report, by shape: appends what it holds to `out`;
// false with `error` set when a shape matched but a value is wrong.
bool report_object(const json_t* object, std::int64_t now_ms, const std::string& prefix,
                   std::vector<LocationRecord>& out, std::string& error) {
  if (!json_is_object(object)) return true;
  const Wire type = json_field(object, "_type");
  if (type.kind == Wire::Kind::kText) {
    Item item = owntracks_message(object, {}, now_ms, prefix);
    if (item.kind == Item::Kind::kError) error = std::move(item.error);
    if (item.kind == Item::Kind::kRecord) out.push_back(std::move(item.record));
    return item.kind != Item::Kind::kError;
  }
  const json_t* location = json_object_get(object, "location");
  if (json_is_array(location) ||
      (json_is_object(location) && json_object_get(location, "coords") != nullptr)) {
    return traccar_object(object, now_ms, prefix, out, error);
  }
  if (!has_coordinates(object)) return true;
  Item item = flat_report(object, now_ms, prefix);
  if (item.kind == Item::Kind::kError) {
    error = std::move(item.error);
    return false;
  }
  out.push_back(std::move(item.record));
  return true;
}

// ---- OsmAnd parameters -----------------------------------------------------

using Params = std::vector<std::pair<std::string, std::string>>;

std::optional<Params> split_params(std::string_view text) {
  Params params;
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    std::optional<std::string> key = percent_decode(pair.substr(0, eq), true);
    std::optional<std::string> value = percent_decode(
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    params.emplace_back(std::move(*key), std::move(*value));
  }
  return params;
}

// The last value of `key`; an empty value counts as absent, as OsmAnd's
// URL template leaves a placeholder empty when it has no value.
Wire param(const Params& params, std::string_view key) {
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (it->first == key) {
      Wire wire;
      if (!it->second.empty()) {
        wire.kind = Wire::Kind::kText;
        wire.text = it->second;
      }
      return wire;
    }
  }
  return {};
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (text.size() - i < 3) return std::nullopt;
      const int high = hex_digit(text[i + 1]);
      const int low = hex_digit(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::int64_t> parse_timestamp_text(std::string_view text) {
  if (const std::optional<double> number = parse_number_text(text)) {
    return unix_number_to_ms(*number);
  }
  return parse_iso8601(text);
}

ParseResult parse_driver_location(std::string_view driver_id, std::string_view body,
                                  std::int64_t now_ms) {
  RecordBuilder b(now_ms, "");
  const std::optional<std::string> id = percent_decode(driver_id, false);
  if (!b.driver_id_text(id ? std::string_view(*id) : std::string_view(), "driver_id")) {
    return invalid(b.error());
  }
  std::string error;
  const JsonPtr root = load_json(body, error);
  if (!root) return invalid(error);
  const json_t* o = root.get();
  if (!json_is_object(o)) return invalid("body must be a JSON object");
  const bool ok = b.latitude(json_field(o, "latitude"), "latitude") &&
                  b.longitude(json_field(o, "longitude"), "longitude") &&
                  b.timestamp(json_field(o, "timestamp"), "timestamp") &&
                  b.speed(json_field(o, "speed"), "speed", 1, " km/h", Negative::kRefuse) &&
                  b.heading(json_field(o, "heading"), "heading", Negative::kRefuse) &&
                  b.accuracy(json_field(o, "accuracy"), "accuracy", Negative::kRefuse) &&
                  b.altitude(json_field(o, "altitude"), "altitude") &&
                  b.order_id(json_field(o, "order_id"), "order_id") &&
                  b.battery(json_field(o, "battery"), "battery", 1, Negative::kRefuse);
  if (!ok) return invalid(b.error());
  return records({b.take()});
}

ParseResult parse_osmand_params(std::string_view text, std::int64_t now_ms) {
  const std::optional<Params> params = split_params(text);
  if (!params) return invalid("parameters are not valid percent-encoding");
  RecordBuilder b(now_ms, "");
  Wire id = param(*params, "id");
  const char* id_name = "id";
  if (id.kind == Wire::Kind::kAbsent) {
    id = param(*params, "deviceid");
    if (id.kind != Wire::Kind::kAbsent) id_name = "deviceid";
  }
  if (!b.driver_id(id, id_name)) return invalid(b.error());
  Wire lat = param(*params, "lat");
  Wire lon = param(*params, "lon");
  const char* lat_name = "lat";
  const char* lon_name = "lon";
  const Wire location = param(*params, "location");
  if (lat.kind == Wire::Kind::kAbsent && lon.kind == Wire::Kind::kAbsent &&
      location.kind == Wire::Kind::kText) {
    // Traccar's extension: location=lat,lon.
    const std::size_t comma = location.text.find(',');
    if (comma == std::string_view::npos) return invalid("location must be lat,lon");
    lat.kind = lon.kind = Wire::Kind::kText;
    lat.text = location.text.substr(0, comma);
    lon.text = location.text.substr(comma + 1);
    lat_name = lon_name = "location";
  }
  if (lat.kind == Wire::Kind::kAbsent && lon.kind == Wire::Kind::kAbsent) {
    return not_a_location();  // a heartbeat or a cell/wifi-only report
  }
  Wire accuracy = param(*params, "accuracy");
  const char* accuracy_name = "accuracy";
  if (accuracy.kind == Wire::Kind::kAbsent) {
    accuracy = param(*params, "hdop");
    accuracy_name = "hdop";
  }
  Wire heading = param(*params, "bearing");
  const char* heading_name = "bearing";
  if (heading.kind == Wire::Kind::kAbsent) {
    heading = param(*params, "heading");
    heading_name = "heading";
  }
  const bool ok =
      b.latitude(lat, lat_name) && b.longitude(lon, lon_name) &&
      b.timestamp(param(*params, "timestamp"), "timestamp") &&
      b.speed(param(*params, "speed"), "speed", kKmhPerKnot, " knots", Negative::kUnknown) &&
      b.heading(heading, heading_name, Negative::kUnknown) &&
      b.accuracy(accuracy, accuracy_name, Negative::kUnknown) &&
      b.altitude(param(*params, "altitude"), "altitude") &&
      b.battery(param(*params, "batt"), "batt", 1, Negative::kUnknown);
  if (!ok) return invalid(b.error());
  return records({b.take()});
}

ParseResult parse_traccar_json(std::string_view body, std::int64_t now_ms) {
  std::string error;
  const JsonPtr root = load_json(body, error);
  if (!root) return invalid(error);
  std::vector<LocationRecord> found;
  if (json_is_array(root.get())) {
    for (std::size_t i = 0; i < json_array_size(root.get()); ++i) {
      if (!traccar_object(json_array_get(root.get(), i), now_ms, element_prefix(i), found, error)) {
        return invalid(error);
      }
    }
  } else if (!traccar_object(root.get(), now_ms, "", found, error)) {
    return invalid(error);
  }
  return records(std::move(found));
}

ParseResult parse_osmand_request(std::string_view query, std::string_view body,
                                 std::int64_t now_ms) {
  if (!query.empty()) return parse_osmand_params(query, now_ms);
  const std::string_view trimmed = trim(body);
  if (!trimmed.empty() && (trimmed.front() == '{' || trimmed.front() == '[')) {
    return parse_traccar_json(body, now_ms);
  }
  return parse_osmand_params(trimmed, now_ms);
}

ParseResult parse_owntracks(std::string_view body, std::string_view device_header,
                            std::int64_t now_ms) {
  // The apps POST an empty body when a friend is deleted (OwnTracks
  // booklet, "HTTP"); the booklet asks endpoints to ignore it.
  if (trim(body).empty()) return records({});
  std::string error;
  const JsonPtr root = load_json(body, error);
  if (!root) return invalid(error);
  std::vector<LocationRecord> found;
  const bool batch = json_is_array(root.get());
  const std::size_t count = batch ? json_array_size(root.get()) : 1;
  for (std::size_t i = 0; i < count; ++i) {
    const json_t* message = batch ? json_array_get(root.get(), i) : root.get();
    Item item = owntracks_message(message, device_header, now_ms, batch ? element_prefix(i) : "");
    if (item.kind == Item::Kind::kError) return invalid(std::move(item.error));
    if (item.kind == Item::Kind::kRecord) found.push_back(std::move(item.record));
  }
  return records(std::move(found));
}

ParseResult extract_report_location(std::string_view body, std::int64_t now_ms) {
  std::string error;
  const JsonPtr root = load_json(body, error);
  if (!root) return not_a_location();
  std::vector<LocationRecord> found;
  const bool batch = json_is_array(root.get());
  const std::size_t count = batch ? json_array_size(root.get()) : 1;
  for (std::size_t i = 0; i < count; ++i) {
    const json_t* object = batch ? json_array_get(root.get(), i) : root.get();
    if (!report_object(object, now_ms, batch ? element_prefix(i) : "", found, error)) {
      return invalid(std::move(error));
    }
  }
  if (found.empty()) return not_a_location();
  return records(std::move(found));
}

}  // namespace gpsrelay::locations
