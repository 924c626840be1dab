// Deadlines and polling: the only way the integration tests wait for another
// process. A test never sleeps for a fixed time to "let something happen"; it
// states the condition it needs and how long it is willing to wait for it.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace gpsrelay::testing {

using Clock = std::chrono::steady_clock;

inline constexpr std::chrono::milliseconds kDefaultPollInterval{20};

// A point in time a wait must not pass.
class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds timeout) : at_(Clock::now() + timeout) {}

  bool expired() const { return Clock::now() >= at_; }

  // Zero once expired, never negative.
  std::chrono::milliseconds remaining() const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - Clock::now());
    return left.count() > 0 ? left : std::chrono::milliseconds(0);
  }

  Clock::time_point time_point() const { return at_; }

 private:
  Clock::time_point at_;
};

// Calls `predicate` until it returns true or `timeout` has passed and returns
// its last result. The predicate runs at least once, and once more after the
// deadline if the previous call was before it, so a slow predicate still gets
// a last chance.
template <typename Predicate>
bool eventually(Predicate&& predicate, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = kDefaultPollInterval) {
  const Deadline deadline(timeout);
  while (true) {
    const bool was_expired = deadline.expired();
    if (predicate()) return true;
    if (was_expired) return false;
    std::this_thread::sleep_for(std::min(interval, deadline.remaining()));
  }
}

// Milliseconds since `start`, for asserting on how long something took.
inline std::chrono::milliseconds elapsed_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

}  // namespace gpsrelay::testing
