// Retry timing and outcome classification (see retry_schedule.h).
#include "forward/retry_schedule.h"

namespace gpsrelay::forward {

AttemptOutcome classify_http_status(long status) {
  if (status >= 200 && status < 300) return AttemptOutcome::kSuccess;
  if (status >= 500 || status == 408 || status == 429) return AttemptOutcome::kRetryable;
  return AttemptOutcome::kPermanent;
}

std::optional<std::chrono::milliseconds> RetrySchedule::delay_before_attempt(
    unsigned attempt) const {
  if (attempt == 0 || attempt > max_attempts()) return std::nullopt;
  if (attempt == 1) return std::chrono::milliseconds(0);
  return delays_[attempt - 2];
}

}  // namespace gpsrelay::forward
