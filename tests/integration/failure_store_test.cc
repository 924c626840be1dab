// Packets that cannot be delivered: stored in MySQL failed_packets (real
// mariadbd) and only then acknowledged in Redis. Exhausted retries,
// permanent rejections, transport errors, a MySQL outage while packets fail,
// idempotent re-storing, schema migration and retention.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/http_client.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

class FailureStoreTest : public ForwardingTest {
 protected:
  std::string column(const SqlRow& row, const std::string& name) {
    const auto found = row.find(name);
    return found == row.end() || !found->second ? "<null>" : *found->second;
  }
};

TEST_F(FailureStoreTest, ExhaustedRetriesLandInFailedPacketsThenLeaveTheStream) {
  UpstreamServer upstream;
  upstream.set_default_status(500);
  start_daemon(forwarding_to({&upstream}));
  const std::string body = numbered_report(7);
  const HttpResponse response =
      post_report(body, {"Content-Type: application/json", "X-Request-ID: req-7"});
  ASSERT_TRUE(is_accepted(response)) << response;

  ASSERT_TRUE(eventually([&] { return failed_rows().size() == 1; }, seconds(10)));
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(5)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  const SqlRow row = failed_rows().front();
  EXPECT_EQ(column(row, "message_id"), message_id_of(response));
  EXPECT_EQ(column(row, "payload"), body);
  EXPECT_EQ(column(row, "request_id"), "req-7");
  // The first attempt and one retry after each of the three delays.
  EXPECT_EQ(upstream.request_count(), 4u);
  EXPECT_EQ(column(row, "retry_count"), "3");
  EXPECT_EQ(column(row, "last_error"), "HTTP 500");
  EXPECT_EQ(column(row, "target_server"), upstream.url());
  EXPECT_NE(column(row, "received_at"), "<null>");
  EXPECT_NE(column(row, "created_at"), "<null>");
  EXPECT_NE(column(row, "updated_at"), "<null>");

  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_failed_packets_stored_total"), 1);
  EXPECT_EQ(metrics.sum("gpsrelay_packets_failed_total"), 1);
  EXPECT_EQ(metrics.sum("gpsrelay_mysql_up"), 1);
  EXPECT_EQ(mysql_status(), "up");
}

TEST_F(FailureStoreTest, PermanentRejectionIsStoredAfterOneAttempt) {
  UpstreamServer upstream;
  upstream.set_default_status(404);
  start_daemon(forwarding_to({&upstream}));
  post_reports(3);
  ASSERT_TRUE(eventually([&] { return failed_rows().size() == 3; }, seconds(10)));
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(5)));
  EXPECT_EQ(upstream.request_count(), 3u);
  for (const SqlRow& row : failed_rows()) {
    EXPECT_EQ(column(row, "retry_count"), "0");
    EXPECT_EQ(column(row, "last_error"), "HTTP 404");
  }
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_retries_scheduled_total"), 0);
}

TEST_F(FailureStoreTest, UnreachableTargetStoresTheTransportError) {
  UpstreamServer upstream;
  upstream.stop();
  DaemonConfig config = forwarding_to({&upstream});
  config.set("forward", "breaker_failures", "100");  // keep trying the one target
  start_daemon(config);
  post_reports(1);
  ASSERT_TRUE(eventually([&] { return failed_rows().size() == 1; }, seconds(10)));
  const SqlRow row = failed_rows().front();
  EXPECT_EQ(column(row, "retry_count"), "3");
  EXPECT_NE(column(row, "last_error").find("onnect"), std::string::npos)
      << column(row, "last_error");
}

