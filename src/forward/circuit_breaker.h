// CircuitBreaker: one target's breaker. Closed until failure_threshold
// consecutive failures, then open for `cooldown`; then half-open, where
// exactly one probe may go at a time: its success closes the breaker, its
// failure opens it for another cooldown. Time is passed in, so tests step it.
//
// Only retryable failures count (timeouts, refused connections, 5xx): a
// target answering 4xx is up, the packet is what is wrong.
#pragma once

#include <chrono>

namespace gpsrelay::forward {

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kClosed, kOpen, kHalfOpen };

  CircuitBreaker(unsigned failure_threshold, std::chrono::milliseconds cooldown)
      : failure_threshold_(failure_threshold == 0 ? 1 : failure_threshold), cooldown_(cooldown) {}

  State state(Clock::time_point now) const;
  // Whether a request may go to this target now. In half-open state this
  // hands out the single probe: true once, until its result is recorded
  // or the probe is abandoned.
  bool allow_request(Clock::time_point now);
  void record_success();
  void record_failure(Clock::time_point now);
  // The probe was never sent or its result is unknown: let another go.
  void abandon_probe() { probe_in_flight_ = false; }

  unsigned consecutive_failures() const { return consecutive_failures_; }

 private:
  const unsigned failure_threshold_;
  const std::chrono::milliseconds cooldown_;
  unsigned consecutive_failures_ = 0;
  bool open_ = false;
  bool probe_in_flight_ = false;
  Clock::time_point opened_at_{};
};

}  // namespace gpsrelay::forward
