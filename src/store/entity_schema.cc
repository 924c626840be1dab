// Entity-event tables (see entity_schema.h).
#include "store/entity_schema.h"

#include <string_view>

namespace gpsrelay::store {
namespace {

constexpr std::string_view kCreateEntities = R"sql(
CREATE TABLE IF NOT EXISTS entities (
  entity_type VARCHAR(64) NOT NULL,
  entity_id VARCHAR(255) NOT NULL,
  attributes JSON NOT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (entity_type, entity_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
)sql";

constexpr std::string_view kCreateAppliedEvents = R"sql(
CREATE TABLE IF NOT EXISTS applied_events (
  uuid VARCHAR(128) NOT NULL,
  event_name VARCHAR(255) NOT NULL,
  event_type VARCHAR(255) NOT NULL,
  created_date DATETIME(3) NOT NULL,
  saved_date DATETIME(3) NULL,
  entity_updates INT UNSIGNED NOT NULL,
  applied_at DATETIME(3) NOT NULL,
  PRIMARY KEY (uuid),
  KEY applied_at (applied_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
)sql";

}  // namespace

void ensure_entity_schema(MysqlConnection& connection) {
  connection.execute(kCreateEntities);
  connection.execute(kCreateAppliedEvents);
}

}  // namespace gpsrelay::store
