// Tests for the retry timing and the classification of attempt results.
#include "forward/retry_schedule.h"

#include <gtest/gtest.h>

namespace gpsrelay::forward {
namespace {

using std::chrono::milliseconds;

TEST(RetryScheduleTest, FirstAttemptIsImmediateThenOneRetryPerDelay) {
  const RetrySchedule schedule({milliseconds(5000), milliseconds(10000)});
  EXPECT_EQ(schedule.max_attempts(), 3u);
  EXPECT_EQ(schedule.delay_before_attempt(1), milliseconds(0));
  EXPECT_EQ(schedule.delay_before_attempt(2), milliseconds(5000));
  EXPECT_EQ(schedule.delay_before_attempt(3), milliseconds(10000));
  EXPECT_EQ(schedule.delay_before_attempt(4), std::nullopt);
  EXPECT_EQ(schedule.delay_before_attempt(0), std::nullopt);
}

TEST(RetryScheduleTest, NoDelaysMeansOneAttemptOnly) {
  const RetrySchedule schedule({});
  EXPECT_EQ(schedule.max_attempts(), 1u);
  EXPECT_EQ(schedule.delay_before_attempt(1), milliseconds(0));
  EXPECT_EQ(schedule.delay_before_attempt(2), std::nullopt);
}

TEST(RetryScheduleTest, SuccessIsAny2xx) {
  for (long s : {200L, 201L, 202L, 204L, 299L}) {
    EXPECT_EQ(classify_http_status(s), AttemptOutcome::kSuccess) << s;
  }
}

TEST(RetryScheduleTest, ServerErrorsTimeoutAndTooManyRequestsAreRetried) {
  for (long s : {500L, 502L, 503L, 504L, 599L, 408L, 429L}) {
    EXPECT_EQ(classify_http_status(s), AttemptOutcome::kRetryable) << s;
  }
  EXPECT_EQ(classify_transport_error(), AttemptOutcome::kRetryable);
}

TEST(RetryScheduleTest, OtherAnswersArePermanent) {
  for (long s : {400L, 401L, 403L, 404L, 409L, 413L, 422L, 301L, 302L, 100L}) {
    EXPECT_EQ(classify_http_status(s), AttemptOutcome::kPermanent) << s;
  }
}

}  // namespace
}  // namespace gpsrelay::forward
