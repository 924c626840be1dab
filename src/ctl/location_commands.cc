// location and route: a driver's current location (Redis, the state the
// locations consumer group keeps) and its history (MySQL driver_locations),
// read the way the daemon's read API reads them (see commands.h). Read
// only: nothing here creates, changes or expires location state or history;
// the keys and the table belong to the daemon's locations module.
#include <mysqld_error.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "ctl/commands.h"
#include "ctl/failed_table.h"
#include "ctl/json_output.h"
#include "ctl/redis_session.h"
#include "ctl/table.h"
#include "ctl/time_spec.h"
#include "locations/location_record.h"
#include "locations/location_state.h"
#include "locations/read_json.h"
#include "store/history_schema.h"
#include "store/mysql_connection.h"

namespace gpsrelay::ctl {
namespace {

using locations::LocationRecord;

// As store/route_reader.cc reads a route: the time as Unix ms computed by
// the server, and the bare `time` column compared with constants, so the
// primary key range and partition pruning apply.
constexpr const char* kRouteSelect =
    "SELECT driver_id, TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', `time`) DIV 1000, "
    "order_id, latitude, longitude, speed, heading, accuracy, altitude "
    "FROM driver_locations WHERE driver_id = ? AND `time` BETWEEN ? AND ? "
    "ORDER BY `time` LIMIT ?";

// Appended to "nothing found" messages when the reason may be the config.
std::string disabled_hint(const core::Config& config) {
  return config.locations.enabled ? "" : " ([locations] is not enabled in this configuration)";
}

// "2026-11-25 08:26:40.123": format_utc with the milliseconds, which tell
// apart points of the same second.
std::string format_utc_ms(std::int64_t unix_ms) {
  const std::int64_t ms = ((unix_ms % 1000) + 1000) % 1000;
  std::string text = format_utc(unix_ms) + ".000";
  const std::string digits = std::to_string(ms);
  text.replace(text.size() - digits.size(), digits.size(), digits);
  return text;
}

// "1h 5m", "42s": a span for people, in its two largest units.
std::string format_span(std::int64_t ms) {
  std::int64_t seconds = std::max<std::int64_t>(ms, 0) / 1000;
  const std::int64_t days = seconds / 86400;
  const std::int64_t hours = seconds / 3600 % 24;
  const std::int64_t minutes = seconds / 60 % 60;
  seconds %= 60;
  if (days > 0) return std::to_string(days) + "d " + std::to_string(hours) + "h";
  if (hours > 0) return std::to_string(hours) + "h " + std::to_string(minutes) + "m";
  if (minutes > 0) return std::to_string(minutes) + "m " + std::to_string(seconds) + "s";
  return std::to_string(seconds) + "s";
}

std::string number_or_dash(const std::optional<double>& value, const char* unit = "") {
  return value ? locations::format_number(*value) + unit : "-";
}

// Prints records as one JSON array, each as to_json renders it (what the
// read API serves).
void print_records_json(std::ostream& out, const std::vector<LocationRecord>& records) {
  JsonPtr list(json_array());
  for (const LocationRecord& record : records) {
    const std::string text = locations::to_json(record);
    json_array_append_new(list.get(), json_loads(text.c_str(), 0, nullptr));
  }
  print_json(out, list);
}

// A SqlValue of a route row, in the types kRouteSelect gives. A column in
// another shape means the table is not the daemon's.
double real_at(const std::vector<store::SqlValue>& row, std::size_t i) {
  if (const auto* value = std::get_if<double>(&row.at(i))) return *value;
  throw Unavailable("driver_locations column " + std::to_string(i + 1) + " is not a DOUBLE");
}

std::optional<double> optional_real_at(const std::vector<store::SqlValue>& row, std::size_t i) {
  if (std::holds_alternative<std::monostate>(row.at(i))) return std::nullopt;
  return real_at(row, i);
}

LocationRecord record_of(const std::vector<store::SqlValue>& row) {
  LocationRecord record;
  const auto* driver = std::get_if<std::string>(&row.at(0));
  const auto* time_ms = std::get_if<std::int64_t>(&row.at(1));
  if (driver == nullptr || time_ms == nullptr) {
    throw Unavailable("driver_locations has unexpected driver_id or time columns");
  }
  record.driver_id = *driver;
  record.timestamp_ms = *time_ms;
  if (const auto* order = std::get_if<std::string>(&row.at(2))) record.order_id = *order;
  record.latitude = real_at(row, 3);
  record.longitude = real_at(row, 4);
  record.speed_kmh = optional_real_at(row, 5);
  record.heading_deg = optional_real_at(row, 6);
  record.accuracy_m = optional_real_at(row, 7);
  record.altitude_m = optional_real_at(row, 8);
  return record;
}

struct RouteRead {
  std::vector<LocationRecord> points;
  bool table_missing = false;  // driver_locations does not exist (yet)
};

RouteRead read_route(const core::MysqlConfig& config, const std::string& driver_id,
                     const RouteWindow& window, std::uint64_t limit) {
  store::MysqlConnection mysql = connect_mysql(config);
  // DATETIME(3) holds years 1000-9999; a TIME outside that (7000000d ago)
  // selects the same rows as the nearest time it can hold.
  const auto clamp = [](std::int64_t ms) {
    return std::clamp(ms, store::kMinHistoryTimeMs, store::kMaxHistoryTimeMs);
  };
  const std::string since = store::format_history_time(clamp(window.since_ms));
  const std::string until = store::format_history_time(clamp(window.until_ms));
  const auto max_rows = static_cast<std::int64_t>(
      std::min<std::uint64_t>(limit, std::numeric_limits<std::int64_t>::max()));
  RouteRead read;
  try {
    store::PreparedStatement select(mysql, kRouteSelect);
    for (const auto& row : select.query({driver_id, since, until, max_rows})) {
      if (row.size() != 9) throw Unavailable("driver_locations: unexpected column count");
      read.points.push_back(record_of(row));
    }
  } catch (const store::MysqlError& e) {
    // The daemon creates the table when history first connects: before
    // that there is no history, which is no error.
    if (e.code() != ER_NO_SUCH_TABLE) throw Unavailable(e.what());
    read.table_missing = true;
  }
  return read;
}

}  // namespace

int run_location(const CommandContext& context) {
  const std::string& driver_id = context.invocation.driver_id;
  RedisSession redis(context.config.redis);
  const std::string key = locations::StateKeys(context.config.redis.stream).driver(driver_id);
  const ReplyPtr reply = redis.command({"HGET", key, "record"});
  if (reply->type != REDIS_REPLY_STRING) {
    throw NotFound("no current location of driver " + driver_id + " (none reported within " +
                   "locations.ttl)" + disabled_hint(context.config));
  }
  const std::string text(reply->str, reply->len);
  const std::optional<LocationRecord> record = locations::parse_record_json(text);
  if (!record) {
    throw Unavailable("Redis at " + redis.address() + ": " + key +
                      " does not hold a location record: " + truncate_cell(text, 200));
  }
  if (context.invocation.json) {
    // The stored text is what GET .../location serves; printed as it is,
    // only indented like every --json output.
    print_json(context.out, JsonPtr(json_loads(text.c_str(), 0, nullptr)));
    return kExitOk;
  }
  // Milliseconds left; -2 when it expired since the HGET, -1 without a TTL
  // (not the daemon's doing).
  const long long ttl_ms = redis.command({"PTTL", key})->integer;
  const std::int64_t age_ms = context.now_ms - record->timestamp_ms;
  Table table({"FIELD", "VALUE"});
  table.add_row({"driver_id", record->driver_id});
  table.add_row({"latitude", locations::format_number(record->latitude)});
  table.add_row({"longitude", locations::format_number(record->longitude)});
  table.add_row({"timestamp",
                 locations::format_iso8601_utc(record->timestamp_ms) + " (" +
                     (age_ms >= 0 ? format_span(age_ms) + " ago" : "in " + format_span(-age_ms)) +
                     ")"});
  if (record->speed_kmh) table.add_row({"speed", number_or_dash(record->speed_kmh, " km/h")});
  if (record->heading_deg) table.add_row({"heading", number_or_dash(record->heading_deg, "°")});
  if (record->accuracy_m) table.add_row({"accuracy", number_or_dash(record->accuracy_m, " m")});
  if (record->altitude_m) table.add_row({"altitude", number_or_dash(record->altitude_m, " m")});
  if (record->order_id) table.add_row({"order_id", *record->order_id});
  if (record->battery_percent) {
    table.add_row({"battery", number_or_dash(record->battery_percent, " %")});
  }
  table.add_row({"expires", ttl_ms >= 0    ? "in " + format_span(ttl_ms)
                            : ttl_ms == -1 ? "never"
                                           : "now"});
  context.out << table.render();
  return kExitOk;
}

int run_route(const CommandContext& context) {
  const Invocation& invocation = context.invocation;
  // Before connecting: a reversed range is a usage error even with MySQL down.
  const RouteWindow window = route_window(invocation, context.now_ms);
  const RouteRead read =
      read_route(context.config.mysql, invocation.driver_id, window, invocation.limit);
  if (read.table_missing) {
    std::cerr << "gpsrelayctl: table driver_locations does not exist: no location history was "
                 "written yet"
              << disabled_hint(context.config) << "\n";
  }
  if (invocation.json) {
    print_records_json(context.out, read.points);
    return kExitOk;
  }
  const std::string range = format_utc(window.since_ms) + " to " + format_utc(window.until_ms);
  if (read.points.empty()) {
    context.out << "no points of driver " << invocation.driver_id << " from " << range << " UTC\n";
    return kExitOk;
  }
  context.out << "Route of driver " << invocation.driver_id << " from " << range
              << " UTC: " << read.points.size() << " point" << (read.points.size() == 1 ? "" : "s")
              << "\n";
  Table table({"TIME (UTC)", "LATITUDE", "LONGITUDE", "SPEED KM/H", "HEADING", "ORDER"});
  for (const LocationRecord& point : read.points) {
    table.add_row({format_utc_ms(point.timestamp_ms), locations::format_number(point.latitude),
                   locations::format_number(point.longitude), number_or_dash(point.speed_kmh),
                   number_or_dash(point.heading_deg), point.order_id.value_or("-")});
  }
  context.out << table.render();
  if (read.points.size() == invocation.limit) {
    context.out << "(stopped at --limit " << invocation.limit
                << "; more points may follow: raise --limit or move --since later)\n";
  }
  return kExitOk;
}

}  // namespace gpsrelay::ctl
