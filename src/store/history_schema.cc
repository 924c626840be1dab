// driver_locations DDL and daily partition upkeep (see history_schema.h).
//
// Races between instances: two daemons may split pfuture or drop the same
// day at once. The loser's statement fails with "duplicate partition name",
// "partition does not exist" or "VALUES LESS THAN must be strictly
// increasing" (the other one already added later days); each means the
// work is done already, so those are ignored. Every ALTER waits at most
// kLockWaitSeconds for its metadata lock: an ALTER queued behind an
// operator's open transaction would otherwise block every INSERT queued
// behind it (for lock_wait_timeout, a day by default), and must give up
// before the connection's 5 s read timeout.
#include "store/history_schema.h"

#include <mysqld_error.h>

#include <cstdio>
#include <optional>
#include <string_view>
#include <vector>

#include "core/log.h"

namespace gpsrelay::store {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

constexpr std::string_view kTable = "driver_locations";
constexpr std::string_view kFuturePartition = "pfuture";
constexpr int kLockWaitSeconds = 2;

constexpr std::string_view kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS driver_locations (
  driver_id VARCHAR(128) CHARACTER SET ascii NOT NULL,
  `time`    DATETIME(3)  NOT NULL,
  order_id  VARCHAR(128) NULL,
  latitude  DOUBLE       NOT NULL,
  longitude DOUBLE       NOT NULL,
  speed     DOUBLE       NULL COMMENT 'km/h',
  heading   DOUBLE       NULL COMMENT 'degrees, 0 = north, clockwise',
  accuracy  DOUBLE       NULL COMMENT 'metres',
  altitude  DOUBLE       NULL COMMENT 'metres',
  PRIMARY KEY (driver_id, `time`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
PARTITION BY RANGE COLUMNS(`time`) ()sql";

std::string partition_name(sys_days day) {
  const std::chrono::year_month_day date(day);
  char text[32];
  std::snprintf(text, sizeof text, "p%04d%02u%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

// "PARTITION pYYYYMMDD VALUES LESS THAN ('<next day> 00:00:00')"
std::string daily_partition(sys_days day) {
  const std::int64_t next_day_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>((day + days(1)).time_since_epoch())
          .count();
  return "PARTITION " + partition_name(day) + " VALUES LESS THAN ('" +
         format_history_time(next_day_ms).substr(0, 19) + "')";
}

std::string future_partition() {
  return "PARTITION " + std::string(kFuturePartition) + " VALUES LESS THAN (MAXVALUE)";
}

// The day of a name pYYYYMMDD; nullopt for any other name.
std::optional<sys_days> day_of(std::string_view name) {
  if (name.size() != 9 || name[0] != 'p') return std::nullopt;
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  for (char c : name.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  if (std::sscanf(std::string(name.substr(1)).c_str(), "%4d%2u%2u", &year, &month, &day) != 3) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                         std::chrono::day(day)};
  if (!date.ok()) return std::nullopt;
  return sys_days(date);
}

// The exclusive upper bound of a RANGE COLUMNS partition on a DATETIME,
// from information_schema's PARTITION_DESCRIPTION ("'2025-06-16 00:00:00'"
// or "'2025-06-16'"); nullopt for MAXVALUE or anything unexpected.
std::optional<std::chrono::system_clock::time_point> upper_bound_of(std::string_view description) {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  const std::string text(description);
  const int fields = std::sscanf(text.c_str(), "'%4d-%2u-%2u %2u:%2u:%2u", &year, &month, &day,
                                 &hour, &minute, &second);
  if (fields != 3 && fields != 6) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                         std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  // Fractions of a second, if any, only make the bound later: ignoring them
  // errs towards keeping a partition.
  return sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second);
}

struct Partition {
  std::string name;
  std::optional<sys_days> day;  // set for a daily partition pYYYYMMDD
  std::optional<std::chrono::system_clock::time_point> upper_bound;
};

enum class Layout { kMissing, kOurs, kForeign };

struct PartitionList {
  Layout layout = Layout::kMissing;
  std::string description;            // of a foreign layout, for the warning
  std::vector<Partition> partitions;  // in range order
};

PartitionList read_partitions(MysqlConnection& connection) {
  const auto rows = connection.query(
      "SELECT PARTITION_NAME, PARTITION_METHOD, PARTITION_EXPRESSION, PARTITION_DESCRIPTION "
      "FROM information_schema.PARTITIONS "
      "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'driver_locations' "
      "ORDER BY PARTITION_ORDINAL_POSITION");
  PartitionList list;
  if (rows.empty()) return list;
  for (const auto& row : rows) {
    if (row.size() != 4) throw MysqlError("information_schema.PARTITIONS: unexpected columns");
    const std::string method = row[1].value_or("");
    const std::string expression = row[2].value_or("");
    if (!row[0] || method != "RANGE COLUMNS" || expression != "`time`") {
      list.layout = Layout::kForeign;
      if (row[0]) {
        list.description = "partitioned by ";
        list.description += method;
        list.description += " (";
        list.description += expression;
        list.description += ")";
      } else {
        list.description = "not partitioned";
      }
      list.partitions.clear();
      return list;
    }
    list.partitions.push_back(
        Partition{*row[0], day_of(*row[0]), upper_bound_of(row[3].value_or(""))});
  }
  list.layout = Layout::kOurs;
  return list;
}

// Runs one partition ALTER; false when another instance did it first.
bool alter_partitions(MysqlConnection& connection, const std::string& change) {
  try {
    connection.execute("SET STATEMENT lock_wait_timeout = " + std::to_string(kLockWaitSeconds) +
                       " FOR ALTER TABLE " + std::string(kTable) + " " + change);
    return true;
  } catch (const MysqlError& error) {
    switch (error.code()) {
      case ER_SAME_NAME_PARTITION:
      case ER_PARTITION_DOES_NOT_EXIST:
      case ER_RANGE_NOT_INCREASING_ERROR:
      case ER_DROP_LAST_PARTITION:
        core::log_debug("driver_locations partition already changed by another instance",
                        {{"ERROR", error.what()}});
        return false;
      default:
        throw;
    }
  }
}

void add_coming_days(MysqlConnection& connection, const PartitionList& list, sys_days today) {
  std::optional<sys_days> newest;
  bool has_future = false;
  for (const Partition& p : list.partitions) {
    if (p.day && (!newest || *p.day > *newest)) newest = p.day;
    if (p.name == kFuturePartition) has_future = true;
  }
  // Ranges only grow at the end: a day missing before the newest daily
  // partition is already covered by the next partition's range.
  sys_days first = today;
  if (newest && *newest + days(1) > first) first = *newest + days(1);
  const sys_days last = today + days(kHistoryDaysAhead);
  if (first > last) return;
  if (!has_future) {
    core::log_warning(
        "driver_locations has no pfuture partition; no daily partitions are added, and MySQL "
        "refuses rows past the last one (history then waits; add a MAXVALUE partition)");
    return;
  }
  std::string change = "REORGANIZE PARTITION " + std::string(kFuturePartition) + " INTO (";
  for (sys_days day = first; day <= last; day += days(1)) change += daily_partition(day) + ", ";
  change += future_partition() + ")";
  alter_partitions(connection, change);
}

}  // namespace

void ensure_history_schema(MysqlConnection& connection, std::chrono::system_clock::time_point now) {
  const sys_days today = std::chrono::floor<days>(now);
  std::string create(kCreateTable);
  for (int i = 0; i <= kHistoryDaysAhead; ++i) create += daily_partition(today + days(i)) + ",\n";
  create += future_partition() + ")";
  connection.execute(create);
}

std::size_t maintain_history_partitions(MysqlConnection& connection,
                                        std::chrono::system_clock::time_point now,
                                        std::chrono::milliseconds retention) {
  PartitionList list = read_partitions(connection);
  if (list.layout == Layout::kMissing) return 0;  // created again at the next connect
  if (list.layout == Layout::kForeign) {
    core::log_warning(
        "driver_locations is not partitioned by day (made by hand?); history is kept, but "
        "history_retention drops nothing",
        {{"PARTITIONING", list.description}});
    return 0;
  }
  add_coming_days(connection, list, std::chrono::floor<days>(now));
  // Read again: what this call or another instance just added counts
  // towards "never the last daily partition".
  list = read_partitions(connection);
  if (list.layout != Layout::kOurs) return 0;

  const auto cutoff = now - retention;
  std::size_t daily = 0;
  for (const Partition& p : list.partitions) daily += p.day ? 1 : 0;
  std::size_t dropped = 0;
  for (const Partition& p : list.partitions) {
    // In range order, so the first one still in the retention ends it.
    if (!p.day) continue;
    if (!p.upper_bound || *p.upper_bound > cutoff || daily <= 1) break;
    if (alter_partitions(connection, "DROP PARTITION " + p.name)) {
      ++dropped;
      core::log_info("dropped driver_locations partition past the retention",
                     {{"PARTITION", p.name}});
    }
    --daily;
  }
  return dropped;
}

std::string format_history_time(std::int64_t unix_ms) {
  const std::chrono::sys_time<std::chrono::milliseconds> time{std::chrono::milliseconds(unix_ms)};
  const sys_days day = std::chrono::floor<days>(time);
  const std::chrono::year_month_day date(day);
  const std::chrono::hh_mm_ss<std::chrono::milliseconds> clock(time - day);
  char text[40];
  std::snprintf(
      text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d.%03d", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return text;
}

}  // namespace gpsrelay::store
