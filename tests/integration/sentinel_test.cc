// High availability on Redis Sentinel, end to end: a real primary, two
// replicas and three sentinels (support/sentinel_topology.h), gpsrelayd
// configured with [redis] sentinels, and a real upstream. The primary is
// killed with SIGKILL under ingest load; the tests count every 200 the
// clients got and look for each at the upstream.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/ctl_runner.h"
#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/http_client.h"
#include "support/sentinel_topology.h"
#include "support/temp_dir.h"
#include "support/upstream_server.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class SentinelTest : public ForwardingTest {
 protected:
  // Forwarding to `upstream`, Redis found through the topology's sentinels.
  DaemonConfig sentinel_config(UpstreamServer& upstream, unsigned min_replicas_acked) {
    DaemonConfig config = forwarding_to({&upstream});
    config.set("redis", "sentinels", topology_.sentinels_address());
    config.set("redis", "master_name", topology_.master_name());
    config.set("redis", "min_replicas_acked", std::to_string(min_replicas_acked));
    // Replicas on one loopback answer within a millisecond or two; a loaded
    // CI machine (and ASan) needs more.
    config.set("redis", "replica_ack_timeout", "500ms");
    return config;
  }

  // The fixture's own redis-server is not the one in use here.
  DaemonProcess& start(const DaemonConfig& config) {
    DaemonOptions options;
    options.config = config;
    options.ready_timeout = seconds(20);
    return start_daemon(options);
  }

  // The stream on the current primary holds nothing undelivered.
  bool drained_on_primary() {
    try {
      RedisClient primary = topology_.primary_client();
      const RedisReplyPtr pending =
          primary.command({"XPENDING", std::string(kDefaultStream), "gpsrelay"});
      return primary.xlen(kDefaultStream) == 0 && pending->element[0]->integer == 0;
    } catch (const std::exception&) {
      return false;  // mid-failover
    }
  }

  // The X-Request-IDs of the requests answered 200, and of those the ones
  // that never reached the upstream. Request ids, not message ids: after a
  // failover without replica acks the new primary may hand out a stream id
  // the lost entry had.
  struct Outcome {
    std::size_t acknowledged = 0;
    std::size_t lost = 0;
    std::size_t duplicates = 0;
  };
  Outcome compare(const LoadGenerator& load, UpstreamServer& upstream) {
    std::map<std::string, int> delivered;
    for (const ReceivedRequest& request : upstream.requests()) {
      ++delivered[header_of(request, "x-request-id")];
    }
    Outcome outcome;
    for (const HttpResponse& response : load.results()) {
      if (response.status != 200) continue;
      ++outcome.acknowledged;
      if (!delivered.contains(response.header("X-Request-ID"))) ++outcome.lost;
    }
    for (const auto& [id, times] : delivered)
      outcome.duplicates += static_cast<std::size_t>(times - 1);
    return outcome;
  }

  // Kills the primary under `load`, waits for the failover and for ingest
  // to answer 200 again; returns the time from the kill to the first new 200s.
  milliseconds fail_over_under(LoadGenerator& load) {
    const std::size_t before_kill = load.ok_count();
    const Clock::time_point killed_at = Clock::now();
    const int old_port = topology_.kill_primary();
    const int new_port = topology_.wait_for_failover(old_port);
    EXPECT_NE(new_port, old_port);
    // Answers already on their way at the kill may still count: resumed
    // means clearly more than that.
    std::optional<Clock::time_point> resumed_at;
    EXPECT_TRUE(eventually(
        [&] {
          if (load.ok_count() < before_kill + 20) return false;
          resumed_at = Clock::now();
          return true;
        },
        seconds(30)))
        << "ingest did not resume after the failover\n"
        << daemon().diagnostics();
    return std::chrono::duration_cast<milliseconds>(resumed_at.value_or(Clock::now()) - killed_at);
  }

  // Ingest load with min_replicas_acked = `acked`, the primary killed, the
  // failover, more load, everything drained; what the clients' 200s became.
  Outcome fail_over_under_load(unsigned acked) {
    UpstreamServer upstream;
    start(sentinel_config(upstream, acked));
    LoadGenerator load(daemon().ingest_url(), 4);
    EXPECT_TRUE(eventually([&] { return upstream.request_count() >= 300; }, seconds(20)));
    const milliseconds gap = fail_over_under(load);
    EXPECT_TRUE(eventually([&] { return upstream.request_count() >= 300 + 500; }, seconds(20)));
    load.stop();
    EXPECT_TRUE(eventually([&] { return drained_on_primary(); }, seconds(30)))
        << daemon().diagnostics();
    const Outcome outcome = compare(load, upstream);
    RecordProperty("acknowledged", static_cast<int>(outcome.acknowledged));
    RecordProperty("lost", static_cast<int>(outcome.lost));
    RecordProperty("resumed_ms", static_cast<int>(gap.count()));
    std::cout << "min_replicas_acked = " << acked << ": " << outcome.acknowledged
              << " acknowledged, " << outcome.lost << " lost, " << outcome.duplicates
              << " delivered twice; ingest 200s " << gap.count() << " ms after the kill\n";
    return outcome;
  }

  SentinelTopology topology_;
};

