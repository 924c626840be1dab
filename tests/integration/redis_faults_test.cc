// Ingest against a Redis that misbehaves, with a real gpsrelayd and
// redis-server: one that stalls (SIGSTOP) is given up on after
// redis.command_timeout, one that refuses writes (maxmemory) shows in
// /health and the metrics without a log line per request, and the
// Idempotency-Key lets a client retry a 503 without a second entry.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/eventually.h"
#include "support/gpsrelay_fixture.h"
#include "support/http_client.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class RedisFaultsTest : public GpsrelayTest {};

constexpr std::string_view kReport = R"({"device":"truck-7","lat":52.5,"lon":13.4})";

HeaderList with_key(std::string key) {
  HeaderList headers = kJsonContentType;
  headers.push_back("Idempotency-Key: " + std::move(key));
  return headers;
}

TEST_F(RedisFaultsTest, StalledRedisFailsRequestsAfterTheCommandTimeout) {
  // request_timeout 5 s was the only bound before redis.command_timeout.
  start_daemon({{"redis", "command_timeout", "500ms"}, {"http", "request_timeout", "5s"}});
  ASSERT_TRUE(is_accepted(post_report(std::string(kReport))));
  redis().pause();
  const HttpResponse stalled = post_report(std::string(kReport));
  EXPECT_TRUE(is_json_error(stalled, 503)) << stalled;
  EXPECT_TRUE(is_delay_seconds(stalled.header("Retry-After"))) << stalled;
  EXPECT_LT(stalled.elapsed, milliseconds(2500)) << stalled;
  // While the connection is being re-established, 503 comes at once.
  const HttpResponse meanwhile = post_report(std::string(kReport));
  EXPECT_EQ(meanwhile.status, 503) << meanwhile;
  EXPECT_LT(meanwhile.elapsed, milliseconds(2500)) << meanwhile;
  redis().resume();
  EXPECT_TRUE(
      eventually([&] { return is_accepted(post_report(std::string(kReport))); }, seconds(10)));
  EXPECT_TRUE(daemon().running());
}

TEST_F(RedisFaultsTest, RedisRefusingWritesShowsInHealthAndMetricsNotOnceALinePerRequest) {
  start_daemon();
  ASSERT_TRUE(is_accepted(post_report(std::string(kReport))));
  redis_client().command({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
  redis_client().command({"CONFIG", "SET", "maxmemory", "1"});
  for (int i = 0; i < 50; ++i) {
    const HttpResponse refused = post_report(std::string(kReport));
    EXPECT_TRUE(is_json_error(refused, 503)) << refused;
    EXPECT_TRUE(is_delay_seconds(refused.header("Retry-After"))) << refused;
  }
  const HttpResponse health = http_get(daemon().url("/health"));
  EXPECT_EQ(health.status, 503) << health;
  EXPECT_EQ(health_state(health.body, "redis"), "refusing_writes") << health;
  EXPECT_NE(health.body.find("\"write_error\":\"oom\""), std::string::npos) << health;
  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_redis_refusing_writes"), 1);
  EXPECT_EQ(metrics.sum("gpsrelay_redis_write_errors_total", {{"reason", "oom"}}), 50);
  // One line, then one per interval (10 s) with the count held back.
  EXPECT_LE(count_occurrences(daemon().log(), "Redis refused an append"), 2U) << daemon().log();

  redis_client().command({"CONFIG", "SET", "maxmemory", "0"});
  EXPECT_TRUE(
      eventually([&] { return is_accepted(post_report(std::string(kReport))); }, seconds(5)));
  EXPECT_EQ(http_get(daemon().url("/health")).status, 200);
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_redis_refusing_writes"), 0);
  EXPECT_EQ(stream_length(), 2);
}

TEST_F(RedisFaultsTest, RepeatedIdempotencyKeyIsAnsweredWithTheFirstMessageId) {
  start_daemon();
  const HttpResponse first = post_report(std::string(kReport), with_key("order-4711-fix-1"));
  ASSERT_TRUE(is_accepted(first)) << first;
  const HttpResponse retry = post_report(R"({"other":"body"})", with_key("order-4711-fix-1"));
  ASSERT_TRUE(is_accepted(retry)) << retry;
  EXPECT_EQ(message_id_of(retry), message_id_of(first));
  const HttpResponse other = post_report(std::string(kReport), with_key("order-4711-fix-2"));
  ASSERT_TRUE(is_accepted(other)) << other;
  EXPECT_NE(message_id_of(other), message_id_of(first));
  const HttpResponse keyless = post_report(std::string(kReport));
  ASSERT_TRUE(is_accepted(keyless));
  EXPECT_EQ(stream_length(), 3);
  // The stored entry is the first request's, byte for byte.
  const auto entry = find_entry(message_id_of(first));
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->fields.at("payload"), kReport);
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_idempotent_replays_total"), 1);
}

TEST_F(RedisFaultsTest, ConcurrentRequestsWithOneKeyAddOneEntry) {
  start_daemon({{"http", "threads", "2"}});
  std::vector<HttpRequest> requests;
  for (int i = 0; i < 40; ++i) {
    requests.push_back(
        make_post(daemon().ingest_url(), std::string(kReport), with_key("burst-retry")));
  }
  const std::vector<HttpResponse> responses = http_concurrently(requests, 20);
  ASSERT_TRUE(is_accepted(responses.front()));
  for (const HttpResponse& response : responses) {
    EXPECT_TRUE(is_accepted(response)) << response;
    EXPECT_EQ(message_id_of(response), message_id_of(responses.front()));
  }
  EXPECT_EQ(stream_length(), 1);
}

TEST_F(RedisFaultsTest, IdempotencyKeyIsForgottenAfterItsTtl) {
  start_daemon({{"redis", "idempotency_ttl", "500ms"}});
  const HttpResponse first = post_report(std::string(kReport), with_key("short-lived"));
  ASSERT_TRUE(is_accepted(first));
  EXPECT_TRUE(eventually(
      [&] {
        const HttpResponse later = post_report(std::string(kReport), with_key("short-lived"));
        return is_accepted(later) && message_id_of(later) != message_id_of(first);
      },
      seconds(5), milliseconds(200)));
}

TEST_F(RedisFaultsTest, MalformedIdempotencyKeyIsRefusedWith400) {
  start_daemon();
  for (const std::string& key : {std::string(129, 'k'), std::string("two words")}) {
    const HttpResponse response = post_report(std::string(kReport), with_key(key));
    EXPECT_TRUE(is_json_error(response, 400)) << response;
  }
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(RedisFaultsTest, FlushedScriptCacheCostsOneRequestThenRecovers) {
  start_daemon({{"http", "threads", "1"}});
  ASSERT_TRUE(is_accepted(post_report(std::string(kReport), with_key("a"))));
  redis_client().command({"SCRIPT", "FLUSH"});
  // The first keyed request after the flush may get 503 (NOSCRIPT); the
  // script is loaded again and the retry with the same key goes through.
  EXPECT_TRUE(eventually(
      [&] { return is_accepted(post_report(std::string(kReport), with_key("b"))); }, seconds(5)));
  EXPECT_EQ(stream_length(), 2);
}

}  // namespace
}  // namespace gpsrelay::testing
