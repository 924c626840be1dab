// The write-behind values (CONTRACT.md, "Entity events", dsProxy) end to end
// against a real gpsrelayd, redis-server and mariadbd: POST /write is in
// the cache at once and in user_values after a flush; reads fall back to
// MySQL when the cache has expired and refill it; an older ts never wins;
// a kill -9 between the 202s and the flush loses nothing; a MySQL outage
// keeps writes and cached reads going and is caught up afterwards.
#include <gtest/gtest.h>
#include <jansson.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/http_client.h"
#include "support/json.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kValuesStream = "gpsrelay:values";

class ValuesTest : public ForwardingTest {
 protected:
  // Values flushed every 100 ms unless the test says otherwise.
  void start_values(DaemonConfig extra = {}) {
    DaemonConfig config = forwarding_to({});
    config.erase("forward", "targets");
    config.set("events", "enabled", "true");
    config.set("events", "batch_interval", "100ms");
    start_daemon(config.merge(extra));
  }

  HttpResponse write(const std::string& body) {
    return http_request("POST", daemon().url("/write"), body, kJsonContentType);
  }
  HttpResponse write(const std::string& user, const std::string& value, long long ts) {
    return write(R"({"user_id":")" + user + R"(","value":)" + value + R"(,"ts":)" +
                 std::to_string(ts) + "}");
  }
  HttpResponse read(const std::string& user) {
    return http_get(daemon().url("/read?user_id=" + user));
  }

  // The row of `user` as "value|ts", or "" when there is none.
  std::string row(const std::string& user) {
    try {
      const std::vector<SqlRow> rows =
          mysql().query("SELECT `value`, ts FROM user_values WHERE user_id = '" + user + "'");
      if (rows.empty()) return "";
      return rows[0].at("value").value_or("NULL") + "|" + rows[0].at("ts").value_or("NULL");
    } catch (const std::runtime_error&) {
      return "";  // the table is not there yet
    }
  }
  long long row_count() {
    try {
      return std::stoll(mysql().scalar("SELECT COUNT(*) FROM user_values"));
    } catch (const std::runtime_error&) {
      return -1;
    }
  }
  bool cached(const std::string& user) {
    const RedisReplyPtr reply =
        redis_client().command({"EXISTS", std::string(kValuesStream) + ":user:" + user});
    return reply->integer == 1;
  }
  // Every entry acknowledged and deleted.
  bool stream_empty() { return stream_length(kValuesStream) == 0; }
};

// The answer's member `key` as compact JSON text ("" when absent).
std::string member_json(const HttpResponse& response, const char* key) {
  const JsonPtr body = parse_json(response.body);
  const json_t* value = body ? json_object_get(body.get(), key) : nullptr;
  if (value == nullptr) return "";
  char* text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
  std::string out = text ? text : "";
  std::free(text);
  return out;
}

TEST_F(ValuesTest, AWriteIsReadFromTheCacheAtOnceAndReachesMysqlAfterTheFlush) {
  start_values();
  const HttpResponse accepted = write("u-1", R"({"score":7,"tags":["a"]})", 1700000000123);
  ASSERT_EQ(accepted.status, 202) << accepted;
  EXPECT_EQ(member_json(accepted, "status"), "\"accepted\"");
  const std::string id = member_json(accepted, "id");
  EXPECT_GT(id.size(), 4U) << accepted;

  const HttpResponse answer = read("u-1");
  ASSERT_EQ(answer.status, 200) << answer;
  EXPECT_EQ(member_json(answer, "user_id"), "\"u-1\"");
  EXPECT_EQ(member_json(answer, "value"), R"({"score":7,"tags":["a"]})");
  EXPECT_EQ(member_json(answer, "ts"), "1700000000123");
  EXPECT_EQ(member_json(answer, "source"), "\"cache\"");

  ASSERT_TRUE(eventually([&] { return !row("u-1").empty(); }, seconds(10)));
  EXPECT_EQ(row("u-1"), R"({"score":7,"tags":["a"]}|1700000000123)");
  // Acknowledged after the commit, and gone from the stream.
  EXPECT_TRUE(eventually([&] { return stream_empty(); }, seconds(5)));
  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_values_writes_accepted_total").value_or(0), 1);
  EXPECT_EQ(metrics.sum("gpsrelay_values_cache_hits_total").value_or(0), 1);
  EXPECT_EQ(metrics.sum("gpsrelay_values_rows_written_total").value_or(0), 1);
  // /health shows the values consumer under the events module (the
  // backlog once the consumer has sampled its group: every second).
  EXPECT_TRUE(eventually(
      [&] {
        return http_get(daemon().url("/health"))
                   .body.find(
                       R"("values":{"consumer":"up","mysql":"up","backlog":0,"queued":0})") !=
               std::string::npos;
      },
      seconds(5)))
      << http_get(daemon().url("/health"));
}