TEST_F(SentinelTest, IngestGoesToThePrimaryTheSentinelsNameAndCtlShowsIt) {
  UpstreamServer upstream;
  upstream.set_default_status(503);  // keep the entries in the stream
  start(sentinel_config(upstream, 1));
  const HttpResponse response = post_report(numbered_report(1));
  ASSERT_TRUE(is_accepted(response)) << response;
  const std::string id = message_id_of(response);
  RedisClient primary = topology_.primary_client();
  EXPECT_EQ(primary.xlen(kDefaultStream), 1);
  // Acknowledged with min_replicas_acked = 1: a replica has it already.
  bool on_a_replica = false;
  for (RedisServer* server : topology_.servers()) {
    if (server->port() == topology_.primary_port()) continue;
    RedisClient replica = server->client();
    on_a_replica = on_a_replica || replica.xlen(kDefaultStream) == 1;
  }
  EXPECT_TRUE(on_a_replica);

  const std::string primary_address = "127.0.0.1:" + std::to_string(topology_.primary_port());
  const HttpResponse health = http_get(daemon().url("/health"));
  EXPECT_NE(health.body.find(primary_address), std::string::npos) << health.body;

  TempDir scratch("gpsrelayctl");
  const CommandResult status =
      run_gpsrelayctl({"-c", daemon().config_path().string(), "status"}, {}, scratch.path());
  EXPECT_EQ(exit_code(status), 0) << status.err;
  EXPECT_NE(status.out.find(primary_address), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("named by the sentinels"), std::string::npos) << status.out;

  const CommandResult check =
      run_gpsrelayd({"--check-config", "-c", daemon().config_path().string()}, scratch.path());
  EXPECT_EQ(exit_code(check), 0) << check.err;
  EXPECT_NE(check.err.find("Redis primary 'gpsrelay-test' is " + primary_address),
            std::string::npos)
      << check.err;
}

TEST_F(SentinelTest, PrimaryKilledUnderLoadLosesNoReplicaAcknowledgedReport) {
  const Outcome outcome = fail_over_under_load(1);
  EXPECT_EQ(outcome.lost, 0u) << "of " << outcome.acknowledged << " acknowledged reports";
}

TEST_F(SentinelTest, WithoutReplicaAcksTheFailoverMayLoseTheLastWritesAndIngestResumes) {
  // What min_replicas_acked buys: here the writes the primary acknowledged
  // but had not yet passed to a replica are gone. Said, not asserted: it
  // may be none when the kill falls between replication and the next write.
  const Outcome outcome = fail_over_under_load(0);
  EXPECT_LT(outcome.lost, outcome.acknowledged);
}

TEST_F(SentinelTest, TooFewReplicasMeans503WithRetryAfterNeverA200) {
  UpstreamServer upstream;
  DaemonConfig config = sentinel_config(upstream, 3);  // only two replicas exist
  config.set("redis", "replica_ack_timeout", "50ms");
  start(config);
  const HttpResponse refused = post_report(numbered_report(1));
  EXPECT_TRUE(is_json_error(refused, 503)) << refused;
  EXPECT_TRUE(refused.has_header("Retry-After")) << refused;
  EXPECT_GE(scrape_metrics().sum("gpsrelay_redis_replica_ack_failures_total").value_or(0), 1);

  // Two replicas can confirm a write; with them the answer is a 200.
  config.set("redis", "min_replicas_acked", "2");
  start(config);
  const HttpResponse accepted = post_report(numbered_report(2));
  EXPECT_TRUE(is_accepted(accepted)) << accepted;
}

