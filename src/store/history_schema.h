// The driver_locations table (CONTRACT.md, "Locations"): its definition,
// its daily partitions and how times are written into it. This file owns
// the DDL and the partition upkeep (adding the coming days, dropping the
// days past the retention); it does not write or read location rows (that
// is history_store.h and route_reader.h).
//
// Layout: PRIMARY KEY (driver_id, `time`), so a redelivered report is one
// row and a route is a primary-key range scan; PARTITION BY RANGE
// COLUMNS(`time`) with one partition per UTC day named pYYYYMMDD (holding
// everything below the next day, so the oldest one also catches anything
// older) and a catch-all pfuture. A route query with `time` BETWEEN two
// constants reads only the partitions of those days, and retention is a
// DROP PARTITION per day instead of a DELETE of millions of rows.
//
// Every function here is idempotent and safe while other gpsrelayd
// instances run it at the same time against the same table.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "store/mysql_connection.h"

namespace gpsrelay::store {

// The range a DATETIME(3) column holds: 1000-01-01 00:00:00.000 to
// 9999-12-31 23:59:59.999 UTC, in Unix milliseconds.
inline constexpr std::int64_t kMinHistoryTimeMs = -30610224000000;
inline constexpr std::int64_t kMaxHistoryTimeMs = 253402300799999;

// Days of daily partitions kept ready after today, so a missed hourly
// upkeep (MySQL down, a lock held by an operator) costs nothing.
inline constexpr int kHistoryDaysAhead = 7;

// Creates driver_locations when it does not exist, partitioned by day from
// the UTC day of `now` through kHistoryDaysAhead days later, plus pfuture.
// An existing table is left as it is (see maintain_history_partitions).
// Throws MysqlError.
void ensure_history_schema(MysqlConnection& connection, std::chrono::system_clock::time_point now);

// Adds the daily partitions from the UTC day of `now` through
// kHistoryDaysAhead days later that are missing after the newest one (by
// splitting pfuture), then drops every daily partition whose whole day is
// older than now - retention, oldest first, but never the last daily one.
// Returns how many partitions this call dropped. A partition another
// instance added or dropped first is not an error. A table that is not
// partitioned this way (made by hand) is logged as a warning and left
// alone: returns 0. Throws MysqlError on other errors.
std::size_t maintain_history_partitions(MysqlConnection& connection,
                                        std::chrono::system_clock::time_point now,
                                        std::chrono::milliseconds retention);

// 'YYYY-MM-DD HH:MM:SS.mmm' (no quotes), the DATETIME(3) text of a Unix
// millisecond time in UTC (every session is UTC, see mysql_connection.h).
// REQUIRES: kMinHistoryTimeMs <= unix_ms <= kMaxHistoryTimeMs.
std::string format_history_time(std::int64_t unix_ms);

}  // namespace gpsrelay::store
