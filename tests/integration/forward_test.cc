// Forwarding end to end: gpsrelayd with real upstream HTTP servers and a
// real redis-server. Exactly-once split over two targets, retries with the
// attempt header, the breaker around a dead target, kill -9 of the daemon
// and two instances sharing one stream. (What happens to packets that
// cannot be delivered is failure_store_test.cc.)
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/gpsrelay_fixture.h"
#include "support/http_client.h"
#include "support/upstream_server.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Every forwarding test runs with one delivery loop and with four
// (forward.threads): the loops share the group's entries, the targets'
// breakers and health, and the failure store.
class ForwardTest : public ForwardingTest, public ::testing::WithParamInterface<unsigned> {
 protected:
  DaemonConfig forwarding_to(const std::vector<UpstreamServer*>& targets) const {
    DaemonConfig config = ForwardingTest::forwarding_to(targets);
    config.set("forward", "threads", std::to_string(GetParam()));
    return config;
  }
};

TEST_P(ForwardTest, TwoUpstreamsEachPacketDeliveredOnceSplitEvenlyBytesIdentical) {
  UpstreamServer a;
  UpstreamServer b;
  start_daemon(forwarding_to({&a, &b}));
  constexpr int kPackets = 200;
  std::map<std::string, std::string> sent;  // message id -> body
  for (int i = 0; i < kPackets; ++i) {
    const HttpResponse response = post_report(numbered_report(i));
    ASSERT_TRUE(is_accepted(response)) << response;
    sent[message_id_of(response)] = numbered_report(i);
  }

  ASSERT_TRUE(
      eventually([&] { return a.request_count() + b.request_count() >= kPackets; }, seconds(20)))
      << a.request_count() << " + " << b.request_count();
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(5)))
      << "stream length " << stream_length() << ", pending " << pending_count();

  const auto delivered = deliveries_by_message({&a, &b});
  EXPECT_EQ(delivered.size(), sent.size());
  for (const auto& [id, times] : delivered) {
    EXPECT_EQ(times, 1) << id;
    EXPECT_TRUE(sent.contains(id)) << "unknown message id " << id;
  }
  for (UpstreamServer* upstream : {&a, &b}) {
    for (const ReceivedRequest& request : upstream->requests()) {
      const std::string id = header_of(request, "x-gpsrelay-message-id");
      EXPECT_EQ(request.method, "POST");
      EXPECT_EQ(request.path, "/ingest");
      EXPECT_EQ(request.body, sent[id]) << id;
      EXPECT_EQ(header_of(request, "content-type"), "application/json");
      EXPECT_EQ(header_of(request, "x-gpsrelay-attempt"), "1");
      EXPECT_FALSE(header_of(request, "x-request-id").empty());
    }
  }
  // Round-robin over two healthy targets: an even split.
  EXPECT_NEAR(static_cast<double>(a.request_count()), kPackets / 2.0, 2.0);
  EXPECT_NEAR(static_cast<double>(b.request_count()), kPackets / 2.0, 2.0);

  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_deliveries_total", {{"result", "delivered"}}), kPackets);
  // Gauges sampled every 100 ms (backlog) and every second (group).
  EXPECT_TRUE(eventually(
      [&] {
        const MetricsPage later = scrape_metrics();
        return later.sum("gpsrelay_queue_length") == 0 &&
               later.sum("gpsrelay_stream_pending") == 0 && later.sum("gpsrelay_consumer_lag") == 0;
      },
      seconds(3)));
}

TEST_P(ForwardTest, RequestIdOfTheReportTravelsToTheUpstream) {
  UpstreamServer upstream;
  start_daemon(forwarding_to({&upstream}));
  const HttpResponse response =
      post_report(numbered_report(1), {"Content-Type: application/json", "X-Request-ID: abc-123"});
  ASSERT_TRUE(is_accepted(response)) << response;
  ASSERT_TRUE(eventually([&] { return upstream.request_count() == 1; }, seconds(10)));
  const ReceivedRequest request = upstream.requests().front();
  EXPECT_EQ(header_of(request, "x-request-id"), "abc-123");
  EXPECT_EQ(header_of(request, "x-gpsrelay-message-id"), message_id_of(response));
}

