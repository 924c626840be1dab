// The shape of the report stream, shared by everything that writes or reads
// it (ingest, the forwarder, gpsrelayctl replay): the field names of an
// entry, and the creation of the consumer group.
#pragma once

#include <hiredis/hiredis.h>

#include <string_view>

#include "queue/redis_connection.h"

namespace gpsrelay::queue {

inline constexpr std::string_view kPayloadField = "payload";
inline constexpr std::string_view kReceivedAtField = "received_at";
inline constexpr std::string_view kRequestIdField = "request_id";
// Set on reports that came in through a location endpoint: the device
// format ("driver", "osmand", "owntracks"); absent on raw reports.
inline constexpr std::string_view kSourceField = "source";

// Sends XGROUP CREATE <stream> <group> 0 MKSTREAM. It starts at 0, not $:
// entries already in the stream when the group is first created must still
// be delivered. Returns what RedisConnection::send returns.
bool send_create_group(RedisConnection& connection, redisCallbackFn* callback, void* privdata,
                       std::string_view stream, std::string_view group);

// The reply says the group exists or was created: OK, or BUSYGROUP.
bool group_created(const redisReply& reply);

}  // namespace gpsrelay::queue
