// RetrySchedule: when a packet's next delivery attempt happens, and how an
// attempt's result is classified (contract, "Forwarding"): the first attempt
// is immediate, then one retry after each delay of forward.retry_delays.
// Pure: no clocks, no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

namespace gpsrelay::forward {

enum class AttemptOutcome {
  kSuccess,    // 2xx
  kRetryable,  // transport error, timeout, 5xx, 408, 429
  kPermanent,  // any other answer: retrying would get the same answer
};

// 1xx and 3xx count as permanent: we never follow redirects (a target URL
// that redirects is a configuration error to fix, not to retry against).
AttemptOutcome classify_http_status(long status);
inline AttemptOutcome classify_transport_error() { return AttemptOutcome::kRetryable; }

class RetrySchedule {
 public:
  explicit RetrySchedule(std::vector<std::chrono::milliseconds> delays)
      : delays_(std::move(delays)) {}

  unsigned max_attempts() const { return static_cast<unsigned>(delays_.size()) + 1; }
  // The wait before attempt `attempt` (1-based): zero for the first,
  // nullopt once attempts are exhausted.
  std::optional<std::chrono::milliseconds> delay_before_attempt(unsigned attempt) const;

 private:
  std::vector<std::chrono::milliseconds> delays_;
};

}  // namespace gpsrelay::forward