TEST_F(ValuesTest, AFullBatchIsWrittenWithoutWaitingForTheInterval) {
  start_values({{"events", "batch_interval", "1h"}, {"events", "batch_size", "5"}});
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(write("b-" + std::to_string(i), std::to_string(i), 1000 + i).status, 202);
  }
  ASSERT_TRUE(eventually([&] { return row_count() == 5; }, seconds(10))) << row_count();
  EXPECT_EQ(row("b-3"), "3|1003");
  // The batch of five was one flush of five rows.
  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_values_batch_rows_count").value_or(0), 1);
  EXPECT_EQ(metrics.sum("gpsrelay_values_batch_rows_sum").value_or(0), 5);
}

TEST_F(ValuesTest, AnExpiredCacheFallsBackToMysqlAndIsRefilled) {
  start_values({{"events", "cache_ttl", "500ms"}});
  ASSERT_EQ(write("e-1", R"("hello")", 5000).status, 202);
  ASSERT_TRUE(eventually([&] { return !row("e-1").empty(); }, seconds(10)));
  ASSERT_TRUE(eventually([&] { return !cached("e-1"); }, seconds(5)));

  const HttpResponse from_mysql = read("e-1");
  ASSERT_EQ(from_mysql.status, 200) << from_mysql;
  EXPECT_EQ(member_json(from_mysql, "source"), "\"mysql\"");
  EXPECT_EQ(member_json(from_mysql, "value"), R"("hello")");
  EXPECT_EQ(member_json(from_mysql, "ts"), "5000");
  EXPECT_TRUE(cached("e-1"));
  const HttpResponse again = read("e-1");
  EXPECT_EQ(member_json(again, "source"), "\"cache\"") << again;
  EXPECT_EQ(member_json(again, "value"), R"("hello")");
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_values_cache_misses_total").value_or(0), 1);
}

TEST_F(ValuesTest, AnOlderTsWrittenAfterANewerOneDoesNotWin) {
  start_values();
  // In one batch: the cache and the collapsed row keep the newer.
  ASSERT_EQ(write("o-1", R"("new")", 2000).status, 202);
  ASSERT_EQ(write("o-1", R"("old")", 1000).status, 202);
  HttpResponse answer = read("o-1");
  EXPECT_EQ(member_json(answer, "value"), R"("new")") << answer;
  EXPECT_EQ(member_json(answer, "ts"), "2000");
  ASSERT_TRUE(eventually([&] { return stream_empty() && !row("o-1").empty(); }, seconds(10)));
  EXPECT_EQ(row("o-1"), R"("new"|2000)");

  // In a later batch: MySQL's row keeps the newer too.
  ASSERT_EQ(write("o-1", R"("older")", 1500).status, 202);
  ASSERT_TRUE(eventually([&] { return stream_empty(); }, seconds(10)));
  EXPECT_EQ(row("o-1"), R"("new"|2000)");
  answer = read("o-1");
  EXPECT_EQ(member_json(answer, "value"), R"("new")") << answer;

  // An equal or newer ts replaces it, in both.
  ASSERT_EQ(write("o-1", R"("newest")", 3000).status, 202);
  EXPECT_EQ(member_json(read("o-1"), "value"), R"("newest")");
  ASSERT_TRUE(eventually([&] { return row("o-1") == R"("newest"|3000)"; }, seconds(10)))
      << row("o-1");
}

TEST_F(ValuesTest, AKillBetweenTheAnswersAndTheFlushLosesNothing) {
  // Nothing would be flushed for an hour: every accepted value is only in
  // Redis when the daemon dies.
  start_values({{"events", "batch_interval", "1h"}, {"events", "batch_size", "1000"}});
  constexpr int kValues = 40;
  for (int i = 0; i < kValues; ++i) {
    ASSERT_EQ(write("k-" + std::to_string(i), std::to_string(i), 10 + i).status, 202);
  }
  // The consumer has read them (pending in its group), none is written.
  ASSERT_TRUE(eventually(
      [&] {
        const MetricsPage metrics = scrape_metrics();
        return metrics.sum("gpsrelay_values_queued").value_or(0) == kValues;
      },
      seconds(10)));
  EXPECT_LE(row_count(), 0);
  daemon().process().kill();

  // The next instance (another consumer name: another port) reclaims the
  // dead one's pending entries after forward.claim_idle (1 s here).
  start_values();
  ASSERT_TRUE(eventually([&] { return row_count() == kValues; }, seconds(20))) << row_count();
  for (int i = 0; i < kValues; ++i) {
    EXPECT_EQ(row("k-" + std::to_string(i)), std::to_string(i) + "|" + std::to_string(10 + i));
  }
  EXPECT_TRUE(eventually([&] { return stream_empty(); }, seconds(5)));
}

