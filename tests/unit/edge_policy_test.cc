// Tests for the small policies of the HTTP edge and the Redis error path:
// the shared budget, the log throttle, the classification of refused
// writes, and the registry's "Redis refuses writes" verdict.
#include <gtest/gtest.h>

#include <chrono>

#include "core/log_throttle.h"
#include "core/memory_return.h"
#include "core/metrics.h"
#include "http/shared_budget.h"
#include "queue/write_error.h"

namespace gpsrelay {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(SharedBudgetTest, TryAcquireTakesOnlyWhatFits) {
  http::SharedBudget budget(10);
  EXPECT_TRUE(budget.try_acquire(6));
  EXPECT_FALSE(budget.try_acquire(5));
  EXPECT_EQ(budget.used(), 6U);
  EXPECT_TRUE(budget.try_acquire(4));
  EXPECT_FALSE(budget.try_acquire(1));
  budget.release(10);
  EXPECT_EQ(budget.used(), 0U);
}

TEST(SharedBudgetTest, TryAcquireOfMoreThanTheLimitNeverOverflows) {
  http::SharedBudget budget(10);
  EXPECT_FALSE(budget.try_acquire(11));
  EXPECT_FALSE(budget.try_acquire(~std::uint64_t{0}));
  EXPECT_EQ(budget.used(), 0U);
}

TEST(SharedBudgetTest, TakePeakReportsTheHighestUseSinceTheLastCall) {
  http::SharedBudget budget(100);
  budget.acquire_anyway(70);
  budget.release(60);
  EXPECT_EQ(budget.take_peak(), 70U);
  EXPECT_EQ(budget.take_peak(), 10U);  // the next period starts at what is used
  budget.release(10);
  EXPECT_EQ(budget.take_peak(), 10U);
  EXPECT_EQ(budget.take_peak(), 0U);
}

TEST(SharedBudgetTest, AcquireAnywayCountsPastTheLimitAndSaysSo) {
  http::SharedBudget budget(10);
  EXPECT_TRUE(budget.acquire_anyway(10));
  EXPECT_FALSE(budget.acquire_anyway(1));
  EXPECT_EQ(budget.used(), 11U);
  budget.release(1);
  EXPECT_TRUE(budget.acquire_anyway(0));
}

TEST(LogThrottleTest, FirstLineGoesOutThenOnePerIntervalWithTheCount) {
  core::LogThrottle throttle(seconds(10));
  const auto t0 = std::chrono::steady_clock::time_point(seconds(1000));
  std::uint64_t suppressed = 99;
  EXPECT_TRUE(throttle.admit(t0, suppressed));
  EXPECT_EQ(suppressed, 0U);
  for (int i = 1; i <= 500; ++i) EXPECT_FALSE(throttle.admit(t0 + milliseconds(i), suppressed));
  EXPECT_FALSE(throttle.admit(t0 + milliseconds(9999), suppressed));
  EXPECT_TRUE(throttle.admit(t0 + seconds(10), suppressed));
  EXPECT_EQ(suppressed, 501U);
  EXPECT_TRUE(throttle.admit(t0 + seconds(30), suppressed));
  EXPECT_EQ(suppressed, 0U);
}

TEST(WriteErrorTest, ClassifiesRedisErrorRepliesByTheirCode) {
  using queue::WriteError;
  EXPECT_EQ(queue::classify_write_error("OOM command not allowed when used memory > 'maxmemory'."),
            WriteError::kOutOfMemory);
  EXPECT_EQ(queue::classify_write_error("READONLY You can't write against a read only replica."),
            WriteError::kReadOnly);
  EXPECT_EQ(queue::classify_write_error("MISCONF Redis is configured to save RDB snapshots"),
            WriteError::kMisconf);
  EXPECT_EQ(queue::classify_write_error("NOSCRIPT No matching script."), WriteError::kOther);
  EXPECT_EQ(queue::classify_write_error(""), WriteError::kOther);
  EXPECT_STREQ(core::kRedisWriteErrorNames[static_cast<std::size_t>(WriteError::kReadOnly)],
               "readonly");
}

TEST(RedisWriteRefusalTest, IsTheLatestRefusalUnlessAnyWorkerSucceededSince) {
  core::MetricsRegistry registry(2);
  constexpr std::int64_t kSecond = 1'000'000'000;
  const auto window = seconds(10);
  EXPECT_EQ(registry.redis_write_refusal(100 * kSecond, window), nullptr);

  registry.worker(0).redis_refusing = 1 + static_cast<int>(queue::WriteError::kOutOfMemory);
  registry.worker(0).redis_refused_at_ns = 100 * kSecond;
  EXPECT_STREQ(registry.redis_write_refusal(101 * kSecond, window), "oom");
  // Old news after the window.
  EXPECT_EQ(registry.redis_write_refusal(111 * kSecond, window), nullptr);
  // Another worker's later success ends it for all.
  registry.worker(1).redis_append_ok_at_ns = 100 * kSecond + 1;
  EXPECT_EQ(registry.redis_write_refusal(101 * kSecond, window), nullptr);
  // A later refusal on that worker starts it again.
  registry.worker(1).redis_refusing = 1 + static_cast<int>(queue::WriteError::kReadOnly);
  registry.worker(1).redis_refused_at_ns = 102 * kSecond;
  EXPECT_STREQ(registry.redis_write_refusal(103 * kSecond, window), "readonly");
}

TEST(MemoryReturnTest, TrimsOnceWhenABurstIsOver) {
  constexpr std::uint64_t kMiB = 1024 * 1024;
  core::MemoryReturn policy(16 * kMiB);
  // Small traffic never counts as a burst.
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(policy.should_trim(i * kMiB, i * kMiB));
  EXPECT_FALSE(policy.should_trim(0, 0));
  // A burst: not while it lasts, once when it is over, not again after.
  EXPECT_FALSE(policy.should_trim(200 * kMiB, 200 * kMiB));
  EXPECT_FALSE(policy.should_trim(200 * kMiB, 120 * kMiB));
  EXPECT_FALSE(policy.should_trim(120 * kMiB, 40 * kMiB));
  EXPECT_TRUE(policy.should_trim(40 * kMiB, 2 * kMiB));
  EXPECT_FALSE(policy.should_trim(2 * kMiB, 0));
  EXPECT_FALSE(policy.should_trim(1 * kMiB, 1 * kMiB));
}

TEST(MemoryReturnTest, ABurstBetweenTwoSamplesStillCounts) {
  constexpr std::uint64_t kMiB = 1024 * 1024;
  core::MemoryReturn policy(16 * kMiB);
  EXPECT_TRUE(policy.should_trim(80 * kMiB, 0));
}

}  // namespace
}  // namespace gpsrelay
