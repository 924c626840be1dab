// The failed_packets table: its definition, and the start-up step that
// creates it or brings an older one up to date. Idempotent, so every
// gpsrelayd instance runs it on each (re)connect.
#pragma once

#include "store/mysql_connection.h"

namespace gpsrelay::store {

void ensure_schema(MysqlConnection& connection);

}  // namespace gpsrelay::store
