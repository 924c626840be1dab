// Tests for round-robin target choice over health and breakers.
#include "forward/balancer.h"

#include <gtest/gtest.h>

#include <map>

namespace gpsrelay::forward {
namespace {

using std::chrono::milliseconds;
const RoundRobinBalancer::Clock::time_point kT0{};

std::map<std::size_t, int> share(RoundRobinBalancer& balancer, int picks) {
  std::map<std::size_t, int> counts;
  for (int i = 0; i < picks; ++i) {
    const auto chosen = balancer.pick(kT0);
    EXPECT_TRUE(chosen.has_value());
    if (chosen) ++counts[*chosen];
  }
  return counts;
}

TEST(BalancerTest, SplitsEvenlyOverTwoAndThreeTargets) {
  RoundRobinBalancer two(2, 5, milliseconds(1000));
  EXPECT_EQ(share(two, 3000), (std::map<std::size_t, int>{{0, 1500}, {1, 1500}}));
  RoundRobinBalancer three(3, 5, milliseconds(1000));
  EXPECT_EQ(share(three, 3000), (std::map<std::size_t, int>{{0, 1000}, {1, 1000}, {2, 1000}}));
}

TEST(BalancerTest, SkipsADownTargetWithoutDoublingItsSuccessorsShare) {
  RoundRobinBalancer balancer(3, 5, milliseconds(1000));
  balancer.set_healthy(1, false);
  EXPECT_EQ(share(balancer, 3000), (std::map<std::size_t, int>{{0, 1500}, {2, 1500}}));
  EXPECT_EQ(balancer.state(1, kT0), TargetState::kDown);
}

TEST(BalancerTest, SkipsATargetWhoseBreakerIsOpen) {
  RoundRobinBalancer balancer(2, 2, milliseconds(1000));
  balancer.record_outcome(0, AttemptOutcome::kRetryable, kT0);
  balancer.record_outcome(0, AttemptOutcome::kRetryable, kT0);
  EXPECT_EQ(balancer.state(0, kT0), TargetState::kBreakerOpen);
  EXPECT_EQ(share(balancer, 10), (std::map<std::size_t, int>{{1, 10}}));
}

TEST(BalancerTest, PermanentAnswersDoNotOpenTheBreaker) {
  RoundRobinBalancer balancer(1, 1, milliseconds(1000));
  balancer.record_outcome(0, AttemptOutcome::kPermanent, kT0);
  EXPECT_EQ(balancer.state(0, kT0), TargetState::kUp);
}

TEST(BalancerTest, ATargetComesBackThroughAHalfOpenProbeAfterItsCooldown) {
  RoundRobinBalancer balancer(2, 1, milliseconds(500));
  balancer.record_outcome(0, AttemptOutcome::kRetryable, kT0);
  const auto later = kT0 + milliseconds(500);
  EXPECT_EQ(balancer.state(0, later), TargetState::kBreakerHalfOpen);
  // One probe goes to target 0; until it answers, the rest go to target 1.
  std::map<std::size_t, int> counts;
  for (int i = 0; i < 6; ++i) ++counts[*balancer.pick(later)];
  EXPECT_EQ(counts[0], 1);
  EXPECT_EQ(counts[1], 5);
  balancer.record_outcome(0, AttemptOutcome::kSuccess, later);
  EXPECT_EQ(balancer.state(0, later), TargetState::kUp);
}

TEST(BalancerTest, RetryGoesToTheNextTargetInTheRotation) {
  RoundRobinBalancer balancer(3, 5, milliseconds(1000));
  EXPECT_EQ(balancer.pick_after(0, kT0), 1u);
  EXPECT_EQ(balancer.pick_after(2, kT0), 0u);
  balancer.set_healthy(1, false);
  EXPECT_EQ(balancer.pick_after(0, kT0), 2u);
}

TEST(BalancerTest, RetryReturnsToTheSameTargetWhenItIsTheOnlyOne) {
  RoundRobinBalancer balancer(2, 5, milliseconds(1000));
  balancer.set_healthy(1, false);
  EXPECT_EQ(balancer.pick_after(0, kT0), 0u);
  RoundRobinBalancer single(1, 5, milliseconds(1000));
  EXPECT_EQ(single.pick_after(0, kT0), 0u);
}

TEST(BalancerTest, NothingAvailableIsNullopt) {
  RoundRobinBalancer balancer(2, 1, milliseconds(1000));
  balancer.set_healthy(0, false);
  balancer.record_outcome(1, AttemptOutcome::kRetryable, kT0);
  EXPECT_EQ(balancer.pick(kT0), std::nullopt);
  EXPECT_EQ(balancer.pick_after(1, kT0), std::nullopt);
  RoundRobinBalancer empty(0, 1, milliseconds(1000));
  EXPECT_EQ(empty.pick(kT0), std::nullopt);
  EXPECT_EQ(empty.pick_after(0, kT0), std::nullopt);
}

}  // namespace
}  // namespace gpsrelay::forward
