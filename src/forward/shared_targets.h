// SharedTargets: what every forwarder loop of the process shares about the
// targets. One RoundRobinBalancer behind a mutex: a target's breaker and
// health are one truth however many loops deliver (five failures open the
// breaker whichever loops saw them), and the rotation stays even across
// loops; the lock is held for a few comparisons per attempt, never across
// I/O. And each target's throttled log lines: a dead target is one line
// per interval for the process, not one per loop.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

#include "core/log_throttle.h"
#include "forward/balancer.h"

namespace gpsrelay::forward {

class SharedTargets {
 public:
  using Clock = RoundRobinBalancer::Clock;

  // A dead target fails every delivery: one line per target per interval,
  // with the count held back (the metrics count every one). Thread-safe.
  struct Logs {
    core::ThrottledLog attempt_failed;
    core::ThrottledLog gave_up;
  };

  SharedTargets(std::size_t targets, unsigned breaker_failures,
                std::chrono::milliseconds breaker_cooldown)
      : balancer_(targets, breaker_failures, breaker_cooldown), logs_(targets) {}

  std::optional<std::size_t> pick(Clock::time_point now) {
    const std::lock_guard lock(mutex_);
    return balancer_.pick(now);
  }
  std::optional<std::size_t> pick_after(std::size_t previous, Clock::time_point now) {
    const std::lock_guard lock(mutex_);
    return balancer_.pick_after(previous, now);
  }
  void record_outcome(std::size_t target, AttemptOutcome outcome, Clock::time_point now) {
    const std::lock_guard lock(mutex_);
    balancer_.record_outcome(target, outcome, now);
  }
  void abandon(std::size_t target) {
    const std::lock_guard lock(mutex_);
    balancer_.abandon(target);
  }
  void set_healthy(std::size_t target, bool healthy) {
    const std::lock_guard lock(mutex_);
    balancer_.set_healthy(target, healthy);
  }
  TargetState state(std::size_t target, Clock::time_point now) const {
    const std::lock_guard lock(mutex_);
    return balancer_.state(target, now);
  }
  std::size_t size() const { return balancer_.size(); }
  Logs& logs(std::size_t target) { return logs_.at(target); }

 private:
  mutable std::mutex mutex_;
  RoundRobinBalancer balancer_;
  std::vector<Logs> logs_;
};

}  // namespace gpsrelay::forward
