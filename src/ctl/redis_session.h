// RedisSession: gpsrelayctl's blocking Redis connection (hiredis), owned
// RAII, with short timeouts so an unreachable Redis is a clear error within
// seconds rather than a hang.
#pragma once

#include <hiredis/hiredis.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/c_handle.h"
#include "core/config.h"

namespace gpsrelay::ctl {

// Redis or MySQL cannot be reached, or refused what we asked (exit 2).
class Unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using ReplyPtr = core::CHandle<redisReply, freeReplyObject>;

class RedisSession {
 public:
  // Connects, AUTHs and SELECTs as the daemon does; throws Unavailable.
  // With [redis] sentinels it connects to the primary they name now.
  explicit RedisSession(const core::RedisConfig& config);
  // To `target` (a server the sentinels named), with config's credentials.
  RedisSession(const core::RedisConfig& config, const core::Endpoint& target);

  // One command; throws Unavailable on I/O errors and error replies.
  ReplyPtr command(const std::vector<std::string>& args);
  // Sends every command in one write and reads the replies in order. Each
  // reply read is non-null but may be an error reply, which the caller
  // inspects. When the connection fails midway, `replies` holds those read
  // before it and `error` says why: the commands after them may or may not
  // have run.
  struct PipelineResult {
    std::vector<ReplyPtr> replies;
    std::string error;  // empty: every reply was read
  };
  PipelineResult pipeline(const std::vector<std::vector<std::string>>& commands);

  const std::string& address() const { return address_; }

 private:
  static void free_context(redisContext* context) { redisFree(context); }

  std::string address_;
  core::CHandle<redisContext, free_context> context_;
};

}  // namespace gpsrelay::ctl