TEST_F(SentinelTest, TopicPublishesWaitForTheReplicasToo) {
  UpstreamServer upstream;
  DaemonConfig config = sentinel_config(upstream, 2);
  config.set("topics", "enabled", "true");
  start(config);
  const HttpResponse created =
      http_request(make_post(daemon().url("/v1/topics"), R"({"name":"orders","partitions":2})"));
  ASSERT_EQ(created.status, 201) << created;
  const HttpResponse published = http_request(
      make_post(daemon().url("/v1/topics/orders/publish"), R"({"key":"k","value":{"n":1}})"));
  EXPECT_EQ(published.status, 201) << published;

  // More replicas than exist: the publish is not confirmed, so not a 201.
  config.set("redis", "min_replicas_acked", "3");
  config.set("redis", "replica_ack_timeout", "50ms");
  start(config);
  const HttpResponse refused = http_request(
      make_post(daemon().url("/v1/topics/orders/publish"), R"({"key":"k","value":{"n":2}})"));
  EXPECT_EQ(refused.status, 503) << refused;
  const HttpResponse batch = http_request(make_post(daemon().url("/v1/topics/orders/batch"),
                                                    R"({"messages":[{"value":1},{"value":2}]})"));
  EXPECT_EQ(batch.status, 503) << batch;
}

TEST_F(SentinelTest, ValueWritesWaitForTheReplicasToo) {
  UpstreamServer upstream;
  DaemonConfig config = sentinel_config(upstream, 2);
  config.set("events", "enabled", "true");
  start(config);
  const std::string body = R"({"user_id":"u-1","value":"v","ts":1000})";
  const HttpResponse written = http_request("POST", daemon().url("/write"), body, kJsonContentType);
  EXPECT_EQ(written.status, 202) << written;

  config.set("redis", "min_replicas_acked", "3");
  config.set("redis", "replica_ack_timeout", "50ms");
  start(config);
  const HttpResponse refused = http_request("POST", daemon().url("/write"), body, kJsonContentType);
  EXPECT_EQ(refused.status, 503) << refused;
}

TEST_F(SentinelTest, ASentinelDownIsNoProblemAndTheFailoverIsStillFollowed) {
  topology_.kill_sentinel(0);  // the first one the daemon asks
  UpstreamServer upstream;
  start(sentinel_config(upstream, 1));
  ASSERT_TRUE(is_accepted(post_report(numbered_report(1))));

  LoadGenerator load(daemon().ingest_url(), 2);
  ASSERT_TRUE(eventually([&] { return upstream.request_count() >= 100; }, seconds(20)));
  fail_over_under(load);
  load.stop();
  ASSERT_TRUE(eventually([&] { return drained_on_primary(); }, seconds(30)))
      << daemon().diagnostics();
  EXPECT_EQ(compare(load, upstream).lost, 0u);
  EXPECT_NE(daemon().log().find("Redis primary changed"), std::string::npos);
}

TEST_F(SentinelTest, TwoInstancesOneKilledTheOtherDeliversEverythingAcrossAFailover) {
  UpstreamServer upstream;
  upstream.set_delay(milliseconds(20));
  const DaemonConfig config = sentinel_config(upstream, 1);
  start(config);
  DaemonOptions second_options;
  second_options.config = config;
  second_options.ready_timeout = seconds(20);
  DaemonProcess second("127.0.0.1:1", second_options);

  LoadGenerator first_load(daemon().ingest_url(), 2);
  LoadGenerator second_load(second.ingest_url(), 2);
  ASSERT_TRUE(eventually([&] { return upstream.request_count() >= 200; }, seconds(20)));
  second.send_signal(SIGKILL);
  second_load.stop();
  ASSERT_TRUE(second.wait_for_exit(seconds(5)).has_value());
  fail_over_under(first_load);
  first_load.stop();
  upstream.set_delay(milliseconds(0));
  // The survivor reclaims the dead one's pending entries after claim_idle.
  ASSERT_TRUE(eventually([&] { return drained_on_primary(); }, seconds(30)))
      << daemon().diagnostics();
  EXPECT_EQ(compare(first_load, upstream).lost, 0u);
  EXPECT_EQ(compare(second_load, upstream).lost, 0u);
}

}  // namespace
}  // namespace gpsrelay::testing