TEST_F(ValuesTest, WithMysqlDownWritesAndCachedReadsGoOnAndTheBacklogIsFlushedLater) {
  start_values();
  ASSERT_EQ(write("m-0", "0", 1).status, 202);
  ASSERT_TRUE(eventually([&] { return !row("m-0").empty(); }, seconds(10)));
  mariadb().stop();

  for (int i = 1; i <= 10; ++i) {
    const HttpResponse accepted = write("m-" + std::to_string(i), std::to_string(i), i);
    ASSERT_EQ(accepted.status, 202) << accepted;
  }
  const HttpResponse cached_read = read("m-5");
  ASSERT_EQ(cached_read.status, 200) << cached_read;
  EXPECT_EQ(member_json(cached_read, "source"), "\"cache\"");
  // Not cached and MySQL down: no answer can be given.
  const HttpResponse unknown = read("nobody");
  EXPECT_TRUE(is_json_error(unknown, 503)) << unknown;
  ASSERT_TRUE(
      eventually([&] { return scrape_metrics().sum("gpsrelay_values_backlog").value_or(0) >= 10; },
                 seconds(10)));
  EXPECT_EQ(stream_length(kValuesStream), 10);

  mariadb().start();
  ASSERT_TRUE(eventually([&] { return row_count() == 11; }, seconds(30))) << row_count();
  EXPECT_EQ(row("m-7"), "7|7");
  EXPECT_TRUE(eventually([&] { return stream_empty(); }, seconds(5)));
}

TEST_F(ValuesTest, AReadOnlyServerHoldsValuesBackAndLosesNone) {
  // What a MariaDB failover looks like from here: the old primary turns
  // read-only (1290) before the new one takes over. A statement refused
  // for that is retried, never dropped as a bad value.
  start_values();
  ASSERT_EQ(write("ro-0", "0", 1).status, 202);
  ASSERT_TRUE(eventually([&] { return !row("ro-0").empty(); }, seconds(10)));
  MysqlClient root = mysql();
  root.query("SET GLOBAL read_only = ON");
  struct Writable {
    MysqlClient& root;
    ~Writable() { root.query("SET GLOBAL read_only = OFF"); }
  } restore{root};
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(write("ro-" + std::to_string(i), std::to_string(i), i).status, 202);
  }
  ASSERT_TRUE(
      eventually([&] { return count_occurrences(daemon().log(), "values wait for MySQL") >= 1; },
                 seconds(10)));
  EXPECT_EQ(row_count(), 1);
  root.query("SET GLOBAL read_only = OFF");
  ASSERT_TRUE(eventually([&] { return row_count() == 6; }, seconds(30))) << row_count();
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_values_rows_refused_total").value_or(0), 0);
  EXPECT_EQ(count_occurrences(daemon().log(), "it is dropped"), 0u);
  EXPECT_TRUE(eventually([&] { return stream_empty(); }, seconds(5)));
}

TEST_F(ValuesTest, AnOlderValueCachedDuringAnOutageIsReplacedOnceTheNewerOneIsCommitted) {
  start_values();
  ASSERT_EQ(write("r-1", R"("v1")", 1000).status, 202);
  ASSERT_TRUE(eventually([&] { return row("r-1") == R"("v1"|1000)"; }, seconds(10)));
  mariadb().stop();
  ASSERT_EQ(write("r-1", R"("v2")", 2000).status, 202);
  // What a read-through refill leaves when the cache had expired and MySQL
  // answered (its row still v1) before the backlog with v2 was flushed.
  redis_client().command({"SET", std::string(kValuesStream) + ":user:r-1",
                          R"({"user_id":"r-1","value":"v1","ts":1000})"});
  mariadb().start();
  ASSERT_TRUE(eventually([&] { return row("r-1") == R"("v2"|2000)"; }, seconds(30))) << row("r-1");
  EXPECT_TRUE(
      eventually([&] { return member_json(read("r-1"), "value") == R"("v2")"; }, seconds(5)));
}

TEST_F(ValuesTest, BadInputIsRefusedNamingTheFieldAndAnUnknownUserIs404) {
  start_values();
  const auto field_of = [](const HttpResponse& response) { return member_json(response, "field"); };
  HttpResponse response = write(R"({"value":1})");
  EXPECT_TRUE(is_json_error(response, 400)) << response;
  EXPECT_EQ(field_of(response), "\"user_id\"");
  response = write(R"({"user_id":"u"})");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(field_of(response), "\"value\"");
  response = write(R"({"user_id":"u","value":1,"ts":"yesterday"})");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(field_of(response), "\"ts\"");
  response = write("{not json");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(field_of(response), "\"\"");
  response = http_get(daemon().url("/read"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(field_of(response), "\"user_id\"");

  const HttpResponse unknown = read("nobody");
  EXPECT_TRUE(is_json_error(unknown, 404)) << unknown;
  EXPECT_EQ(stream_length(kValuesStream), 0);
}

}  // namespace
}  // namespace gpsrelay::testing
