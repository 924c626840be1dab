// connect_mysql and FailedTable (see failed_table.h).
#include "ctl/failed_table.h"

#include "ctl/redis_session.h"
#include "store/schema.h"

namespace gpsrelay::ctl {

store::MysqlConnection connect_mysql(const core::MysqlConfig& config) {
  try {
    return store::MysqlConnection(config);
  } catch (const store::MysqlError& e) {
    // MysqlError reads "MySQL user@host:port/db: connect: <reason>"; keep
    // the reason and say it the way the Redis error does.
    std::string reason = e.what();
    constexpr std::string_view kMarker = ": connect: ";
    if (const auto at = reason.find(kMarker); at != std::string::npos) {
      reason.erase(0, at + kMarker.size());
    }
    throw Unavailable("cannot reach MySQL at " + core::mysql_address(config) + ": " + reason);
  }
}

FailedTable::FailedTable(const core::MysqlConfig& config) : connection_(connect_mysql(config)) {
  try {
    store::ensure_schema(connection_);
  } catch (const store::MysqlError& e) {
    throw Unavailable(e.what());
  }
}

std::vector<Row> FailedTable::query(const std::string& sql) {
  try {
    return connection_.query(sql);
  } catch (const store::MysqlError& e) {
    throw Unavailable(e.what());
  }
}

std::uint64_t FailedTable::execute(const std::string& sql) {
  try {
    return connection_.execute(sql);
  } catch (const store::MysqlError& e) {
    throw Unavailable(e.what());
  }
}

}  // namespace gpsrelay::ctl