TEST_P(ForwardTest, ServerErrorIsRetriedWithTheAttemptHeaderCountingUp) {
  UpstreamServer upstream;
  upstream.script({500, 503});
  start_daemon(forwarding_to({&upstream}));
  const std::string id = post_reports(1).front();

  ASSERT_TRUE(eventually([&] { return upstream.request_count() >= 3; }, seconds(10)));
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(5)));
  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(header_of(requests[i], "x-gpsrelay-message-id"), id);
    EXPECT_EQ(header_of(requests[i], "x-gpsrelay-attempt"), std::to_string(i + 1));
  }
  // The configured delay (100 ms) separates the attempts.
  EXPECT_GE(requests[1].received_at - requests[0].received_at, milliseconds(90));
  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_retries_scheduled_total"), 2);
  EXPECT_EQ(metrics.sum("gpsrelay_deliveries_total", {{"result", "delivered"}}), 1);
}

TEST_P(ForwardTest, RetryGoesToTheNextTarget) {
  UpstreamServer a;
  UpstreamServer b;
  a.set_default_status(502);
  b.set_default_status(502);
  a.script({502});
  b.script({200});
  start_daemon(forwarding_to({&a, &b}));
  post_reports(1);
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(10)));
  // One attempt failed on one target; the retry went to the other, which took it.
  EXPECT_EQ(a.request_count() + b.request_count(), 2u);
  EXPECT_EQ(a.request_count(), 1u);
  EXPECT_EQ(b.request_count(), 1u);
}

TEST_P(ForwardTest, DeadTargetOpensItsBreakerTrafficGoesToTheOtherAndItComesBack) {
  UpstreamServer good;
  UpstreamServer flaky;
  flaky.stop();
  DaemonConfig config = forwarding_to({&good, &flaky});
  config.set("forward", "breaker_failures", "2").set("forward", "breaker_cooldown", "1s");
  start_daemon(config);

  post_reports(40);
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(15)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  EXPECT_EQ(good.request_count(), 40u);

  const auto flaky_state = [&] { return target_state(flaky.url()); };
  EXPECT_EQ(flaky_state(), "breaker_open");
  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_target_up", {{"target", flaky.url()}}), 0);
  EXPECT_EQ(metrics.sum("gpsrelay_target_up", {{"target", good.url()}}), 1);
  // While one target is up, forwarding as a whole is fine.
  EXPECT_EQ(http_get(daemon().url("/health")).status, 200);

  flaky.start();
  // After the cooldown a probe goes through, closes the breaker, and the
  // rotation includes the target again.
  int next = 40;
  ASSERT_TRUE(eventually(
      [&] {
        post_reports(2, next);
        next += 2;
        return flaky.request_count() >= 5;
      },
      seconds(15)))
      << "flaky got " << flaky.request_count();
  EXPECT_TRUE(eventually([&] { return flaky_state() == "up"; }, seconds(5))) << flaky_state();
}

TEST_P(ForwardTest, FailingTargetIsLoggedOncePerIntervalNotOncePerAttempt) {
  UpstreamServer failing;
  failing.set_default_status(503);
  UpstreamServer good;
  DaemonConfig config = forwarding_to({&failing, &good});
  // Every packet tries the failing target once, then the good one.
  config.set("forward", "retry_delays", "10ms").set("forward", "breaker_failures", "1000");
  start_daemon(config);
  post_reports(60);
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(15)));
  EXPECT_GE(failing.request_count(), 25u);
  // One line, then one per 10 s with SUPPRESSED; the metrics count each.
  EXPECT_LE(count_occurrences(daemon().log(), "delivery attempt failed"), 2u) << daemon().log();
  EXPECT_GE(
      scrape_metrics().sum("gpsrelay_deliveries_total", {{"target", failing.url()}}).value_or(0),
      25);
}

