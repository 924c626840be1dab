// Following the Redis primary through its sentinels (see sentinel_watcher.h).
#include "queue/sentinel_watcher.h"

#include <hiredis/hiredis.h>

#include <array>
#include <string_view>
#include <utility>

#include "core/callback_guard.h"
#include "core/log.h"

namespace gpsrelay::queue {
namespace {

constexpr std::string_view kSwitchMaster = "+switch-master";
// SENTINEL MASTER answers some 40 fields; more is not a sentinel.
constexpr std::size_t kMaxMasterFields = 128;

std::string_view text_of(const redisReply* reply) {
  if (reply == nullptr || reply->str == nullptr) return {};
  return {reply->str, reply->len};
}

RedisConnection::Options sentinel_options(const core::RedisConfig& redis,
                                          const core::Endpoint& address) {
  RedisConnection::Options options;
  options.address = address;
  options.password = redis.sentinel_password;
  options.db = std::nullopt;
  return options;
}

}  // namespace

struct SentinelWatcher::Sentinel {
  SentinelWatcher* owner;
  core::Endpoint address;
  RedisConnection commands;
  RedisConnection announcements;
  bool asked = false;  // a SENTINEL MASTER of this round is unanswered

  Sentinel(SentinelWatcher* owner_in, event_base* base, const core::RedisConfig& redis,
           const core::Endpoint& sentinel)
      : owner(owner_in),
        address(sentinel),
        commands(base, sentinel_options(redis, sentinel),
                 [this](bool up) {
                   // A sentinel back (or up for the first time) is asked at
                   // once when nobody has named the primary yet.
                   if (up && !owner->known_) owner->poll();
                 }),
        announcements(base, sentinel_options(redis, sentinel), [this](bool up) {
          if (up) {
            announcements.send(&SentinelWatcher::on_announcement, this,
                               {"SUBSCRIBE", kSwitchMaster});
          }
        }) {}
};

SentinelWatcher::SentinelWatcher(event_base* base, const core::RedisConfig& redis,
                                 std::chrono::milliseconds poll_interval)
    : primary_(redis.primary),
      master_name_(redis.master_name),
      poll_interval_(poll_interval),
      poll_timer_(base, [this] { poll(); }) {
  for (const core::Endpoint& address : redis.sentinels) {
    sentinels_.push_back(std::make_unique<Sentinel>(this, base, redis, address));
  }
}

SentinelWatcher::~SentinelWatcher() {
  poll_timer_.stop();
  // Null replies of what is outstanding still reach this intact object.
  for (auto& sentinel : sentinels_) {
    sentinel->commands.close();
    sentinel->announcements.close();
  }
}

void SentinelWatcher::start() {
  for (auto& sentinel : sentinels_) {
    sentinel->commands.start();
    sentinel->announcements.start();
  }
  poll_timer_.start_periodic(poll_interval_);
}

void SentinelWatcher::poll() {
  // A sentinel that has not answered the last round by now is not waited
  // for: the round is decided with the answers it has.
  if (round_replies_due_ > 0) finish_round();
  for (auto& sentinel : sentinels_) {
    if (sentinel->asked) continue;
    if (sentinel->commands.send(&SentinelWatcher::on_master_reply, sentinel.get(),
                                {"SENTINEL", "MASTER", master_name_})) {
      sentinel->asked = true;
      ++round_replies_due_;
    }
  }
}

void SentinelWatcher::on_master_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* sentinel = static_cast<Sentinel*>(privdata);
  core::guarded("SENTINEL MASTER reply", [&] {
    sentinel->owner->handle_master_reply(*sentinel, static_cast<const redisReply*>(reply));
  });
}

void SentinelWatcher::handle_master_reply(Sentinel& sentinel, const redisReply* r) {
  sentinel.asked = false;
  if (round_replies_due_ > 0) --round_replies_due_;
  if (r != nullptr && r->type == REDIS_REPLY_ERROR) {
    // "ERR No such master with that name": a configuration mistake that
    // never heals by itself, so it keeps being said, a line per interval.
    refusal_log_.log(core::LogLevel::kError, "a sentinel refused to name the primary",
                     {{"SENTINEL", sentinel.address.to_string()},
                      {"MASTER_NAME", master_name_},
                      {"ERROR", text_of(r)}});
  } else if (r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements <= kMaxMasterFields) {
    std::array<std::string_view, kMaxMasterFields> fields;
    for (std::size_t i = 0; i < r->elements; ++i) fields[i] = text_of(r->element[i]);
    const std::optional<MasterInfo> info =
        parse_master_info(std::span<const std::string_view>(fields.data(), r->elements));
    if (info && info->settled && (!round_best_ || info->config_epoch > round_best_->config_epoch)) {
      round_best_ = info;
      round_best_sentinel_ = sentinel.address;
    }
  }
  if (round_replies_due_ == 0) finish_round();
}

void SentinelWatcher::finish_round() {
  round_replies_due_ = 0;
  const std::optional<MasterInfo> best = std::exchange(round_best_, std::nullopt);
  if (!best) return;
  if (epoch_) {
    const bool newer = best->config_epoch > *epoch_;
    const bool same = best->config_epoch == *epoch_ && !announced_since_epoch_;
    if (!newer && !same) return;  // a sentinel behind what we follow
  }
  epoch_ = best->config_epoch;
  announced_since_epoch_ = false;
  adopt(best->address, "asked", round_best_sentinel_);
}

void SentinelWatcher::on_announcement(redisAsyncContext*, void* reply, void* privdata) {
  const auto* sentinel = static_cast<const Sentinel*>(privdata);
  core::guarded("+switch-master message", [&] {
    sentinel->owner->handle_announcement(*sentinel, static_cast<const redisReply*>(reply));
  });
}

void SentinelWatcher::handle_announcement(const Sentinel& sentinel, const redisReply* r) {
  // ["message", "+switch-master", payload]; the "subscribe" confirmation
  // has the same shape with a count and is skipped.
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
      text_of(r->element[0]) != "message") {
    return;
  }
  const std::optional<SwitchMaster> change = parse_switch_master(text_of(r->element[2]));
  if (!change || change->master_name != master_name_) return;
  announced_since_epoch_ = true;
  adopt(change->to, "announced", sentinel.address);
}

void SentinelWatcher::adopt(const core::Endpoint& address, const char* how,
                            const core::Endpoint& sentinel) {
  const bool first = !known_;
  known_ = true;
  if (!primary_->set(address)) return;
  if (!first) ++failovers_;
  core::log_info(first ? "Redis primary found through the sentinels"
                       : "Redis primary changed; reconnecting to the new one",
                 {{"PRIMARY", address.to_string()},
                  {"MASTER_NAME", master_name_},
                  {"SENTINEL", sentinel.to_string()},
                  {"HOW", how}});
}

}  // namespace gpsrelay::queue
