// /metrics and /health of a running gpsrelayd: every contract metric is
// exposed with its type, counters and the latency histogram move with the
// requests made, gauges follow Redis, and /health is JSON naming Redis.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "support/eventually.h"
#include "support/gpsrelay_fixture.h"
#include "support/http_client.h"
#include "support/json.h"
#include "support/prometheus.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

constexpr std::string_view kReport = R"({"device":"truck-7","lat":52.520008,"lon":13.404954})";
constexpr std::string_view kHistogram = "gpsrelay_http_request_duration_seconds";

class MetricsTest : public GpsrelayTest {};

double value_or_zero(const MetricsPage& page, std::string_view name,
                     const std::map<std::string, std::string>& labels = {}) {
  return page.sum(name, labels).value_or(0);
}

// The "le" bound of a bucket as a number (+Inf included).
double bucket_bound(const MetricSample& sample) {
  const auto it = sample.labels.find("le");
  return it == sample.labels.end() ? NAN : std::strtod(it->second.c_str(), nullptr);
}

TEST_F(MetricsTest, ExposesEveryContractMetricWithItsType) {
  start_daemon();
  ASSERT_TRUE(is_accepted(post_report(std::string(kReport))));
  const HttpResponse response = http_get(daemon().url("/metrics"));
  ASSERT_EQ(response.status, 200) << response;
  EXPECT_TRUE(response.header("Content-Type").starts_with("text/plain")) << response;

  const MetricsPage page = parse_metrics(response.body);
  EXPECT_TRUE(page.malformed_lines.empty()) << "first malformed line: " << page.malformed_lines[0];
  const std::vector<std::pair<std::string, std::string>> families = {
      {"gpsrelay_http_requests_total", "counter"},    {std::string(kHistogram), "histogram"},
      {"gpsrelay_reports_accepted_total", "counter"}, {"gpsrelay_queue_length", "gauge"},
      {"gpsrelay_redis_reconnects_total", "counter"}, {"gpsrelay_redis_up", "gauge"},
  };
  for (const auto& [family, type] : families) {
    SCOPED_TRACE(family);
    EXPECT_EQ(page.types.count(family) ? page.types.at(family) : "<no # TYPE line>", type);
    if (type == "histogram") {
      EXPECT_TRUE(page.sum(family + "_count").has_value());
      EXPECT_TRUE(page.sum(family + "_sum").has_value());
      EXPECT_TRUE(page.sum(family + "_bucket", {{"le", "+Inf"}}).has_value());
    } else {
      EXPECT_TRUE(page.sum(family).has_value()) << "no sample";
    }
  }
  EXPECT_EQ(page.sum("gpsrelay_redis_up"), 1);
  for (const auto& sample : page.samples) {
    EXPECT_TRUE(sample.name.starts_with("gpsrelay_")) << sample.name;
  }
}

TEST_F(MetricsTest, RequestCountersAndHistogramFollowRequests) {
  start_daemon();
  const MetricsPage before = scrape_metrics();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(is_accepted(post_report(std::string(kReport))));
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(is_json_error(post_report("{"), 400));
  ASSERT_TRUE(is_json_error(http_get(daemon().url("/no/such/page")), 404));
  const MetricsPage after = scrape_metrics();

  auto delta = [&](std::string_view name, const std::map<std::string, std::string>& labels = {}) {
    return value_or_zero(after, name, labels) - value_or_zero(before, name, labels);
  };
  // The first scrape itself may be counted as a 200 too.
  EXPECT_GE(delta("gpsrelay_http_requests_total", {{"code", "200"}}), 3);
  EXPECT_LE(delta("gpsrelay_http_requests_total", {{"code", "200"}}), 4);
  EXPECT_EQ(delta("gpsrelay_http_requests_total", {{"code", "400"}}), 2);
  EXPECT_EQ(delta("gpsrelay_http_requests_total", {{"code", "404"}}), 1);
  EXPECT_EQ(delta("gpsrelay_reports_accepted_total"), 3);

  const std::string count = std::string(kHistogram) + "_count";
  EXPECT_GE(delta(count), 6);
  EXPECT_LE(delta(count), 7);
  EXPECT_GT(delta(std::string(kHistogram) + "_sum"), 0);

  // Buckets are cumulative: non-decreasing in "le", +Inf equal to _count.
  std::vector<MetricSample> buckets = after.find(std::string(kHistogram) + "_bucket");
  ASSERT_FALSE(buckets.empty());
  const bool single_series = std::all_of(buckets.begin(), buckets.end(), [](const auto& b) {
    return b.labels.size() == 1;  // only "le": series can be compared directly
  });
  if (single_series) {
    std::sort(buckets.begin(), buckets.end(),
              [](const auto& a, const auto& b) { return bucket_bound(a) < bucket_bound(b); });
    for (size_t i = 1; i < buckets.size(); ++i) {
      EXPECT_LE(buckets[i - 1].value, buckets[i].value) << "le=" << buckets[i].labels.at("le");
    }
  }
  EXPECT_EQ(after.sum(std::string(kHistogram) + "_bucket", {{"le", "+Inf"}}), after.sum(count));
}

TEST_F(MetricsTest, QueueLengthGaugeFollowsTheStream) {
  start_daemon();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(is_accepted(post_report(std::string(kReport))));
  double last = -1;
  EXPECT_TRUE(eventually(
      [&] {
        last = value_or_zero(scrape_metrics(), "gpsrelay_queue_length");
        return last == 4;
      },
      seconds(10), std::chrono::milliseconds(100)))
      << "gpsrelay_queue_length is " << last << " with 4 undelivered reports";
}

TEST_F(MetricsTest, HealthIsJsonReportingRedisUp) {
  start_daemon();
  const HttpResponse response = http_get(daemon().url("/health"));
  EXPECT_EQ(response.status, 200) << response;
  EXPECT_TRUE(response.header("Content-Type").starts_with("application/json")) << response;
  const JsonPtr body = parse_json(response.body);
  ASSERT_TRUE(body && json_is_object(body.get())) << response;
  EXPECT_EQ(health_state(response.body, "redis"), "up") << response;
}

}  // namespace
}  // namespace gpsrelay::testing
