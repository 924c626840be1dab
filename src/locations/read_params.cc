// Query parameters of the location reads: nearby and route (see
// read_params.h). Only parses; which drivers are near and which points a
// range holds is for the Redis and MySQL readers.
#include "locations/read_params.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>

#include "core/units.h"
#include "locations/normalizer.h"
#include "locations/text_scan.h"

namespace gpsrelay::locations {
namespace {

using normalizer_internal::parse_number_text;

// A parameter's last occurrence, still percent-encoded.
struct RawParam {
  std::string_view name;  // the spelling that came last, or the first name asked for
  std::string_view raw;   // empty when absent or given empty
  bool present() const { return !raw.empty(); }
};

// The last pair whose decoded name is one of `names`. Names are decoded so
// that "l%61t" is lat, as any form decoder would have it; a pair whose
// name does not decode is skipped like any unknown parameter.
RawParam last_param(std::string_view query, std::initializer_list<std::string_view> names) {
  RawParam found{*names.begin(), {}};
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    const std::optional<std::string> name = percent_decode(pair.substr(0, eq), true);
    if (!name) continue;
    for (const std::string_view wanted : names) {
      if (*name == wanted) {
        found.name = wanted;
        found.raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      }
    }
  }
  return found;
}

std::string not_encoded(std::string_view name) {
  return std::string(name) + " is not valid percent-encoding";
}

// A required coordinate within +-limit; `error` names the parameter.
std::optional<double> coordinate(const RawParam& param, double limit, std::string_view required,
                                 std::string& error) {
  if (!param.present()) {
    error = std::string(required) + " is required";
    return std::nullopt;
  }
  const std::optional<std::string> text = percent_decode(param.raw, true);
  if (!text) {
    error = not_encoded(param.name);
    return std::nullopt;
  }
  const std::optional<double> value = parse_number_text(*text);
  if (!value || *value < -limit || *value > limit) {
    const std::string bound = std::to_string(static_cast<int>(limit));
    error = std::string(param.name) + " must be a number between -" + bound + " and " + bound;
    return std::nullopt;
  }
  return value;
}

// An optional count from 1 to `max`, plain digits only: "10.0" or "1e3" as
// a count is more likely a client bug than an intent.
std::optional<unsigned> count(const RawParam& param, unsigned fallback, unsigned max,
                              std::string& error) {
  if (!param.present()) return fallback;
  const std::optional<std::string> text = percent_decode(param.raw, true);
  if (!text) {
    error = not_encoded(param.name);
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const char* end = text->data() + text->size();
  const bool digits_only = !text->empty() && std::all_of(text->begin(), text->end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (!digits_only || ec != std::errc() || ptr != end || value < 1 || value > max) {
    error = std::string(param.name) + " must be an integer from 1 to " + std::to_string(max);
    return std::nullopt;
  }
  return static_cast<unsigned>(value);
}

// An optional timestamp. Clients often leave the '+' of an offset
// ("...T13:45:00+02:00") unencoded, which form decoding turns into a space;
// a space is only valid between date and time and '+' only in an offset
// or before a Unix number, so when the form reading does not parse, the
// literal reading is tried: no text parses both ways.
struct Timestamp {
  bool present = false;
  std::int64_t ms = 0;
};
std::optional<Timestamp> timestamp(const RawParam& param, std::string& error) {
  if (!param.present()) return Timestamp{};
  const std::optional<std::string> form = percent_decode(param.raw, true);
  if (!form) {
    error = not_encoded(param.name);
    return std::nullopt;
  }
  std::optional<std::int64_t> ms = parse_timestamp_text(*form);
  if (!ms) {
    if (const std::optional<std::string> literal = percent_decode(param.raw, false)) {
      ms = parse_timestamp_text(*literal);
    }
  }
  if (!ms) {
    error = std::string(param.name) + " must be ISO 8601 or Unix seconds or milliseconds";
    return std::nullopt;
  }
  return Timestamp{true, *ms};
}

template <class T>
ParamResult<T> failed(std::string error) {
  return {std::nullopt, std::move(error)};
}

}  // namespace

ParamResult<NearbyQuery> parse_nearby_query(std::string_view query, std::uint64_t max_radius_m) {
  std::string error;
  NearbyQuery out;
  const std::optional<double> latitude = coordinate(last_param(query, {"lat"}), 90, "lat", error);
  if (!latitude) return failed<NearbyQuery>(std::move(error));
  const std::optional<double> longitude =
      coordinate(last_param(query, {"lng", "lon"}), 180, "lng (or lon)", error);
  if (!longitude) return failed<NearbyQuery>(std::move(error));
  out.latitude = *latitude;
  out.longitude = *longitude;

  // max_radius_m as a double: exact for any configurable radius (below
  // 2^53 m, which is far beyond the Earth anyway).
  const auto max_radius = static_cast<double>(max_radius_m);
  out.radius_m = std::min(kDefaultNearbyRadiusM, max_radius);
  const RawParam radius = last_param(query, {"radius"});
  if (radius.present()) {
    const std::optional<std::string> text = percent_decode(radius.raw, true);
    if (!text) return failed<NearbyQuery>(not_encoded(radius.name));
    const std::optional<double> value = parse_number_text(*text);
    if (!value || !(*value > 0) || *value > max_radius) {
      return failed<NearbyQuery>("radius must be a number of metres above 0 and at most " +
                                 std::to_string(max_radius_m));
    }
    out.radius_m = *value;
  }

  const std::optional<unsigned> limit =
      count(last_param(query, {"limit"}), kDefaultNearbyLimit, kMaxNearbyLimit, error);
  if (!limit) return failed<NearbyQuery>(std::move(error));
  out.limit = *limit;
  return {out, {}};
}

ParamResult<RouteRange> parse_route_query(std::string_view query, std::int64_t now_ms,
                                          std::chrono::milliseconds max_range) {
  std::string error;
  const std::optional<Timestamp> start = timestamp(last_param(query, {"start_time"}), error);
  if (!start) return failed<RouteRange>(std::move(error));
  const std::optional<Timestamp> end = timestamp(last_param(query, {"end_time"}), error);
  if (!end) return failed<RouteRange>(std::move(error));

  RouteRange out;
  out.end_ms = end->present ? end->ms : now_ms;
  if (start->present) {
    out.start_ms = start->ms;
  } else {
    // Saturating: an end_time near the int64 minimum must not wrap.
    const std::int64_t span =
        std::max<std::int64_t>(std::min(kDefaultRouteSpan, max_range).count(), 0);
    out.start_ms = out.end_ms < std::numeric_limits<std::int64_t>::min() + span
                       ? std::numeric_limits<std::int64_t>::min()
                       : out.end_ms - span;
  }
  if (out.end_ms < out.start_ms) {
    return failed<RouteRange>(end->present ? "end_time must not be before start_time"
                                           : "start_time must not be after the server's time (the "
                                             "default end_time)");
  }
  // end >= start, so the difference fits an unsigned 64-bit count even
  // when the two are at opposite ends of the int64 range.
  const std::uint64_t span_ms =
      static_cast<std::uint64_t>(out.end_ms) - static_cast<std::uint64_t>(out.start_ms);
  if (span_ms > static_cast<std::uint64_t>(std::max<std::int64_t>(max_range.count(), 0))) {
    return failed<RouteRange>("start_time to end_time must span at most " +
                              core::format_duration(max_range));
  }

  const std::optional<unsigned> limit =
      count(last_param(query, {"limit"}), kDefaultRouteLimit, kMaxRouteLimit, error);
  if (!limit) return failed<RouteRange>(std::move(error));
  out.limit = *limit;

  const RawParam format = last_param(query, {"format"});
  if (format.present()) {
    const std::optional<std::string> text = percent_decode(format.raw, true);
    if (!text) return failed<RouteRange>(not_encoded(format.name));
    if (*text == "geojson") {
      out.geojson = true;
    } else if (*text != "json") {
      return failed<RouteRange>("format must be json or geojson");
    }
  }
  return {out, {}};
}

}  // namespace gpsrelay::locations