TEST_F(FailureStoreTest, MysqlDownKeepsFailedPacketsPendingUntilItReturns) {
  UpstreamServer upstream;
  upstream.set_default_status(404);
  mariadb().stop();
  start_daemon(forwarding_to({&upstream}));
  constexpr int kPackets = 20;
  post_reports(kPackets);

  ASSERT_TRUE(
      eventually([&] { return scrape_metrics().sum("gpsrelay_packets_failed_total") == kPackets; },
                 seconds(10)));
  // Every packet failed, none is acknowledged: all still pending in Redis.
  EXPECT_EQ(stream_length(), kPackets);
  EXPECT_EQ(pending_count(), kPackets);
  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_failed_packets_waiting"), kPackets);
  EXPECT_EQ(metrics.sum("gpsrelay_mysql_up"), 0);
  EXPECT_TRUE(eventually(
      [&] { return scrape_metrics().sum("gpsrelay_stream_pending") == kPackets; }, seconds(3)));
  const HttpResponse health = http_get(daemon().url("/health"));
  EXPECT_EQ(health.status, 503) << health;
  EXPECT_EQ(mysql_status(), "down");
  // Ingest goes on regardless.
  EXPECT_EQ(post_reports(1, kPackets).size(), 1u);

  mariadb().start();
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(20)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  EXPECT_EQ(failed_rows().size(), static_cast<size_t>(kPackets + 1));
  EXPECT_EQ(http_get(daemon().url("/health")).status, 200);
}

TEST_F(FailureStoreTest, StoringTheSamePacketAgainKeepsOneRow) {
  UpstreamServer upstream;
  upstream.set_default_status(404);
  start_daemon(forwarding_to({&upstream}));
  ASSERT_TRUE(eventually([&] { return mysql_status() == "up"; }, seconds(10)));
  // A row for this message id exists already, as after a crash between the
  // commit and the acknowledgement.
  mysql().query(
      "INSERT INTO failed_packets (message_id, payload, retry_count, last_error, target_server) "
      "VALUES ('1000-1', '{}', 9, 'HTTP 503', 'http://old/')");
  redis_client().command({"XADD", std::string(kDefaultStream), "1000-1", "payload", "{}",
                          "received_at", "1000", "request_id", "r-1"});
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(10)));
  const auto rows = mysql().query("SELECT * FROM failed_packets WHERE message_id = '1000-1'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(column(rows[0], "retry_count"), "0");
  EXPECT_EQ(column(rows[0], "last_error"), "HTTP 404");
  EXPECT_EQ(column(rows[0], "target_server"), upstream.url());
}

TEST_F(FailureStoreTest, OlderTableIsMigratedAtStart) {
  mysql().query(
      "CREATE TABLE failed_packets (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, "
      "message_id VARCHAR(64) NOT NULL UNIQUE, payload LONGBLOB NOT NULL, "
      "retry_count INT UNSIGNED NOT NULL DEFAULT 0, last_error VARCHAR(1024) NOT NULL DEFAULT '', "
      "target_server VARCHAR(2048) NOT NULL DEFAULT '', "
      "created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), "
      "updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))");
  mysql().query("INSERT INTO failed_packets (message_id, payload) VALUES ('1-0', 'old')");
  UpstreamServer upstream;
  upstream.set_default_status(410);
  start_daemon(forwarding_to({&upstream}));
  post_reports(1);
  ASSERT_TRUE(eventually([&] { return failed_rows().size() == 2; }, seconds(10)));
  const auto rows = failed_rows();
  EXPECT_EQ(column(rows[0], "payload"), "old");
  EXPECT_EQ(column(rows[0], "request_id"), "");
  EXPECT_NE(column(rows[1], "request_id"), "");
}

TEST_F(FailureStoreTest, RowsOlderThanTheRetentionAreDeleted) {
  UpstreamServer upstream;
  upstream.set_default_status(404);
  DaemonConfig config = forwarding_to({&upstream});
  config.set("mysql", "retention", "2s");
  start_daemon(config);
  ASSERT_TRUE(eventually([&] { return mysql_status() == "up"; }, seconds(10)));
  mysql().query(
      "INSERT INTO failed_packets (message_id, payload, created_at) "
      "VALUES ('1-0', 'old', NOW(3) - INTERVAL 1 DAY)");
  post_reports(1);
  // The old row goes at the next clean-up (every second at this retention);
  // the new one survives it, then goes too once it is 2 s old.
  ASSERT_TRUE(eventually(
      [&] {
        return mysql().scalar("SELECT COUNT(*) FROM failed_packets WHERE payload = 'old'") == "0";
      },
      seconds(5)));
  EXPECT_TRUE(eventually([&] { return failed_rows().empty(); }, seconds(10)));
  EXPECT_TRUE(
      eventually([&] { return scrape_metrics().sum("gpsrelay_failed_packets_expired_total") == 2; },
                 seconds(2)));
}

}  // namespace
}  // namespace gpsrelay::testing
