// Breaker state machine (see circuit_breaker.h).
#include "forward/circuit_breaker.h"

namespace gpsrelay::forward {

CircuitBreaker::State CircuitBreaker::state(Clock::time_point now) const {
  if (!open_) return State::kClosed;
  return now - opened_at_ >= cooldown_ ? State::kHalfOpen : State::kOpen;
}

bool CircuitBreaker::allow_request(Clock::time_point now) {
  switch (state(now)) {
    case State::kClosed:
      return true;
    case State::kOpen:
      return false;
    case State::kHalfOpen:
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::record_success() {
  consecutive_failures_ = 0;
  open_ = false;
  probe_in_flight_ = false;
}

void CircuitBreaker::record_failure(Clock::time_point now) {
  ++consecutive_failures_;
  // A failed probe reopens at once; a closed breaker opens at the threshold.
  if (open_ || consecutive_failures_ >= failure_threshold_) {
    open_ = true;
    opened_at_ = now;
  }
  probe_in_flight_ = false;
}

}  // namespace gpsrelay::forward
