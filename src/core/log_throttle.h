// Rate limiting for repeated log lines. An outage or a flood repeats the
// same error thousands of times a second; the journal should get the first
// line at once, then one line per interval saying how many were held back.
//
// LogThrottle is the policy (time passed in, no clock, no lock: unit-tested
// directly); ThrottledLog is what callers hold: thread-safe, and it adds the
// SUPPRESSED field to the line it lets through.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string_view>

#include "core/log.h"

namespace gpsrelay::core {

class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::nanoseconds interval) : interval_(interval) {}

  // Whether a line at `now` goes out. When it does, `suppressed` is the
  // number of lines held back since the previous one that went out.
  bool admit(std::chrono::steady_clock::time_point now, std::uint64_t& suppressed) {
    if (any_ && now - last_ < interval_) {
      ++held_back_;
      return false;
    }
    any_ = true;
    last_ = now;
    suppressed = held_back_;
    held_back_ = 0;
    return true;
  }

 private:
  std::chrono::nanoseconds interval_;
  // Not std::optional: GCC 12 then warns maybe-uninitialized under the
  // sanitizers (a false positive, but -Werror).
  bool any_ = false;
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t held_back_ = 0;
};

class ThrottledLog {
 public:
  static constexpr std::chrono::seconds kDefaultInterval{10};

  explicit ThrottledLog(std::chrono::nanoseconds interval = kDefaultInterval)
      : throttle_(interval) {}

  void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

 private:
  std::mutex mutex_;
  LogThrottle throttle_;
};

}  // namespace gpsrelay::core
