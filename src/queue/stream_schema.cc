// Consumer-group creation shared by ingest and the forwarder (see stream_schema.h).
#include "queue/stream_schema.h"

namespace gpsrelay::queue {

bool send_create_group(RedisConnection& connection, redisCallbackFn* callback, void* privdata,
                       std::string_view stream, std::string_view group) {
  return connection.send(callback, privdata, {"XGROUP", "CREATE", stream, group, "0", "MKSTREAM"});
}

bool group_created(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ERROR) return true;
  return std::string_view(reply.str, reply.len).starts_with("BUSYGROUP");
}

}  // namespace gpsrelay::queue
