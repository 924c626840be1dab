// Tests for every state transition of the per-target circuit breaker.
#include "forward/circuit_breaker.h"

#include <gtest/gtest.h>

namespace gpsrelay::forward {
namespace {

using std::chrono::milliseconds;
using State = CircuitBreaker::State;
const CircuitBreaker::Clock::time_point kT0{};

TEST(CircuitBreakerTest, StaysClosedBelowTheThreshold) {
  CircuitBreaker breaker(3, milliseconds(1000));
  breaker.record_failure(kT0);
  breaker.record_failure(kT0);
  EXPECT_EQ(breaker.state(kT0), State::kClosed);
  EXPECT_TRUE(breaker.allow_request(kT0));
}

TEST(CircuitBreakerTest, SuccessResetsTheConsecutiveCount) {
  CircuitBreaker breaker(3, milliseconds(1000));
  breaker.record_failure(kT0);
  breaker.record_failure(kT0);
  breaker.record_success();
  breaker.record_failure(kT0);
  breaker.record_failure(kT0);
  EXPECT_EQ(breaker.state(kT0), State::kClosed);
  EXPECT_EQ(breaker.consecutive_failures(), 2u);
}

TEST(CircuitBreakerTest, OpensAfterConsecutiveFailuresAndRefusesUntilCooldown) {
  CircuitBreaker breaker(3, milliseconds(1000));
  for (int i = 0; i < 3; ++i) breaker.record_failure(kT0);
  EXPECT_EQ(breaker.state(kT0), State::kOpen);
  EXPECT_FALSE(breaker.allow_request(kT0));
  EXPECT_FALSE(breaker.allow_request(kT0 + milliseconds(999)));
  EXPECT_EQ(breaker.state(kT0 + milliseconds(1000)), State::kHalfOpen);
}

TEST(CircuitBreakerTest, HalfOpenAdmitsExactlyOneProbeAtATime) {
  CircuitBreaker breaker(1, milliseconds(100));
  breaker.record_failure(kT0);
  const auto later = kT0 + milliseconds(100);
  EXPECT_TRUE(breaker.allow_request(later));
  EXPECT_FALSE(breaker.allow_request(later));
  EXPECT_FALSE(breaker.allow_request(later + milliseconds(5000)));
}

TEST(CircuitBreakerTest, ProbeSuccessCloses) {
  CircuitBreaker breaker(1, milliseconds(100));
  breaker.record_failure(kT0);
  ASSERT_TRUE(breaker.allow_request(kT0 + milliseconds(100)));
  breaker.record_success();
  EXPECT_EQ(breaker.state(kT0 + milliseconds(100)), State::kClosed);
  EXPECT_TRUE(breaker.allow_request(kT0 + milliseconds(100)));
  EXPECT_TRUE(breaker.allow_request(kT0 + milliseconds(100)));
}

TEST(CircuitBreakerTest, ProbeFailureReopensForAFreshCooldown) {
  CircuitBreaker breaker(2, milliseconds(100));
  breaker.record_failure(kT0);
  breaker.record_failure(kT0);
  const auto probe_time = kT0 + milliseconds(150);
  ASSERT_TRUE(breaker.allow_request(probe_time));
  breaker.record_failure(probe_time);
  EXPECT_EQ(breaker.state(probe_time + milliseconds(99)), State::kOpen);
  EXPECT_EQ(breaker.state(probe_time + milliseconds(100)), State::kHalfOpen);
}

TEST(CircuitBreakerTest, AbandonedProbeLetsAnotherGo) {
  CircuitBreaker breaker(1, milliseconds(100));
  breaker.record_failure(kT0);
  const auto later = kT0 + milliseconds(100);
  ASSERT_TRUE(breaker.allow_request(later));
  breaker.abandon_probe();
  EXPECT_TRUE(breaker.allow_request(later));
}

}  // namespace
}  // namespace gpsrelay::forward
