// Classification of Redis error replies to appends (see write_error.h).
#include "queue/write_error.h"

#include "core/metrics.h"

namespace gpsrelay::queue {

WriteError classify_write_error(std::string_view error_reply) {
  // Redis starts each error reply with an upper-case code word.
  const std::string_view code = error_reply.substr(0, error_reply.find(' '));
  if (code == "OOM") return WriteError::kOutOfMemory;
  if (code == "READONLY") return WriteError::kReadOnly;
  if (code == "MISCONF") return WriteError::kMisconf;
  return WriteError::kOther;
}

static_assert(core::kRedisWriteErrorNames.size() == kWriteErrorKinds);

}  // namespace gpsrelay::queue
