// Tests for metric counting and the Prometheus text rendering.
#include "core/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace gpsrelay::core {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

bool contains_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(MetricsTest, RequestsAreSummedAcrossWorkersByCode) {
  MetricsRegistry registry(2);
  registry.worker(0).count_request(200, microseconds(300));
  registry.worker(1).count_request(200, microseconds(300));
  registry.worker(1).count_request(415, microseconds(50));
  registry.worker(0).count_request(418, microseconds(50));
  const std::string text = registry.render_prometheus();
  EXPECT_TRUE(contains_line(text, "gpsrelay_http_requests_total{code=\"200\"} 2")) << text;
  EXPECT_TRUE(contains_line(text, "gpsrelay_http_requests_total{code=\"415\"} 1")) << text;
  EXPECT_TRUE(contains_line(text, "gpsrelay_http_requests_total{code=\"other\"} 1")) << text;
  EXPECT_TRUE(contains_line(text, "gpsrelay_http_requests_total{code=\"503\"} 0")) << text;
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry registry(1);
  registry.worker(0).count_request(200, microseconds(80));    // <= 0.0001
  registry.worker(0).count_request(200, microseconds(700));   // <= 0.001
  registry.worker(0).count_request(200, milliseconds(10));    // <= 0.01, on the bound
  registry.worker(0).count_request(200, milliseconds(9000));  // +Inf only
  const std::string text = registry.render_prometheus();
  EXPECT_TRUE(contains_line(text, "gpsrelay_http_request_duration_seconds_bucket{le=\"0.0001\"} 1"))
      << text;
  EXPECT_TRUE(contains_line(text, "gpsrelay_http_request_duration_seconds_bucket{le=\"0.001\"} 2"));
  EXPECT_TRUE(contains_line(text, "gpsrelay_http_request_duration_seconds_bucket{le=\"0.01\"} 3"));
  EXPECT_TRUE(contains_line(text, "gpsrelay_http_request_duration_seconds_bucket{le=\"5\"} 3"));
  EXPECT_TRUE(contains_line(text, "gpsrelay_http_request_duration_seconds_bucket{le=\"+Inf\"} 4"));
  EXPECT_TRUE(contains_line(text, "gpsrelay_http_request_duration_seconds_count 4"));
  EXPECT_NEAR(registry.worker(0).request_duration.sum_seconds(), 9.01078, 1e-9);
}

TEST(MetricsTest, SharedCountersAndHistogramsLoseNoIncrementAcrossThreads) {
  // The forwarder loops write one set of forwarding metrics together.
  LatencyHistogram histogram;
  std::atomic<std::uint64_t> counter{0};
  constexpr int kThreads = 4;
  constexpr int kEach = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        bump_shared(counter);
        histogram.observe_shared(std::chrono::microseconds(300));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter.load(), static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_EQ(histogram.count(), static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_NEAR(histogram.sum_seconds(), kThreads * kEach * 0.0003, 1e-6);
}

TEST(MetricsTest, RedisIsUpOnlyWhenEveryWorkerIsConnected) {
  MetricsRegistry registry(2);
  EXPECT_FALSE(registry.redis_up());
  registry.worker(0).redis_up = true;
  EXPECT_FALSE(registry.redis_up());
  registry.worker(1).redis_up = true;
  EXPECT_TRUE(registry.redis_up());
  EXPECT_TRUE(contains_line(registry.render_prometheus(), "gpsrelay_redis_up 1"));
}

TEST(MetricsTest, QueueLengthIsTheFreshestSampleOrUnknown) {
  MetricsRegistry registry(2);
  EXPECT_EQ(registry.queue_length(), -1);
  EXPECT_TRUE(contains_line(registry.render_prometheus(), "gpsrelay_queue_length -1"));
  registry.worker(1).queue_length = 42;
  EXPECT_EQ(registry.queue_length(), 42);
}

TEST(MetricsTest, AcceptedReportsAndReconnectsAreSummed) {
  MetricsRegistry registry(2);
  bump(registry.worker(0).reports_accepted, 3);
  bump(registry.worker(1).reports_accepted, 4);
  registry.worker(1).redis_reconnects = 2;
  const std::string text = registry.render_prometheus();
  EXPECT_TRUE(contains_line(text, "gpsrelay_reports_accepted_total 7")) << text;
  EXPECT_TRUE(contains_line(text, "gpsrelay_redis_reconnects_total 2")) << text;
}

TEST(MetricsTest, EveryFamilyHasHelpAndType) {
  const std::string text = MetricsRegistry(1).render_prometheus();
  for (const char* family :
       {"gpsrelay_http_requests_total counter", "gpsrelay_http_request_duration_seconds histogram",
        "gpsrelay_reports_accepted_total counter", "gpsrelay_queue_length gauge",
        "gpsrelay_redis_reconnects_total counter", "gpsrelay_redis_up gauge"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family), std::string::npos) << family;
  }
}

}  // namespace
}  // namespace gpsrelay::core
