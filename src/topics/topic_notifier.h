// TopicNotifier: the topics module's thread ("topics"). It holds the
// daemon's one subscription to <prefix>notify, on which every publish names
// its topic, and posts each name to every HTTP worker's inbox, where
// waiting long-polls of that topic's groups poll again; so a waiting
// consumer neither holds a Redis connection nor polls in a loop. It also
// moves delayed messages into their topics when due (any instance may: the
// move is one script), every kReleaseInterval; registers this instance in
// Redis (for /v1/admin/cluster) and reads every group's lag (for /metrics).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/event_loop.h"
#include "core/mailbox.h"
#include "queue/lease.h"
#include "queue/redis_connection.h"
#include "topics/topic_scripts.h"

struct redisReply;

namespace gpsrelay::topics {

using TopicInbox = core::Mailbox<std::string>;

inline constexpr std::chrono::milliseconds kReleaseInterval{200};
// In release ticks: the instance's registration, and the lag reading.
inline constexpr unsigned kRegisterTicks = 10;
inline constexpr unsigned kLagTicks = 25;

// One group's standing on one partition.
struct LagSample {
  std::string topic;
  unsigned partition = 0;
  std::string group;
  std::int64_t lag = -1;  // not yet delivered; -1 when Redis cannot tell
  std::int64_t pending = 0;
};

class TopicNotifier {
 public:
  // `release_lease`: delayed messages are moved to their topics only while
  // it is held, by one instance of a fleet (null: always).
  TopicNotifier(const core::RedisConfig& redis, const core::TopicsConfig& topics,
                std::size_t workers, std::string instance,
                const queue::Lease* release_lease = nullptr);
  ~TopicNotifier();
  TopicNotifier(const TopicNotifier&) = delete;
  TopicNotifier& operator=(const TopicNotifier&) = delete;

  // Before start(), once per worker.
  void attach(std::size_t worker, TopicInbox& inbox);
  void start();
  void request_stop();
  void join();
  std::chrono::steady_clock::time_point last_heartbeat() const;
  bool subscribed() const { return subscribed_.load(std::memory_order_relaxed); }
  std::uint64_t delayed_released() const { return released_.load(std::memory_order_relaxed); }
  // The latest lag reading (empty until the first).
  std::vector<LagSample> lag() const;

 private:
  void on_subscriber(bool up);
  static void on_message(redisAsyncContext*, void* reply, void* self);
  void on_tick();
  void release_due();
  static void on_released(redisAsyncContext*, void* reply, void* self);
  void register_instance();
  void read_lag();
  static void on_lag(redisAsyncContext*, void* reply, void* self);

  const TopicKeys keys_;
  const std::string channel_;
  const std::string instance_;
  const queue::Lease* release_lease_;
  const std::string started_ms_;
  std::vector<TopicInbox*> inboxes_;
  core::EventBasePtr base_;
  queue::RedisConnection subscriber_;
  queue::RedisConnection commands_;
  core::CrossThreadTrigger stop_trigger_;
  core::Timer release_timer_;
  bool releasing_ = false;  // a release script is in flight
  bool reading_lag_ = false;
  unsigned ticks_ = 0;
  mutable std::mutex lag_mutex_;
  std::vector<LagSample> lag_;
  std::atomic<bool> subscribed_{false};
  std::atomic<std::uint64_t> released_{0};
  std::atomic<std::int64_t> heartbeat_ns_{0};
  std::thread thread_;
};

}  // namespace gpsrelay::topics
