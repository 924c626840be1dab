// Round-robin target choice over health and breakers (see balancer.h).
#include "forward/balancer.h"

namespace gpsrelay::forward {

RoundRobinBalancer::RoundRobinBalancer(std::size_t targets, unsigned breaker_failures,
                                       std::chrono::milliseconds breaker_cooldown)
    : targets_(targets, Target{CircuitBreaker(breaker_failures, breaker_cooldown)}) {}

std::optional<std::size_t> RoundRobinBalancer::pick(Clock::time_point now) {
  const std::optional<std::size_t> chosen = pick_from(next_, std::nullopt, now);
  // Advance past the chosen target, not by one: a skipped (down) target
  // must not hand its share to its successor.
  if (chosen) next_ = (*chosen + 1) % targets_.size();
  return chosen;
}

std::optional<std::size_t> RoundRobinBalancer::pick_after(std::size_t previous,
                                                          Clock::time_point now) {
  if (targets_.empty()) return std::nullopt;
  const std::size_t start = (previous + 1) % targets_.size();
  if (auto other = pick_from(start, previous, now)) return other;
  return pick_from(previous, std::nullopt, now);
}

std::optional<std::size_t> RoundRobinBalancer::pick_from(std::size_t start,
                                                         std::optional<std::size_t> skip,
                                                         Clock::time_point now) {
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    const std::size_t index = (start + i) % targets_.size();
    if (skip && *skip == index) continue;
    Target& target = targets_[index];
    if (target.healthy && target.breaker.allow_request(now)) return index;
  }
  return std::nullopt;
}

void RoundRobinBalancer::record_outcome(std::size_t target, AttemptOutcome outcome,
                                        Clock::time_point now) {
  CircuitBreaker& breaker = targets_.at(target).breaker;
  if (outcome == AttemptOutcome::kRetryable) {
    breaker.record_failure(now);
  } else {
    breaker.record_success();  // a 4xx answer still proves the target is up
  }
}

void RoundRobinBalancer::abandon(std::size_t target) {
  targets_.at(target).breaker.abandon_probe();
}

void RoundRobinBalancer::set_healthy(std::size_t target, bool healthy) {
  targets_.at(target).healthy = healthy;
}

TargetState RoundRobinBalancer::state(std::size_t target, Clock::time_point now) const {
  const Target& t = targets_.at(target);
  if (!t.healthy) return TargetState::kDown;
  switch (t.breaker.state(now)) {
    case CircuitBreaker::State::kClosed:
      return TargetState::kUp;
    case CircuitBreaker::State::kOpen:
      return TargetState::kBreakerOpen;
    case CircuitBreaker::State::kHalfOpen:
      return TargetState::kBreakerHalfOpen;
  }
  return TargetState::kUp;
}

}  // namespace gpsrelay::forward
