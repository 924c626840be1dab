// failed_packets: columns of the contract (id, message_id, payload,
// retry_count, last_error, target_server, created_at, updated_at) plus what
// a replay needs to recreate the stream entry faithfully (request_id,
// received_at). Times are UTC (the session time zone, see
// mysql_connection.h), with milliseconds.
#include "store/schema.h"

namespace gpsrelay::store {
namespace {

constexpr std::string_view kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS failed_packets (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  message_id    VARCHAR(64)     NOT NULL,
  payload       LONGBLOB        NOT NULL,
  retry_count   INT UNSIGNED    NOT NULL DEFAULT 0,
  last_error    VARCHAR(1024)   NOT NULL DEFAULT '',
  target_server VARCHAR(2048)   NOT NULL DEFAULT '',
  created_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                                ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_failed_packets_message_id (message_id),
  KEY ix_failed_packets_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
)sql";

// Columns added after the first release. ADD COLUMN IF NOT EXISTS (MariaDB
// 10.0.2+) makes each step a no-op on a table that already has it, so a
// table from any earlier version converges to the current one.
constexpr std::string_view kMigrations[] = {
    "ALTER TABLE failed_packets ADD COLUMN IF NOT EXISTS "
    "request_id VARCHAR(128) NOT NULL DEFAULT '' AFTER payload",
    "ALTER TABLE failed_packets ADD COLUMN IF NOT EXISTS "
    "received_at DATETIME(3) NULL AFTER request_id",
};

}  // namespace

void ensure_schema(MysqlConnection& connection) {
  connection.execute(kCreateTable);
  for (std::string_view migration : kMigrations) connection.execute(migration);
}

}  // namespace gpsrelay::store
