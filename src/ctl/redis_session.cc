// RedisSession (see redis_session.h).
#include "ctl/redis_session.h"

#include <sys/time.h>

#include "queue/sentinel_query.h"

namespace gpsrelay::ctl {
namespace {

constexpr timeval kTimeout{3, 0};

std::vector<const char*> argv_of(const std::vector<std::string>& args,
                                 std::vector<size_t>& lengths) {
  std::vector<const char*> argv;
  lengths.clear();
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return argv;
}

// With sentinels, the primary they name now (so the commands that write,
// like replay and purge, reach the primary).
core::Endpoint target_of(const core::RedisConfig& config) {
  try {
    return queue::primary_address(config);
  } catch (const queue::SentinelQueryError& e) {
    throw Unavailable(e.what());
  }
}

}  // namespace

RedisSession::RedisSession(const core::RedisConfig& config)
    : RedisSession(config, target_of(config)) {}

RedisSession::RedisSession(const core::RedisConfig& config, const core::Endpoint& target)
    : address_(target.to_string()),
      context_(target.unix_path.empty()
                   ? redisConnectWithTimeout(target.host.c_str(), target.port, kTimeout)
                   : redisConnectUnixWithTimeout(target.unix_path.c_str(), kTimeout)) {
  if (!context_) throw Unavailable("cannot reach Redis at " + address_ + ": out of memory");
  if (context_->err != 0) {
    throw Unavailable("cannot reach Redis at " + address_ + ": " + context_->errstr);
  }
  redisSetTimeout(context_.get(), kTimeout);
  if (!config.password.empty()) command({"AUTH", config.password});
  if (config.db != 0) command({"SELECT", std::to_string(config.db)});
}

ReplyPtr RedisSession::command(const std::vector<std::string>& args) {
  std::vector<size_t> lengths;
  std::vector<const char*> argv = argv_of(args, lengths);
  ReplyPtr reply(static_cast<redisReply*>(redisCommandArgv(
      context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
  if (!reply) throw Unavailable("Redis at " + address_ + ": " + context_->errstr);
  if (reply->type == REDIS_REPLY_ERROR) {
    throw Unavailable("Redis at " + address_ + " refused " + args[0] + ": " +
                      std::string(reply->str, reply->len));
  }
  return reply;
}

RedisSession::PipelineResult RedisSession::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  PipelineResult result;
  std::vector<size_t> lengths;
  for (const auto& args : commands) {
    std::vector<const char*> argv = argv_of(args, lengths);
    if (redisAppendCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) != REDIS_OK) {
      // Appending only fills the output buffer: nothing was sent yet.
      result.error = "Redis at " + address_ + ": " + context_->errstr;
      return result;
    }
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr) {
      result.error = "Redis at " + address_ + ": " + context_->errstr;
      break;
    }
    result.replies.emplace_back(static_cast<redisReply*>(raw));
  }
  return result;
}

}  // namespace gpsrelay::ctl
