// RoundRobinBalancer: which target a delivery attempt goes to. Round-robin
// over the targets that are up (active health checks, when configured) and
// whose breaker lets a request through; a retry goes to the next target in
// the rotation after the one that failed.
//
// Single-threaded by design: the one forwarder loop owns it, so it needs no
// locks; metrics copy its state out.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "core/target_state.h"
#include "forward/circuit_breaker.h"
#include "forward/retry_schedule.h"

namespace gpsrelay::forward {

using TargetState = core::TargetState;

class RoundRobinBalancer {
 public:
  using Clock = CircuitBreaker::Clock;

  RoundRobinBalancer(std::size_t targets, unsigned breaker_failures,
                     std::chrono::milliseconds breaker_cooldown);

  // The next available target in the rotation, or nullopt if none is.
  std::optional<std::size_t> pick(Clock::time_point now);
  // For a retry: the first available target after `previous` in the
  // rotation (`previous` itself only when it is the only one available).
  std::optional<std::size_t> pick_after(std::size_t previous, Clock::time_point now);

  void record_outcome(std::size_t target, AttemptOutcome outcome, Clock::time_point now);
  // The attempt's result will never be known (shutdown): free a probe slot.
  void abandon(std::size_t target);
  // Active health check result; a down target gets no traffic until a
  // check succeeds.
  void set_healthy(std::size_t target, bool healthy);

  TargetState state(std::size_t target, Clock::time_point now) const;
  std::size_t size() const { return targets_.size(); }

 private:
  struct Target {
    CircuitBreaker breaker;
    bool healthy = true;
  };
  std::optional<std::size_t> pick_from(std::size_t start, std::optional<std::size_t> skip,
                                       Clock::time_point now);

  std::vector<Target> targets_;
  std::size_t next_ = 0;
};

}  // namespace gpsrelay::forward
