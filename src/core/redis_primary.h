// RedisPrimary: where the Redis primary is now, when Redis Sentinel decides.
//
// One per process, shared by every Redis connection (each on its own loop
// thread) and written by the sentinel watcher (queue/sentinel_watcher.h).
// A connection reads the address when it connects and polls generation()
// (one atomic load) to notice a failover without a lock or a wake-up across
// threads; a changed generation means "reconnect now, to the new address".
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>

#include "core/config.h"

namespace gpsrelay::core {

class RedisPrimary {
 public:
  struct Snapshot {
    std::optional<Endpoint> address;  // nullopt: no sentinel has answered yet
    std::uint64_t generation = 0;
  };

  Snapshot current() const {
    const std::lock_guard lock(mutex_);
    return {address_, generation_.load(std::memory_order_relaxed)};
  }

  // Bumped whenever the address changes; cheap enough to poll.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Returns true when this is a change (the first address counts as one).
  bool set(const Endpoint& address) {
    const std::lock_guard lock(mutex_);
    if (address_ == address) return false;
    address_ = address;
    generation_.fetch_add(1, std::memory_order_release);
    return true;
  }

 private:
  mutable std::mutex mutex_;
  std::optional<Endpoint> address_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace gpsrelay::core
