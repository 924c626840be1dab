// Which consumer groups read the report stream. Every enabled group must
// exist before ingest accepts a report (so none misses an entry), and an
// entry leaves the stream only when each of them has acknowledged it; this
// file only names them from the config. Pure: no Redis here, so it is
// unit-tested alone (the I/O that uses the list is in report_queue.cc and
// stream_consumer.cc).
#pragma once

#include <string>
#include <vector>

#include "core/config.h"

namespace gpsrelay::queue {

// redis.group first, then locations.group when [locations] is enabled.
// Never empty; no name twice (the config already refuses a locations.group
// equal to redis.group, and this keeps the promise even without that check).
std::vector<std::string> enabled_groups(const core::Config& config);

}  // namespace gpsrelay::queue
