// SentinelWatcher: keeps core::RedisPrimary naming the primary that Redis
// Sentinel has chosen, on the daemon's main loop.
//
// It holds two connections to every configured sentinel: one subscribed to
// +switch-master, so a failover is followed the moment a sentinel announces
// it, and one that asks SENTINEL MASTER once a second, so a missed
// announcement (the watcher was reconnecting) is caught up within a second
// and the first answer after start needs no announcement at all. Sentinels
// can disagree while a failover spreads; each answer carries the
// configuration epoch it belongs to: the highest epoch of a round wins
// (among answers not marked down or failing over), and
// never one below an epoch already followed, nor the epoch an announcement
// has since superseded (a sentinel that has not heard of the failover yet
// must not send us back to the old primary, which may even answer ROLE as
// a primary for a while after a restart).
//
// The data connections (queue/redis_connection.h) only read the result:
// they never talk to a sentinel themselves.
#pragma once

#include <hiredis/async.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/event_loop.h"
#include "core/log_throttle.h"
#include "core/redis_primary.h"
#include "queue/redis_connection.h"
#include "queue/sentinel_messages.h"

namespace gpsrelay::queue {

class SentinelWatcher {
 public:
  // REQUIRES: redis.sentinels is not empty and redis.primary is set.
  SentinelWatcher(event_base* base, const core::RedisConfig& redis,
                  std::chrono::milliseconds poll_interval = std::chrono::seconds(1));
  ~SentinelWatcher();
  SentinelWatcher(const SentinelWatcher&) = delete;
  SentinelWatcher& operator=(const SentinelWatcher&) = delete;

  void start();
  // How many times the primary changed after the first answer.
  std::uint64_t failovers() const { return failovers_.load(std::memory_order_relaxed); }

 private:
  struct Sentinel;

  static void on_master_reply(redisAsyncContext*, void* reply, void* privdata);
  static void on_announcement(redisAsyncContext*, void* reply, void* privdata);

  void poll();
  void finish_round();
  void handle_master_reply(Sentinel& sentinel, const redisReply* reply);
  void handle_announcement(const Sentinel& sentinel, const redisReply* reply);
  void adopt(const core::Endpoint& address, const char* how, const core::Endpoint& sentinel);

  std::shared_ptr<core::RedisPrimary> primary_;
  std::string master_name_;
  std::vector<std::unique_ptr<Sentinel>> sentinels_;
  std::chrono::milliseconds poll_interval_;
  // The best answer of the round under way: replies still due, and the
  // highest-epoch address so far with the sentinel that gave it.
  int round_replies_due_ = 0;
  std::optional<MasterInfo> round_best_;
  core::Endpoint round_best_sentinel_;
  bool known_ = false;
  // The newest configuration epoch followed, and whether an announcement
  // moved us past it since (its epoch is unknown, but newer).
  std::optional<std::uint64_t> epoch_;
  bool announced_since_epoch_ = false;
  std::atomic<std::uint64_t> failovers_{0};  // read by /metrics
  core::ThrottledLog refusal_log_;
  core::Timer poll_timer_;
};

}  // namespace gpsrelay::queue
