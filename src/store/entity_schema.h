// The entity-event tables (CONTRACT.md, "Entity events"): their DDL, run
// at every connect of the events store; idempotent and safe while other
// gpsrelayd instances run it at the same time.
//
// entities: PRIMARY KEY (entity_type, entity_id), both compared byte for
// byte (utf8mb4_bin: "Truck-1" and "truck-1" are two entities);
// attributes a JSON object (MariaDB's JSON, i.e. LONGTEXT checked by
// JSON_VALID), created_at/updated_at in UTC with milliseconds.
// applied_events: one row per applied event uuid, with its name, type and
// dates, so a replayed event is recognised and an operator can see what
// was applied when.
#pragma once

#include "store/mysql_connection.h"

namespace gpsrelay::store {

// Throws MysqlError.
void ensure_entity_schema(MysqlConnection& connection);

}  // namespace gpsrelay::store
