// Unit tests for the GCRA per-client rate limiter. Time is stepped by hand.
#include "http/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gpsrelay::http {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSecond = 1'000 * kMs;
// A plausible steady-clock reading, far from zero.
constexpr std::int64_t kStart = 123'456 * kSecond;

int admitted_count(ClientRateLimiter& limiter, std::string_view key, std::int64_t now, int tries) {
  int admitted = 0;
  for (int i = 0; i < tries; ++i) admitted += limiter.admit(key, now).allowed ? 1 : 0;
  return admitted;
}

TEST(ClientRateLimiterTest, AdmitsTheBurstAtOnceThenRefuses) {
  ClientRateLimiter limiter(10, 5);
  for (int i = 0; i < 5; ++i) {
    const RateDecision decision = limiter.admit("192.0.2.1", kStart);
    EXPECT_TRUE(decision.allowed) << i;
    EXPECT_EQ(decision.retry_after_ms, 0);
  }
  const RateDecision refused = limiter.admit("192.0.2.1", kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after_ms, 0);
}

TEST(ClientRateLimiterTest, BurstOfOneAdmitsOneRequestPerInterval) {
  ClientRateLimiter limiter(2, 1);
  EXPECT_TRUE(limiter.admit("a", kStart).allowed);
  EXPECT_FALSE(limiter.admit("a", kStart).allowed);
  EXPECT_FALSE(limiter.admit("a", kStart + 499 * kMs).allowed);
  EXPECT_TRUE(limiter.admit("a", kStart + 500 * kMs).allowed);
  EXPECT_FALSE(limiter.admit("a", kStart + 500 * kMs).allowed);
}

TEST(ClientRateLimiterTest, RetryAfterIsExactlyTheTimeUntilTheNextAdmission) {
  ClientRateLimiter limiter(1, 1);
  ASSERT_TRUE(limiter.admit("a", kStart).allowed);
  const RateDecision refused = limiter.admit("a", kStart + 250 * kMs);
  ASSERT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_ms, 750);
  EXPECT_FALSE(limiter.admit("a", kStart + 250 * kMs + refused.retry_after_ms * kMs - 1).allowed);
  EXPECT_TRUE(limiter.admit("a", kStart + 250 * kMs + refused.retry_after_ms * kMs).allowed);
}

TEST(ClientRateLimiterTest, RetryAfterRoundsUpToWholeMilliseconds) {
  ClientRateLimiter limiter(1, 1);
  ASSERT_TRUE(limiter.admit("a", kStart).allowed);
  EXPECT_EQ(limiter.admit("a", kStart + kSecond - 1).retry_after_ms, 1);
  EXPECT_EQ(limiter.admit("a", kStart + 1).retry_after_ms, 1000);
}

TEST(ClientRateLimiterTest, RetryAfterGrowsWithTheDeficitAfterABurst) {
  ClientRateLimiter limiter(10, 3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.admit("a", kStart).allowed);
  EXPECT_EQ(limiter.admit("a", kStart).retry_after_ms, 100);
  EXPECT_EQ(limiter.admit("a", kStart + 40 * kMs).retry_after_ms, 60);
}

TEST(ClientRateLimiterTest, RefusedRequestsDoNotConsumeBudget) {
  ClientRateLimiter limiter(1, 1);
  ASSERT_TRUE(limiter.admit("a", kStart).allowed);
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(limiter.admit("a", kStart + i * kMs).allowed);
  EXPECT_TRUE(limiter.admit("a", kStart + kSecond).allowed);
}

TEST(ClientRateLimiterTest, RefillsOneRequestPerIntervalOverSteppedTime) {
  ClientRateLimiter limiter(10, 5);
  EXPECT_EQ(admitted_count(limiter, "a", kStart, 10), 5);
  EXPECT_EQ(admitted_count(limiter, "a", kStart + 100 * kMs, 10), 1);
  EXPECT_EQ(admitted_count(limiter, "a", kStart + 350 * kMs, 10), 2);
  // Idle long enough to refill completely, but never beyond the burst.
  EXPECT_EQ(admitted_count(limiter, "a", kStart + 60 * kSecond, 10), 5);
}

TEST(ClientRateLimiterTest, SustainedTrafficIsHeldToTheRate) {
  ClientRateLimiter limiter(50, 10);
  int admitted = 0;
  // Ten seconds of one request per millisecond.
  for (std::int64_t t = 0; t < 10'000; ++t) {
    admitted += limiter.admit("a", kStart + t * kMs).allowed ? 1 : 0;
  }
  EXPECT_EQ(admitted, 10 + 50 * 10 - 1);
}

TEST(ClientRateLimiterTest, DistinctClientsHaveIndependentBudgets) {
  ClientRateLimiter limiter(1, 2);
  EXPECT_EQ(admitted_count(limiter, "192.0.2.1", kStart, 5), 2);
  EXPECT_EQ(admitted_count(limiter, "192.0.2.2", kStart, 5), 2);
  EXPECT_EQ(admitted_count(limiter, "2001:db8::1", kStart, 5), 2);
  EXPECT_FALSE(limiter.admit("192.0.2.1", kStart).allowed);
}

