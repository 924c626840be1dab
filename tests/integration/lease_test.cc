// Once-per-fleet jobs (queue/lease.h) with two real gpsrelayd instances on
// one redis-server: the topics' delayed-message mover runs on the instance
// holding its lease, and the other takes over when that one is killed -9.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <iostream>
#include <string>

#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/prometheus.h"
#include "support/topics_fixture.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

double metric(const DaemonProcess& daemon, const std::string& name,
              const std::map<std::string, std::string>& labels = {}) {
  return parse_metrics(http_get(daemon.url("/metrics")).body).sum(name, labels).value_or(-1);
}

bool holds_delayed_lease(const DaemonProcess& daemon) {
  return metric(daemon, "gpsrelay_lease_held", {{"job", "topics-delayed"}}) == 1;
}

class LeaseTest : public TopicsTest {};

TEST_F(LeaseTest, OneInstanceMovesDelayedMessagesAndAnotherTakesOverWhenItDies) {
  start_topics();
  DaemonConfig second_config = daemon().config();
  second_config.erase("http", "listen");  // its own port
  DaemonOptions second_options;
  second_options.config = second_config;
  DaemonProcess second(redis().address(), second_options);

  // Exactly one holds the lease.
  ASSERT_TRUE(eventually(
      [&] { return holds_delayed_lease(daemon()) || holds_delayed_lease(second); }, seconds(5)));
  EXPECT_NE(holds_delayed_lease(daemon()), holds_delayed_lease(second));
  DaemonProcess& holder = holds_delayed_lease(daemon()) ? daemon() : second;
  DaemonProcess& other = &holder == &second ? daemon() : second;

  create("jobs", 1);
  constexpr int kDelayed = 20;
  for (int i = 0; i < kDelayed; ++i) {
    ASSERT_EQ(
        http_request("POST", other.url("/v1/topics/jobs/publish"),
                     R"({"value":)" + std::to_string(i) + R"(,"delay":"200ms"})", kJsonContentType)
            .status,
        201);
  }
  ASSERT_TRUE(eventually(
      [&] { return metric(holder, "gpsrelay_topics_delayed_released_total") == kDelayed; },
      seconds(10)));
  EXPECT_EQ(metric(other, "gpsrelay_topics_delayed_released_total"), 0);

  // The holder dies; its key runs out (6 s) and the survivor claims it.
  holder.send_signal(SIGKILL);
  ASSERT_TRUE(holder.wait_for_exit(seconds(5)).has_value());
  const Clock::time_point killed_at = Clock::now();
  ASSERT_EQ(http_request("POST", other.url("/v1/topics/jobs/publish"),
                         R"({"value":"after","delay":"100ms"})", kJsonContentType)
                .status,
            201);
  ASSERT_TRUE(eventually([&] { return holds_delayed_lease(other); }, seconds(15)));
  const auto takeover = std::chrono::duration_cast<milliseconds>(Clock::now() - killed_at).count();
  ASSERT_TRUE(eventually(
      [&] { return metric(other, "gpsrelay_topics_delayed_released_total") == 1; }, seconds(5)));
  RecordProperty("takeover_ms", static_cast<int>(takeover));
  std::cout << "lease taken over " << takeover << " ms after the holder's kill -9\n";
  EXPECT_NE(other.log().find("lease taken"), std::string::npos);
}

}  // namespace
}  // namespace gpsrelay::testing
