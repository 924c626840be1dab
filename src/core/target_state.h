// TargetState: whether a forward target takes deliveries, and why not.
//
// The balancer (forward/balancer.h) decides it; metrics store it and /health
// and /metrics show it. It lives in core/ so that metrics need not know the
// forwarder. Its names are part of the /health output.
#pragma once

namespace gpsrelay::core {

enum class TargetState {
  kUp,
  kDown,             // Failed its active health check.
  kBreakerOpen,      // Too many failures in a row; waiting for the cooldown.
  kBreakerHalfOpen,  // Cooldown over; a probe delivery decides.
};

// "up", "down", "breaker_open" or "breaker_half_open".
constexpr const char* target_state_name(TargetState state) {
  switch (state) {
    case TargetState::kUp:
      return "up";
    case TargetState::kDown:
      return "down";
    case TargetState::kBreakerOpen:
      return "breaker_open";
    case TargetState::kBreakerHalfOpen:
      return "breaker_half_open";
  }
  return "breaker_half_open";
}

}  // namespace gpsrelay::core