TEST_P(ForwardTest, FailingHealthCheckTakesATargetOutOfTheRotationUntilItPasses) {
  UpstreamServer good;
  UpstreamServer sick;
  good.serve_health("/health", 200);
  sick.serve_health("/health", 503);
  DaemonConfig config = forwarding_to({&good, &sick});
  config.set("forward", "health_path", "/health").set("forward", "health_interval", "200ms");
  start_daemon(config);
  ASSERT_TRUE(eventually([&] { return target_state(sick.url()) == "down"; }, seconds(5)));
  EXPECT_EQ(target_state(good.url()), "up");

  post_reports(20);
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(10)));
  EXPECT_EQ(good.request_count(), 20u);
  EXPECT_EQ(sick.request_count(), 0u);
  EXPECT_GT(sick.health_check_count(), 0u);

  sick.serve_health("/health", 200);
  ASSERT_TRUE(eventually([&] { return target_state(sick.url()) == "up"; }, seconds(5)));
  post_reports(20, 20);
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(10)));
  EXPECT_EQ(sick.request_count(), 10u);
  EXPECT_TRUE(daemon().log().find("failed its health check") != std::string::npos);
}

TEST_P(ForwardTest, NoTargetAvailableIsReportedAndDeliveryResumesWhenOneReturns) {
  UpstreamServer upstream;
  upstream.stop();
  DaemonConfig config = forwarding_to({&upstream});
  config.set("forward", "breaker_failures", "1")
      .set("forward", "breaker_cooldown", "500ms")
      .set("forward", "retry_delays", "200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms");
  start_daemon(config);
  post_reports(1);

  ASSERT_TRUE(eventually([&] { return forwarding_status() == "no_target_available"; }, seconds(5)));
  EXPECT_TRUE(eventually(
      [&] { return daemon().log().find("no target available") != std::string::npos; }, seconds(2)));

  upstream.start();
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(10)));
  EXPECT_EQ(upstream.request_count(), 1u);
}

TEST_P(ForwardTest, NoTargetsConfiguredQueuesAndHealthSaysSo) {
  start_daemon();
  post_reports(3);
  const HttpResponse health = http_get(daemon().url("/health"));
  EXPECT_EQ(health.status, 200) << health;
  EXPECT_EQ(forwarding_status(), "not_configured");
  EXPECT_EQ(stream_length(), 3);
}

TEST_P(ForwardTest, KillNineThenRestartDeliversEveryAcknowledgedReport) {
  UpstreamServer upstream;
  upstream.set_delay(milliseconds(50));
  DaemonConfig config = forwarding_to({&upstream});
  config.set("forward", "concurrency", "16");
  const auto load =
      kill_nine_under_load(config, 4, upstream, [&] { return upstream.request_count() >= 50; });
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(30)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  // What was in flight at the kill may arrive twice: at most 16 deliveries
  // plus acknowledgements on their way.
  EXPECT_LE(expect_every_acknowledged_delivered(*load, upstream, "kill -9"), 32u);
}

TEST_P(ForwardTest, RedisRestartDuringLoadLosesNothingAndDeliveryResumes) {
  UpstreamServer upstream;
  start_daemon(forwarding_to({&upstream}));
  LoadGenerator load(daemon().ingest_url(), 4);
  ASSERT_TRUE(eventually([&] { return upstream.request_count() >= 200; }, seconds(20)));

  redis().stop();  // SIGTERM: Redis writes its AOF and exits
  redis().restart();
  const size_t before = upstream.request_count();
  ASSERT_TRUE(eventually([&] { return upstream.request_count() >= before + 200; }, seconds(20)))
      << "delivery did not resume after the Redis restart";
  load.stop();
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(30)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  expect_every_acknowledged_delivered(load, upstream, "Redis restart");
}

