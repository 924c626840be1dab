// FailedTable (see failed_table.h).
#include "ctl/failed_table.h"

#include "ctl/redis_session.h"
#include "store/schema.h"

namespace gpsrelay::ctl {
namespace {

store::MysqlConnection connect(const core::MysqlConfig& config) {
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
    throw Unavailable("cannot reach MySQL at " + mysql_address(config) + ": " + reason);
  }
}

}  // namespace

std::string mysql_address(const core::MysqlConfig& config) {
  if (!config.socket.empty()) return "unix:" + config.socket;
  const bool ipv6 = config.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + config.host + "]" : config.host) + ":" + std::to_string(config.port);
}

FailedTable::FailedTable(const core::MysqlConfig& config) : connection_(connect(config)) {
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
