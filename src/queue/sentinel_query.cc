// Blocking sentinel look-up (see sentinel_query.h).
#include "queue/sentinel_query.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <memory>
#include <optional>
#include <vector>

#include "queue/sentinel_messages.h"

namespace gpsrelay::queue {
namespace {

struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;
struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

std::string_view text_of(const redisReply* reply) {
  if (reply == nullptr || reply->str == nullptr) return {};
  return {reply->str, reply->len};
}

// One short-lived synchronous connection; every failure is a message.
class Session {
 public:
  Session(const core::Endpoint& address, std::chrono::milliseconds timeout) {
    const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                     static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    context_.reset(redisConnectWithTimeout(address.host.c_str(), address.port, tv));
    if (!context_) throw SentinelQueryError("out of memory");
    if (context_->err != 0) throw SentinelQueryError(context_->errstr);
    redisSetTimeout(context_.get(), tv);
  }

  ReplyPtr command(std::initializer_list<std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const std::string_view arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    ReplyPtr reply(static_cast<redisReply*>(redisCommandArgv(
        context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
    if (!reply) throw SentinelQueryError(context_->errstr);
    if (reply->type == REDIS_REPLY_ERROR)
      throw SentinelQueryError(std::string(text_of(reply.get())));
    return reply;
  }

 private:
  ContextPtr context_;
};

core::Endpoint ask_sentinel(const core::RedisConfig& redis, const core::Endpoint& sentinel,
                            std::chrono::milliseconds timeout) {
  Session session(sentinel, timeout);
  if (!redis.sentinel_password.empty()) session.command({"AUTH", redis.sentinel_password});
  const ReplyPtr reply =
      session.command({"SENTINEL", "get-master-addr-by-name", redis.master_name});
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
    throw SentinelQueryError("does not know a primary named '" + redis.master_name + "'");
  }
  std::optional<core::Endpoint> address =
      sentinel_endpoint(text_of(reply->element[0]), text_of(reply->element[1]));
  if (!address) throw SentinelQueryError("named an address that is not host and port");
  return std::move(*address);
}

void check_is_primary(const core::RedisConfig& redis, const core::Endpoint& address,
                      std::chrono::milliseconds timeout) {
  Session session(address, timeout);
  if (!redis.password.empty()) session.command({"AUTH", redis.password});
  const ReplyPtr role = session.command({"ROLE"});
  if (role->type != REDIS_REPLY_ARRAY || role->elements == 0 ||
      text_of(role->element[0]) != "master") {
    throw SentinelQueryError(address.to_string() + " is not a primary (ROLE: " +
                             std::string(role->elements > 0 ? text_of(role->element[0]) : "") +
                             ")");
  }
}

}  // namespace

ResolvedPrimary resolve_primary(const core::RedisConfig& redis, std::chrono::milliseconds timeout) {
  std::string failures;
  for (const core::Endpoint& sentinel : redis.sentinels) {
    try {
      core::Endpoint address = ask_sentinel(redis, sentinel, timeout);
      check_is_primary(redis, address, timeout);
      return {std::move(address), sentinel};
    } catch (const SentinelQueryError& e) {
      failures += (failures.empty() ? "" : "; ") + sentinel.to_string() + ": " + e.what();
    }
  }
  throw SentinelQueryError("no sentinel named a reachable primary '" + redis.master_name + "' (" +
                           failures + ")");
}

core::Endpoint primary_address(const core::RedisConfig& redis) {
  if (redis.sentinels.empty()) return redis.address;
  return resolve_primary(redis).address;
}

}  // namespace gpsrelay::queue
