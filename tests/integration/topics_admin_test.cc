// The topics API's operator side and its durability against a real
// gpsrelayd and redis-server: /v1/admin/health and /metrics aliases, the
// cluster view (instances on one Redis and the groups' consumers), lag and
// pending per group and partition in /metrics; and kill -9 of gpsrelayd
// while messages are published and consumed: every publish answered 201
// is consumed at least once afterwards.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "support/eventually.h"
#include "support/prometheus.h"
#include "support/topics_fixture.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

bool has(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

class TopicsAdminTest : public TopicsTest {};

TEST_F(TopicsAdminTest, AdminAliasesAndTheClusterView) {
  start_topics();
  EXPECT_EQ(get("/v1/admin/health").status, 200);
  EXPECT_TRUE(has(get("/v1/admin/health").body, R"("topics")"));
  EXPECT_TRUE(has(get("/v1/admin/metrics").body, "gpsrelay_topics_publish_latency_seconds"));

  create("jobs", 1);
  const std::string consumer = join("workers", R"(["jobs"])");
  DaemonOptions second_options;
  second_options.config.set("topics", "enabled", "true");
  DaemonProcess second(redis().address(), second_options);
  // Each instance registers itself every 2 s.
  ASSERT_TRUE(eventually(
      [&] {
        const std::string view = get("/v1/admin/cluster").body;
        return has(view, "-" + std::to_string(daemon().port()) + R"(")") &&
               has(view, "-" + std::to_string(second.port()) + R"(")");
      },
      seconds(5)))
      << get("/v1/admin/cluster").body;
  const std::string view = http_get(second.url("/v1/admin/cluster")).body;
  EXPECT_TRUE(has(view, R"("alive":true)")) << view;
  EXPECT_TRUE(has(view, R"({"name":"workers","topics":["jobs"],"consumers":[{"id":")" + consumer))
      << view;
  EXPECT_TRUE(has(view, R"("instance":")")) << view;
}

TEST_F(TopicsAdminTest, LagAndPendingPerGroupAndPartitionInMetrics) {
  start_topics();
  create("jobs", 2);
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(post("/v1/topics/jobs/publish", R"({"key":"same","value":1})").status, 201);
  }
  const std::string consumer = join("workers", R"(["jobs"])");
  ASSERT_EQ(poll("workers", consumer, "max=2").size(), 2u);
  // Read every 5 s by the topics thread.
  ASSERT_TRUE(eventually(
      [&] {
        const MetricsPage page = scrape_metrics();
        return page.sum("gpsrelay_topics_pending", {{"group", "workers"}, {"topic", "jobs"}}) ==
                   2 &&
               page.sum("gpsrelay_topics_consumer_lag",
                        {{"group", "workers"}, {"topic", "jobs"}}) == 4;
      },
      seconds(8)));
}

TEST_F(TopicsAdminTest, KillDashNineLosesNoAcknowledgedPublish) {
  start_topics({{"visibility_timeout", "1s"}});
  create("jobs", 2);
  const std::string consumer = join("workers", R"(["jobs"])");

  std::mutex mutex;
  std::set<std::string> published;  // answered 201
  std::atomic<bool> stop{false};
  std::atomic<int> port{daemon().port()};
  std::thread producer([&] {
    for (int i = 0; !stop; ++i) {
      const std::string value = std::to_string(i);
      const HttpResponse answer = http_request(
          "POST", "http://127.0.0.1:" + std::to_string(port) + "/v1/topics/jobs/publish",
          R"({"value":)" + value + "}", kJsonContentType, milliseconds(2000));
      if (answer.status == 201) {
        const std::lock_guard<std::mutex> lock(mutex);
        published.insert(value);
      }
    }
  });
  std::set<std::string> consumed;
  const auto consume = [&](bool ack) {
    const std::vector<Polled> got = poll("workers", consumer, "max=50");
    for (const Polled& m : got) consumed.insert(m.value);
    if (ack && !got.empty()) {
      post("/v1/groups/workers/ack",
           R"({"consumer_id":")" + consumer + R"(","messages":)" + references(got) + "}");
    }
  };
  std::this_thread::sleep_for(milliseconds(300));
  consume(true);
  consume(false);  // in hand, never acked: comes again after the restart
  start_topics({{"visibility_timeout", "1s"}});  // kill -9, then a new one
  port = daemon().port();
  std::this_thread::sleep_for(milliseconds(300));
  stop = true;
  producer.join();
  std::set<std::string> expected;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    expected = published;
  }
  ASSERT_GT(expected.size(), 10u);
  const auto missing = [&] {
    std::size_t count = 0;
    for (const std::string& value : expected) count += consumed.count(value) == 0 ? 1 : 0;
    return count;
  };
  ASSERT_TRUE(eventually(
      [&] {
        consume(true);
        return missing() == 0;
      },
      seconds(20), milliseconds(100)))
      << missing() << " of " << expected.size() << " acknowledged publishes never consumed";
}

}  // namespace
}  // namespace gpsrelay::testing
