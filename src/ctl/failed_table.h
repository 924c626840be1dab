// FailedTable: gpsrelayctl's access to failed_packets. It turns MySQL
// errors into Unavailable with a message naming MySQL and its address.
// Like the daemon, it first brings the table to the current schema (the
// same idempotent ensure_schema, with the daemon's own MySQL user): the
// operator may run gpsrelayctl before the daemon ever started, or while a
// just-started daemon is still migrating, and the queries below need the
// columns a replay restores (request_id, received_at).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "store/mysql_connection.h"

namespace gpsrelay::ctl {

using Row = std::vector<std::optional<std::string>>;

// A connection with the [mysql] settings, as the daemon makes it (UTC
// session); throws Unavailable ("cannot reach MySQL at HOST:PORT: ...").
// Shared with the commands that read other tables (route).
store::MysqlConnection connect_mysql(const core::MysqlConfig& config);

class FailedTable {
 public:
  // Connects and ensures the schema; throws Unavailable ("cannot reach
  // MySQL at HOST:PORT: ..." when it cannot connect).
  explicit FailedTable(const core::MysqlConfig& config);

  // Throw Unavailable on errors.
  std::vector<Row> query(const std::string& sql);
  std::uint64_t execute(const std::string& sql);

  // "user@host:port/database", for messages.
  const std::string& describe() const { return connection_.describe(); }

 private:
  store::MysqlConnection connection_;
};

}  // namespace gpsrelay::ctl