TEST_P(ForwardTest, EntriesInTheirRetryScheduleAreNotTakenOverByAnotherInstance) {
  // Retries outlast claim_idle (1 s) here: without renewal the second
  // instance would reclaim the first one's entries and deliver them again.
  UpstreamServer upstream;
  upstream.set_default_status(503);
  DaemonConfig config = forwarding_to({&upstream});
  config.set("forward", "retry_delays", "500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms");
  config.set("forward", "breaker_failures", "1000");
  start_daemon(config);
  DaemonOptions second_options;
  second_options.config = config;
  DaemonProcess second(redis().address(), second_options);

  constexpr int kPackets = 20;
  const std::vector<std::string> ids = post_reports(kPackets);
  std::this_thread::sleep_for(milliseconds(2500));  // both hold entries in retry
  const auto healed_at = std::chrono::system_clock::now();
  upstream.set_default_status(200);
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(20)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  // Attempts after the upstream healed: one per packet, from whichever
  // instance held it. Two would be a delivery by each.
  std::map<std::string, int> attempts_after;
  for (const ReceivedRequest& request : upstream.requests()) {
    if (request.received_at > healed_at)
      ++attempts_after[header_of(request, "x-gpsrelay-message-id")];
  }
  for (const std::string& id : ids) EXPECT_EQ(attempts_after[id], 1) << id;
  EXPECT_TRUE(failed_rows().empty());
}

TEST_P(ForwardTest, TwoInstancesShareTheStreamAndOneTakesOverTheOthersPending) {
  UpstreamServer upstream;
  const DaemonConfig config = forwarding_to({&upstream});
  start_daemon(config);
  DaemonOptions second_options;
  second_options.config = config;
  DaemonProcess second(redis().address(), second_options);

  constexpr int kPackets = 200;
  post_reports(kPackets);
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(20)));
  const auto delivered = deliveries_by_message({&upstream});
  EXPECT_EQ(delivered.size(), static_cast<size_t>(kPackets));
  for (const auto& [id, times] : delivered) EXPECT_EQ(times, 1) << id;
  const double first_share =
      scrape_metrics().sum("gpsrelay_deliveries_total", {{"result", "delivered"}}).value_or(0);
  const double second_share = parse_metrics(http_get(second.url("/metrics")).body)
                                  .sum("gpsrelay_deliveries_total", {{"result", "delivered"}})
                                  .value_or(0);
  EXPECT_EQ(first_share + second_share, kPackets);
  EXPECT_GT(first_share, 0);
  EXPECT_GT(second_share, 0);

  // The second instance takes packets and dies with them unacknowledged;
  // the first reclaims them after claim_idle.
  upstream.set_delay(milliseconds(1500));  // under forward.timeout (2 s)
  const std::vector<std::string> ids = post_reports(20, kPackets);
  ASSERT_TRUE(eventually(
      [&] {
        return parse_metrics(http_get(second.url("/metrics")).body)
                   .sum("gpsrelay_deliveries_in_flight")
                   .value_or(0) > 0;
      },
      seconds(10)));
  second.send_signal(SIGKILL);
  ASSERT_TRUE(second.wait_for_exit(seconds(5)).has_value());
  upstream.set_delay(milliseconds(0));
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(20)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  const auto after = deliveries_by_message({&upstream});
  for (const std::string& id : ids) EXPECT_TRUE(after.contains(id)) << id;
  // The gauge is sampled by the forwarder every 100 ms.
  EXPECT_TRUE(eventually(
      [&] { return scrape_metrics().sum("gpsrelay_entries_reclaimed_total").value_or(0) > 0; },
      seconds(2)));
}

INSTANTIATE_TEST_SUITE_P(Loops, ForwardTest, ::testing::Values(1u, 4u), loop_count_name);

}  // namespace
}  // namespace gpsrelay::testing