TEST(ClientRateLimiterTest, ClientsSharingASlotShareOneBudget) {
  ClientRateLimiter limiter(1, 2, 1);  // one slot: every key collides
  EXPECT_TRUE(limiter.admit("a", kStart).allowed);
  EXPECT_TRUE(limiter.admit("b", kStart).allowed);
  EXPECT_FALSE(limiter.admit("c", kStart).allowed);
}

TEST(ClientRateLimiterTest, FractionalRatesAndBurstsWork) {
  ClientRateLimiter limiter(0.5, 1.5);  // one request per 2 s, tolerance 3 s
  EXPECT_TRUE(limiter.admit("a", kStart).allowed);
  const RateDecision refused = limiter.admit("a", kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_ms, 1000);
  EXPECT_TRUE(limiter.admit("a", kStart + kSecond).allowed);
}

TEST(ClientRateLimiterTest, WorksWithClockValuesNearZeroAndNegative) {
  ClientRateLimiter limiter(1, 1);
  EXPECT_TRUE(limiter.admit("a", 0).allowed);
  EXPECT_FALSE(limiter.admit("a", 0).allowed);
  ClientRateLimiter negative(1, 1);
  EXPECT_TRUE(negative.admit("a", -5 * kSecond).allowed);
  EXPECT_FALSE(negative.admit("a", -5 * kSecond).allowed);
}

TEST(ClientRateLimiterTest, VeryHighRatesNeverRefuseWithinTheBurst) {
  ClientRateLimiter limiter(1e12, 1000);
  EXPECT_EQ(admitted_count(limiter, "a", kStart, 1000), 1000);
}

TEST(ClientRateLimiterTest, VeryLowRatesDoNotOverflow) {
  ClientRateLimiter limiter(1e-30, 1e30);
  EXPECT_TRUE(limiter.admit("a", kStart).allowed);
  const RateDecision refused = limiter.admit("a", kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after_ms, 0);
}

TEST(ClientRateLimiterTest, RejectsInvalidConfiguration) {
  EXPECT_THROW(ClientRateLimiter(0, 1), std::invalid_argument);
  EXPECT_THROW(ClientRateLimiter(-1, 1), std::invalid_argument);
  EXPECT_THROW(ClientRateLimiter(1, 0), std::invalid_argument);
  EXPECT_THROW(ClientRateLimiter(1, 0.5), std::invalid_argument);
  EXPECT_THROW(ClientRateLimiter(std::numeric_limits<double>::quiet_NaN(), 1),
               std::invalid_argument);
  EXPECT_THROW(ClientRateLimiter(1, std::numeric_limits<double>::infinity()),
               std::invalid_argument);
  EXPECT_THROW(ClientRateLimiter(std::numeric_limits<double>::infinity(), 1),
               std::invalid_argument);
}

TEST(ClientRateLimiterTest, ZeroSlotsIsTreatedAsOne) {
  ClientRateLimiter limiter(1, 1, 0);
  EXPECT_TRUE(limiter.admit("a", kStart).allowed);
  EXPECT_FALSE(limiter.admit("b", kStart).allowed);
}

TEST(ClientRateLimiterTest, ConcurrentAdmitsNeverGrantMoreThanTheBudget) {
  // A large burst keeps all threads contending on the slot for a long time;
  // a lost update (load then store instead of CAS) shows up as an excess.
  constexpr int kBurst = 100000;
  constexpr int kThreads = 4;
  constexpr int kTriesPerThread = 50000;
  for (int round = 0; round < 5; ++round) {
    ClientRateLimiter limiter(1, kBurst);
    std::atomic<int> admitted{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        while (!go.load(std::memory_order_acquire)) {
        }
        int mine = 0;
        for (int i = 0; i < kTriesPerThread; ++i) mine += limiter.admit("a", kStart).allowed;
        admitted.fetch_add(mine);
      });
    }
    go.store(true, std::memory_order_release);
    for (std::thread& thread : threads) thread.join();
    ASSERT_EQ(admitted.load(), kBurst) << "round " << round;
  }
}

TEST(ClientRateLimiterTest, ConcurrentAdmitsWithSteppedTimeStayWithinRatePlusBurst) {
  constexpr int kThreads = 4;
  ClientRateLimiter limiter(100, 10);  // 10 ms per request
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      int mine = 0;
      for (std::int64_t ms = 0; ms <= 1000; ++ms) {
        for (int i = 0; i < 3; ++i) mine += limiter.admit("a", kStart + ms * kMs).allowed;
      }
      admitted.fetch_add(mine);
    });
  }
  for (std::thread& thread : threads) thread.join();
  // Over one second at 100/s with a burst of 10: at most 10 + 100 admissions.
  EXPECT_LE(admitted.load(), 110);
  EXPECT_GE(admitted.load(), 100);
}

}  // namespace
}  // namespace gpsrelay::http
