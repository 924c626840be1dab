// Blocking sentinel look-up (see sentinel_query.h).
#include "queue/sentinel_query.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/c_handle.h"
#include "queue/sentinel_messages.h"

namespace gpsrelay::queue {
namespace {

void free_context(redisContext* context) { redisFree(context); }
using ContextPtr = core::CHandle<redisContext, free_context>;
using ReplyPtr = core::CHandle<redisReply, freeReplyObject>;

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

MasterInfo ask_sentinel(const core::RedisConfig& redis, const core::Endpoint& sentinel,
                        std::chrono::milliseconds timeout) {
  Session session(sentinel, timeout);
  if (!redis.sentinel_password.empty()) session.command({"AUTH", redis.sentinel_password});
  const ReplyPtr reply = session.command({"SENTINEL", "MASTER", redis.master_name});
  std::vector<std::string_view> fields;
  if (reply->type == REDIS_REPLY_ARRAY) {
    for (std::size_t i = 0; i < reply->elements; ++i) fields.push_back(text_of(reply->element[i]));
  }
  std::optional<MasterInfo> info = parse_master_info(fields);
  if (!info) throw SentinelQueryError("gave no usable address for '" + redis.master_name + "'");
  return std::move(*info);
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
  const auto failed = [&](const core::Endpoint& where, const SentinelQueryError& e) {
    failures += (failures.empty() ? "" : "; ") + where.to_string() + ": " + e.what();
  };
  // Every sentinel's opinion, newest configuration epoch first: one that
  // has not heard of a failover yet must not send a write to the old
  // primary (which may answer ROLE as a primary for a while after a restart).
  std::vector<std::pair<MasterInfo, core::Endpoint>> answers;
  for (const core::Endpoint& sentinel : redis.sentinels) {
    try {
      answers.emplace_back(ask_sentinel(redis, sentinel, timeout), sentinel);
    } catch (const SentinelQueryError& e) {
      failed(sentinel, e);
    }
  }
  // Settled answers first: a primary marked down or being failed over is
  // the one not to write to.
  std::stable_sort(answers.begin(), answers.end(), [](const auto& a, const auto& b) {
    if (a.first.settled != b.first.settled) return a.first.settled;
    return a.first.config_epoch > b.first.config_epoch;
  });
  for (const auto& [info, sentinel] : answers) {
    try {
      check_is_primary(redis, info.address, timeout);
      return {info.address, sentinel};
    } catch (const SentinelQueryError& e) {
      failed(sentinel, e);
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
