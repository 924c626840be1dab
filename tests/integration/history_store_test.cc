// Location history in MySQL against a real mariadbd: the driver_locations
// table and its daily partitions (history_schema.h), the batching writer
// (HistoryStore: one transaction per batch, entries never split, reported
// only after COMMIT, idempotent on redelivery, surviving a MySQL outage)
// and the route reader (RouteReader: time order, inclusive range, limit,
// many queued queries, no table yet, reconnect).
#include "store/history_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "locations/location_record.h"
#include "store/history_schema.h"
#include "store/mysql_connection.h"
#include "store/route_reader.h"
#include "support/eventually.h"
#include "support/mariadb_server.h"

namespace gpsrelay::testing {
namespace {

using locations::LocationRecord;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;
using store::HistoryEntry;
using store::HistoryStore;
using store::RouteQuery;
using store::RouteReader;
using store::RouteResult;
using SystemTime = std::chrono::system_clock::time_point;

constexpr char kUser[] = "gpsrelay";
constexpr char kPassword[] = "history-secret";
constexpr auto kDay = hours(24);

// 2025-06-15 13:45:00 UTC: a fixed "now" for the partition arithmetic.
const SystemTime kNow = SystemTime(
    std::chrono::sys_days(std::chrono::year(2025) / std::chrono::June / std::chrono::day(15)) +
    hours(13) + std::chrono::minutes(45));

std::int64_t unix_ms(SystemTime time) {
  return std::chrono::duration_cast<milliseconds>(time.time_since_epoch()).count();
}

LocationRecord point(const std::string& driver, std::int64_t ms, double latitude = 52.5,
                     double longitude = 13.4) {
  LocationRecord record;
  record.driver_id = driver;
  record.timestamp_ms = ms;
  record.latitude = latitude;
  record.longitude = longitude;
  return record;
}

HistoryEntry entry(const std::string& id, std::vector<LocationRecord> records) {
  return HistoryEntry{id, std::move(records)};
}

// The committed callback's calls, as the store thread made them.
class Commits {
 public:
  void record(std::vector<std::string> ids) {
    const std::lock_guard<std::mutex> lock(mutex_);
    calls_.push_back(std::move(ids));
  }
  std::vector<std::vector<std::string>> calls() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }
  std::vector<std::string> ids() const {
    std::vector<std::string> all;
    for (const auto& call : calls()) all.insert(all.end(), call.begin(), call.end());
    return all;
  }
  std::size_t count() const { return ids().size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<std::vector<std::string>> calls_;
};

class HistoryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { mariadb_ = std::make_unique<MariadbServer>(); }
  static void TearDownTestSuite() { mariadb_.reset(); }

  void SetUp() override {
    static std::atomic<int> next{0};
    database_ = "gpsrelay_h" + std::to_string(next++);
    // A test may have stopped the server and failed before restarting it.
    mariadb_->start();
    mariadb_->create_database(database_, kUser, kPassword);
  }
  // Before any member of a derived fixture goes: the store thread calls
  // back into the fixture.
  void TearDown() override { store_.reset(); }

  core::MysqlConfig mysql_config() const {
    core::MysqlConfig config;
    config.host = "127.0.0.1";
    config.port = static_cast<std::uint16_t>(mariadb_->port());
    config.user = kUser;
    config.password = kPassword;
    config.database = database_;
    return config;
  }
  MysqlClient sql() const { return mariadb_->client(database_); }
  store::MysqlConnection connection() const { return store::MysqlConnection(mysql_config()); }

  std::int64_t row_count(const std::string& where = "1") {
    return std::stoll(sql().scalar("SELECT COUNT(*) FROM driver_locations WHERE " + where));
  }
  // Partition name -> PARTITION_DESCRIPTION, in range order.
  std::vector<std::pair<std::string, std::string>> partitions() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const SqlRow& row :
         sql().query("SELECT PARTITION_NAME AS name, PARTITION_DESCRIPTION AS bound "
                     "FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() "
                     "AND TABLE_NAME = 'driver_locations' ORDER BY PARTITION_ORDINAL_POSITION")) {
      out.emplace_back(row.at("name").value_or("<null>"), row.at("bound").value_or("<null>"));
    }
    return out;
  }
  std::vector<std::string> partition_names() {
    std::vector<std::string> names;
    for (const auto& [name, bound] : partitions()) names.push_back(name);
    return names;
  }

  void start_store(HistoryStore::Options options, bool start = true) {
    store_ = std::make_unique<HistoryStore>(mysql_config(), options, metrics_,
                                            [this](std::vector<std::string> ids) {
                                              on_commit(ids);
                                              commits_.record(std::move(ids));
                                            });
    if (start) store_->start();
  }
  // Runs on the store thread inside the committed callback.
  virtual void on_commit(const std::vector<std::string>&) {}

  bool committed(std::size_t entries, std::chrono::milliseconds timeout = seconds(10)) {
    return eventually([&] { return commits_.count() >= entries; }, timeout);
  }

  static RouteResult route(RouteReader& reader, RouteQuery query) {
    auto answer = std::make_shared<std::promise<RouteResult>>();
    std::future<RouteResult> future = answer->get_future();
    if (!reader.submit(std::move(query), [answer](RouteResult r) { answer->set_value(r); })) {
      ADD_FAILURE() << "route query refused";
      return {};
    }
    if (future.wait_for(seconds(15)) != std::future_status::ready) {
      ADD_FAILURE() << "route query not answered";
      return {};
    }
    return future.get();
  }

  static std::unique_ptr<MariadbServer> mariadb_;
  std::string database_;
  core::HistoryMetrics metrics_;
  Commits commits_;
  std::unique_ptr<HistoryStore> store_;  // after what its callback uses: destroyed first
};

std::unique_ptr<MariadbServer> HistoryTest::mariadb_;

// Fields a route returns must equal what was stored, bit for bit.
void expect_same_point(const LocationRecord& got, const LocationRecord& want) {
  EXPECT_EQ(got.driver_id, want.driver_id);
  EXPECT_EQ(got.timestamp_ms, want.timestamp_ms);
  EXPECT_EQ(got.latitude, want.latitude);
  EXPECT_EQ(got.longitude, want.longitude);
  EXPECT_EQ(got.speed_kmh, want.speed_kmh);
  EXPECT_EQ(got.heading_deg, want.heading_deg);
  EXPECT_EQ(got.accuracy_m, want.accuracy_m);
  EXPECT_EQ(got.altitude_m, want.altitude_m);
  EXPECT_EQ(got.order_id, want.order_id);
  EXPECT_FALSE(got.battery_percent.has_value());
}

HistoryStore::Options fast_options() {
  HistoryStore::Options options;
  options.batch_interval = milliseconds(50);
  return options;
}

// --- schema and partitions -------------------------------------------------

TEST_F(HistoryTest, SchemaIsCreatedWithDailyPartitionsFromTodayToAWeekAheadAndPfuture) {
  auto mysql = connection();
  store::ensure_history_schema(mysql, kNow);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"p20250615", "'2025-06-16 00:00:00'"},
      {"p20250616", "'2025-06-17 00:00:00'"},
      {"p20250617", "'2025-06-18 00:00:00'"},
      {"p20250618", "'2025-06-19 00:00:00'"},
      {"p20250619", "'2025-06-20 00:00:00'"},
      {"p20250620", "'2025-06-21 00:00:00'"},
      {"p20250621", "'2025-06-22 00:00:00'"},
      {"p20250622", "'2025-06-23 00:00:00'"},
      {"pfuture", "MAXVALUE"}};
  EXPECT_EQ(partitions(), want);
  EXPECT_EQ(sql().scalar("SELECT PARTITION_METHOD FROM information_schema.PARTITIONS WHERE "
                         "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'driver_locations' LIMIT 1"),
            "RANGE COLUMNS");

  // Idempotent: again, and upkeep on the same day, change nothing.
  store::ensure_history_schema(mysql, kNow);
  EXPECT_EQ(store::maintain_history_partitions(mysql, kNow, 90 * kDay), 0u);
  EXPECT_EQ(partitions(), want);

  // A day later one more day is added before pfuture.
  EXPECT_EQ(store::maintain_history_partitions(mysql, kNow + kDay, 90 * kDay), 0u);
  const auto names = partition_names();
  ASSERT_EQ(names.size(), want.size() + 1);
  EXPECT_EQ(names[names.size() - 2], "p20250623");
  EXPECT_EQ(names.back(), "pfuture");

  // Old rows land in the oldest day, far future ones in pfuture, and a
  // range query on one day reads only that day's partition.
  sql().query(
      "INSERT INTO driver_locations (driver_id, `time`, latitude, longitude) VALUES "
      "('a', '2020-01-01 00:00:00', 1, 2), ('a', '2025-06-16 10:00:00.123', 1, 2), "
      "('a', '2031-01-01 00:00:00', 1, 2)");
  EXPECT_EQ(sql().scalar("SELECT COUNT(*) FROM driver_locations PARTITION (p20250615)"), "1");
  EXPECT_EQ(sql().scalar("SELECT COUNT(*) FROM driver_locations PARTITION (p20250616)"), "1");
  EXPECT_EQ(sql().scalar("SELECT COUNT(*) FROM driver_locations PARTITION (pfuture)"), "1");
  const auto plan = sql().query(
      "EXPLAIN PARTITIONS SELECT * FROM driver_locations WHERE driver_id = 'a' AND `time` "
      "BETWEEN '2025-06-16 00:00:00.000' AND '2025-06-16 23:59:59.999' ORDER BY `time`");
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].at("partitions").value_or(""), "p20250616");
  EXPECT_EQ(plan[0].at("key").value_or(""), "PRIMARY");
}

TEST_F(HistoryTest, RetentionDropsWholeDaysOlderThanTheRetentionAndKeepsNewerOnes) {
  auto mysql = connection();
  store::ensure_history_schema(mysql, kNow - 10 * kDay);  // p20250605 .. p20250612
  sql().query(
      "INSERT INTO driver_locations (driver_id, `time`, latitude, longitude) VALUES "
      "('a', '2025-06-05 10:00:00', 1, 2), ('a', '2025-06-11 23:59:59.999', 1, 2), "
      "('a', '2025-06-12 00:00:00', 1, 2), ('a', '2025-06-12 20:00:00', 1, 2)");

  // Cut-off 2025-06-12 13:45: every day up to 06-11 is wholly older; 06-12 is not.
  EXPECT_EQ(store::maintain_history_partitions(mysql, kNow, 3 * kDay), 7u);
  std::vector<std::string> want = {"p20250612"};
  for (int day = 15; day <= 22; ++day) want.push_back("p202506" + std::to_string(day));
  want.push_back("pfuture");
  EXPECT_EQ(partition_names(), want);
  EXPECT_EQ(row_count(), 2);
  EXPECT_EQ(row_count("`time` >= '2025-06-12 00:00:00'"), 2);

  // Idempotent.
  EXPECT_EQ(store::maintain_history_partitions(mysql, kNow, 3 * kDay), 0u);
  EXPECT_EQ(partition_names(), want);
}

TEST_F(HistoryTest, RetentionNeverDropsTheLastDailyPartition) {
  // Made by hand without pfuture: no day can be added, so upkeep may only
  // drop, and must keep one daily partition.
  sql().query(
      "CREATE TABLE driver_locations (driver_id VARCHAR(128) CHARACTER SET ascii NOT NULL, "
      "`time` DATETIME(3) NOT NULL, order_id VARCHAR(128) NULL, latitude DOUBLE NOT NULL, "
      "longitude DOUBLE NOT NULL, speed DOUBLE NULL, heading DOUBLE NULL, accuracy DOUBLE NULL, "
      "altitude DOUBLE NULL, PRIMARY KEY (driver_id, `time`)) "
      "PARTITION BY RANGE COLUMNS(`time`) ("
      "PARTITION p20250101 VALUES LESS THAN ('2025-01-02 00:00:00'), "
      "PARTITION p20250102 VALUES LESS THAN ('2025-01-03 00:00:00'))");
  auto mysql = connection();
  EXPECT_EQ(store::maintain_history_partitions(mysql, kNow, kDay), 1u);
  EXPECT_EQ(partition_names(), std::vector<std::string>{"p20250102"});
  EXPECT_EQ(store::maintain_history_partitions(mysql, kNow, kDay), 0u);
  EXPECT_EQ(partition_names(), std::vector<std::string>{"p20250102"});
}

TEST_F(HistoryTest, ConcurrentUpkeepByTwoDaemonsIsNotAnError) {
  auto first = connection();
  auto second = connection();
  store::ensure_history_schema(first, kNow - 10 * kDay);
  std::size_t dropped = 0;
  std::vector<std::future<std::size_t>> runs;
  runs.push_back(std::async(std::launch::async, [&] {
    return store::maintain_history_partitions(first, kNow, 3 * kDay);
  }));
  runs.push_back(std::async(std::launch::async, [&] {
    return store::maintain_history_partitions(second, kNow, 3 * kDay);
  }));
  for (auto& run : runs) ASSERT_NO_THROW(dropped += run.get());
  EXPECT_EQ(dropped, 7u);                    // each day once, by one of them
  EXPECT_EQ(partition_names().size(), 10u);  // p20250612, 06-15 .. 06-22, pfuture
}

TEST_F(HistoryTest, UnpartitionedTableIsWrittenButNotMaintained) {
  sql().query(
      "CREATE TABLE driver_locations (driver_id VARCHAR(128) CHARACTER SET ascii NOT NULL, "
      "`time` DATETIME(3) NOT NULL, order_id VARCHAR(128) NULL, latitude DOUBLE NOT NULL, "
      "longitude DOUBLE NOT NULL, speed DOUBLE NULL, heading DOUBLE NULL, accuracy DOUBLE NULL, "
      "altitude DOUBLE NULL, PRIMARY KEY (driver_id, `time`))");
  auto mysql = connection();
  EXPECT_EQ(store::maintain_history_partitions(mysql, kNow, kDay), 0u);

  start_store(fast_options());
  const std::int64_t now_ms = unix_ms(std::chrono::system_clock::now());
  ASSERT_TRUE(store_->submit(entry("1-0", {point("d1", now_ms)})));
  ASSERT_TRUE(committed(1));
  EXPECT_EQ(row_count(), 1);
  EXPECT_TRUE(metrics_.up.load());
  EXPECT_EQ(metrics_.partitions_dropped.load(), 0u);
  EXPECT_EQ(partition_names(), std::vector<std::string>{"<null>"});
}

// --- HistoryStore -----------------------------------------------------------

class HistoryBatchTest : public HistoryTest {
 protected:
  void on_commit(const std::vector<std::string>& ids) override {
    // Seen from another connection at the moment of the callback: the
    // rows of every reported entry are committed.
    MysqlClient client = sql();
    std::vector<std::int64_t> visible;
    for (const std::string& id : ids) {
      visible.push_back(std::stoll(client.scalar(
          "SELECT COUNT(*) FROM driver_locations WHERE driver_id = 'driver-" + id + "'")));
    }
    const std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < ids.size(); ++i) visible_rows_[ids[i]] = visible[i];
  }
  std::map<std::string, std::int64_t> visible_rows() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return visible_rows_;
  }
  // An entry whose records all belong to driver-<id>.
  static HistoryEntry entry_of(const std::string& id, int records, std::int64_t first_ms) {
    std::vector<LocationRecord> points;
    for (int i = 0; i < records; ++i) points.push_back(point("driver-" + id, first_ms + i * 1000));
    return entry(id, std::move(points));
  }

  std::mutex mutex_;
  std::map<std::string, std::int64_t> visible_rows_;
  const std::int64_t now_ms_ = unix_ms(std::chrono::system_clock::now());
};

TEST_F(HistoryBatchTest, RowsOfSeveralEntriesGoInOneBatchReportedOnceAfterCommit) {
  HistoryStore::Options options;
  options.batch_size = 10;
  options.batch_interval = seconds(60);  // only a full batch is written
  start_store(options);
  ASSERT_TRUE(store_->submit(entry_of("1-0", 3, now_ms_)));
  ASSERT_TRUE(store_->submit(entry_of("1-1", 3, now_ms_)));
  ASSERT_TRUE(store_->submit(entry_of("1-2", 2, now_ms_)));
  EXPECT_FALSE(committed(1, milliseconds(300))) << "written before the batch was full";
  ASSERT_TRUE(store_->submit(entry_of("1-3", 2, now_ms_)));
  ASSERT_TRUE(committed(4));

  const auto calls = commits_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], (std::vector<std::string>{"1-0", "1-1", "1-2", "1-3"}));
  EXPECT_EQ(visible_rows(),
            (std::map<std::string, std::int64_t>{{"1-0", 3}, {"1-1", 3}, {"1-2", 2}, {"1-3", 2}}));
  EXPECT_EQ(row_count(), 10);
  EXPECT_EQ(metrics_.batches.load(), 1u);
  EXPECT_EQ(metrics_.rows_written.load(), 10u);
  EXPECT_EQ(metrics_.backlog.load(), 0u);
  EXPECT_EQ(metrics_.batch_duration.count(), 1u);
  EXPECT_EQ(metrics_.connects.load(), 1u);
  EXPECT_TRUE(metrics_.up.load());
}

TEST_F(HistoryBatchTest, BatchIntervalFlushesAPartialBatch) {
  HistoryStore::Options options;
  options.batch_interval = milliseconds(300);
  start_store(options);
  ASSERT_TRUE(eventually([&] { return metrics_.up.load(); }, seconds(10)));
  const auto submitted = Clock::now();
  ASSERT_TRUE(store_->submit(entry_of("2-0", 2, now_ms_)));
  ASSERT_TRUE(committed(1));
  EXPECT_GE(elapsed_since(submitted), milliseconds(290));
  EXPECT_EQ(commits_.ids(), std::vector<std::string>{"2-0"});
  EXPECT_EQ(row_count(), 2);
  EXPECT_EQ(metrics_.batches.load(), 1u);
}

TEST_F(HistoryBatchTest, EntriesAreNeverSplitAcrossTransactions) {
  HistoryStore::Options options;
  options.batch_size = 4;
  start_store(options, /*start=*/false);
  // Queued before the thread runs, so the batches are known: 3 + 3 > 4,
  // 3 + 1 = 4, and 6 > 4 alone.
  ASSERT_TRUE(store_->submit(entry_of("a", 3, now_ms_)));
  ASSERT_TRUE(store_->submit(entry_of("b", 3, now_ms_)));
  ASSERT_TRUE(store_->submit(entry_of("c", 1, now_ms_)));
  ASSERT_TRUE(store_->submit(entry_of("d", 6, now_ms_)));
  EXPECT_EQ(metrics_.backlog.load(), 13u);
  store_->start();
  ASSERT_TRUE(committed(4));
  EXPECT_EQ(commits_.calls(), (std::vector<std::vector<std::string>>{{"a"}, {"b", "c"}, {"d"}}));
  EXPECT_EQ(visible_rows(),
            (std::map<std::string, std::int64_t>{{"a", 3}, {"b", 3}, {"c", 1}, {"d", 6}}));
  EXPECT_EQ(metrics_.batches.load(), 3u);
  EXPECT_EQ(metrics_.rows_written.load(), 13u);
  EXPECT_EQ(metrics_.backlog.load(), 0u);
}

TEST_F(HistoryBatchTest, RedeliveredEntryAddsNoRowButIsStillReported) {
  start_store(fast_options());
  ASSERT_TRUE(store_->submit(entry_of("3-0", 2, now_ms_)));
  ASSERT_TRUE(committed(1));
  // The same entry again (a crash between COMMIT and XACK), with a new one.
  ASSERT_TRUE(store_->submit(entry_of("3-0", 2, now_ms_)));
  ASSERT_TRUE(store_->submit(entry_of("3-1", 1, now_ms_)));
  ASSERT_TRUE(committed(3));
  EXPECT_EQ(commits_.ids(), (std::vector<std::string>{"3-0", "3-0", "3-1"}));
  EXPECT_EQ(row_count("driver_id = 'driver-3-0'"), 2);
  EXPECT_EQ(row_count(), 3);
  EXPECT_EQ(metrics_.rows_written.load(), 5u);  // duplicates included
}

TEST_F(HistoryBatchTest, MysqlOutageCommitsNothingThenEverythingOnceAfterRestart) {
  start_store(fast_options());
  ASSERT_TRUE(eventually([&] { return metrics_.up.load(); }, seconds(10)));
  mariadb_->stop();
  constexpr int kEntries = 20;
  std::set<std::string> submitted;
  for (int i = 0; i < kEntries; ++i) {
    const std::string id = "4-" + std::to_string(i);
    ASSERT_TRUE(store_->submit(entry_of(id, 2, now_ms_ + i * 10)));
    submitted.insert(id);
  }
  ASSERT_TRUE(eventually([&] { return !metrics_.up.load(); }, seconds(10)));
  EXPECT_FALSE(committed(1, seconds(2))) << "reported committed while MySQL was down";
  EXPECT_EQ(metrics_.backlog.load(), 2u * kEntries);

  mariadb_->start();
  ASSERT_TRUE(committed(kEntries, seconds(30)));
  const std::vector<std::string> ids = commits_.ids();
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kEntries));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), submitted);
  EXPECT_EQ(row_count(), 2 * kEntries);
  for (const auto& [id, rows] : visible_rows()) EXPECT_EQ(rows, 2) << id;
  EXPECT_TRUE(metrics_.up.load());
  EXPECT_GE(metrics_.connects.load(), 2u);
  EXPECT_EQ(metrics_.backlog.load(), 0u);
}

TEST_F(HistoryTest, FullBacklogRefusesEntriesAndBadRecordsAreRejected) {
  HistoryStore::Options options;
  options.max_backlog_rows = 5;
  start_store(options, /*start=*/false);
  const std::int64_t now_ms = unix_ms(std::chrono::system_clock::now());
  EXPECT_TRUE(store_->submit(entry("1", {point("d", now_ms), point("d", now_ms + 1)})));
  EXPECT_TRUE(store_->submit(entry("2", {point("d", now_ms + 2), point("d", now_ms + 3)})));
  EXPECT_FALSE(store_->submit(entry("3", {point("d", now_ms + 4), point("d", now_ms + 5)})));
  EXPECT_TRUE(store_->submit(entry("4", {point("d", now_ms + 6)})));
  EXPECT_EQ(metrics_.backlog.load(), 5u);

  EXPECT_THROW(store_->submit(entry("5", {})), std::invalid_argument);
  EXPECT_THROW(store_->submit(entry("6", {point("d", now_ms, 91.0)})), std::invalid_argument);
  EXPECT_THROW(store_->submit(entry("7", {point("bad id", now_ms)})), std::invalid_argument);
  EXPECT_THROW(store_->submit(entry("8", {point("d", 300000000000000)})), std::invalid_argument);

  // An entry larger than the whole backlog still goes when nothing waits.
  HistoryStore::Options small;
  small.max_backlog_rows = 1;
  HistoryStore other(mysql_config(), small, metrics_, [](std::vector<std::string>) {});
  EXPECT_TRUE(other.submit(entry("9", {point("d", now_ms), point("d", now_ms + 1)})));
}

TEST_F(HistoryTest, StoreDropsPartitionsPastItsRetention) {
  const auto now = std::chrono::system_clock::now();
  {
    auto mysql = connection();
    store::ensure_history_schema(mysql, now - 10 * kDay);
  }
  HistoryStore::Options options = fast_options();
  options.retention = 3 * kDay;
  start_store(options);
  ASSERT_TRUE(eventually([&] { return metrics_.partitions_dropped.load() == 7; }, seconds(10)));
  // Today-3 (not wholly past the retention) through today+7, and pfuture.
  EXPECT_EQ(partition_names().size(), 10u);
}

// --- RouteReader -------------------------------------------------------------

TEST_F(HistoryTest, RouteReaderReturnsPointsInTimeOrderWithinTheRange) {
  const std::int64_t base = unix_ms(std::chrono::system_clock::now()) - 3600 * 1000;
  // Ten points, every field set on some, doubles that a text round trip
  // could bend, submitted out of order across entries.
  std::vector<LocationRecord> points;
  for (int i = 0; i < 10; ++i) {
    LocationRecord p =
        point("route-1", base + i * 1000, 52.520008123456789 + i * 1e-9, 13.404954 + 0.1 + 0.2 * i);
    if (i % 2 == 0) {
      p.speed_kmh = 0.1 + 0.2;
      p.heading_deg = 359.99999999999994;
      p.accuracy_m = 1e-7 * (i + 1);
      p.altitude_m = -412.5;
      p.order_id = "order-" + std::to_string(i);
    }
    points.push_back(p);
  }
  points[9].longitude = 179.99999999999997;
  start_store(fast_options());
  ASSERT_TRUE(store_->submit(entry("1", {points[7], points[2], points[9]})));
  ASSERT_TRUE(store_->submit(entry("2", {points[0], points[5]})));
  ASSERT_TRUE(store_->submit(entry("3", {points[1], points[3], points[4], points[6], points[8]})));
  // Another driver inside the same time range.
  ASSERT_TRUE(store_->submit(entry("4", {point("route-2", base + 500), point("route-2", base)})));
  ASSERT_TRUE(committed(4));

  RouteReader reader(mysql_config(), RouteReader::Options{});
  reader.start();
  RouteResult all = route(reader, {"route-1", base, base + 9000, 100});
  ASSERT_TRUE(all.ok) << all.error;
  ASSERT_EQ(all.points.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) expect_same_point(all.points[i], points[i]);
  EXPECT_TRUE(reader.up());

  // Both ends inclusive.
  RouteResult middle = route(reader, {"route-1", base + 2000, base + 5000, 100});
  ASSERT_TRUE(middle.ok) << middle.error;
  ASSERT_EQ(middle.points.size(), 4u);
  EXPECT_EQ(middle.points.front().timestamp_ms, base + 2000);
  EXPECT_EQ(middle.points.back().timestamp_ms, base + 5000);
  // Just inside and just outside by a millisecond.
  EXPECT_EQ(route(reader, {"route-1", base + 1, base + 999, 100}).points.size(), 0u);
  EXPECT_EQ(route(reader, {"route-1", base - 1, base + 1, 100}).points.size(), 1u);

  // The limit keeps the earliest points.
  RouteResult limited = route(reader, {"route-1", base, base + 9000, 3});
  ASSERT_EQ(limited.points.size(), 3u);
  EXPECT_EQ(limited.points[2].timestamp_ms, base + 2000);

  RouteResult other = route(reader, {"route-2", base - 1000, base + 9000, 100});
  ASSERT_EQ(other.points.size(), 2u);
  EXPECT_EQ(other.points[0].timestamp_ms, base);

  RouteResult unknown = route(reader, {"nobody", base, base + 9000, 100});
  EXPECT_TRUE(unknown.ok) << unknown.error;
  EXPECT_TRUE(unknown.points.empty());

  // Any int64 range is valid: clamped to what DATETIME holds.
  RouteResult everything = route(reader, {"route-1", std::numeric_limits<std::int64_t>::min(),
                                          std::numeric_limits<std::int64_t>::max(), 1000});
  ASSERT_TRUE(everything.ok) << everything.error;
  EXPECT_EQ(everything.points.size(), 10u);
}

TEST_F(HistoryTest, RouteReaderAnswersEmptyBeforeTheTableExists) {
  RouteReader reader(mysql_config(), RouteReader::Options{});
  reader.start();
  RouteResult before = route(reader, {"d1", 0, 4102444800000, 10});
  EXPECT_TRUE(before.ok) << before.error;
  EXPECT_TRUE(before.points.empty());

  auto mysql = connection();
  store::ensure_history_schema(mysql, std::chrono::system_clock::now());
  const std::int64_t now_ms = unix_ms(std::chrono::system_clock::now());
  sql().query(
      "INSERT INTO driver_locations (driver_id, `time`, latitude, longitude) VALUES ('d1', '" +
      store::format_history_time(now_ms) + "', 1.5, 2.5)");
  RouteResult after = route(reader, {"d1", 0, 4102444800000, 10});
  ASSERT_TRUE(after.ok) << after.error;
  ASSERT_EQ(after.points.size(), 1u);
  EXPECT_EQ(after.points[0].timestamp_ms, now_ms);
  EXPECT_EQ(after.points[0].latitude, 1.5);
}

TEST_F(HistoryTest, RouteReaderAnswersManyQueuedQueriesAndRefusesBeyondItsQueue) {
  auto mysql = connection();
  store::ensure_history_schema(mysql, std::chrono::system_clock::now());
  const std::int64_t base = unix_ms(std::chrono::system_clock::now()) - 60000;
  std::string values;
  for (int i = 0; i < 50; ++i) {
    values += std::string(values.empty() ? "" : ",") + "('many', '" +
              store::format_history_time(base + i * 100) + "', 1, 2)";
  }
  sql().query("INSERT INTO driver_locations (driver_id, `time`, latitude, longitude) VALUES " +
              values);

  RouteReader reader(mysql_config(), RouteReader::Options{});
  reader.start();
  constexpr int kQueries = 500;
  std::mutex mutex;
  std::vector<int> sizes(kQueries, -1);
  std::atomic<int> answered{0};
  for (int i = 0; i < kQueries; ++i) {
    const unsigned limit = static_cast<unsigned>(i % 60);
    ASSERT_TRUE(reader.submit({"many", base, base + 60000, limit}, [&, i](RouteResult result) {
      {
        const std::lock_guard<std::mutex> lock(mutex);
        sizes[i] = result.ok ? static_cast<int>(result.points.size()) : -2;
      }
      ++answered;
    }));
  }
  ASSERT_TRUE(eventually([&] { return answered.load() == kQueries; }, seconds(30)));
  for (int i = 0; i < kQueries; ++i) EXPECT_EQ(sizes[i], std::min(i % 60, 50)) << i;

  // A reader whose thread is held inside a callback: its queue fills up.
  RouteReader::Options small;
  small.max_queued = 3;
  RouteReader busy(mysql_config(), small);
  busy.start();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> holding{false};
  std::atomic<int> done{0};
  ASSERT_TRUE(busy.submit({"many", base, base + 60000, 1}, [&](RouteResult) {
    holding = true;
    released.wait();
    ++done;
  }));
  ASSERT_TRUE(eventually([&] { return holding.load(); }, seconds(10)));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(busy.submit({"many", base, base + 60000, 1}, [&](RouteResult) { ++done; }));
  }
  EXPECT_FALSE(busy.submit({"many", base, base + 60000, 1}, [&](RouteResult) { ++done; }));
  release.set_value();
  EXPECT_TRUE(eventually([&] { return done.load() == 4; }, seconds(10)));
}

TEST_F(HistoryTest, RouteReaderFailsWhileMysqlIsDownAndRecoversAfter) {
  auto mysql = connection();
  store::ensure_history_schema(mysql, std::chrono::system_clock::now());
  RouteReader reader(mysql_config(), RouteReader::Options{});
  reader.start();
  ASSERT_TRUE(route(reader, {"d1", 0, 4102444800000, 10}).ok);

  mariadb_->stop();
  const RouteResult down = route(reader, {"d1", 0, 4102444800000, 10});
  EXPECT_FALSE(down.ok);
  EXPECT_FALSE(down.error.empty());
  EXPECT_FALSE(reader.up());

  mariadb_->start();
  EXPECT_TRUE(eventually(
      [&] {
        return route(reader, {"d1", 0, 4102444800000, 10}).ok;
      },
      seconds(20), milliseconds(100)));
  EXPECT_TRUE(reader.up());
}

TEST_F(HistoryTest, RouteReaderAnswersEveryAcceptedQueryEvenWhenNeverStarted) {
  auto reader = std::make_unique<RouteReader>(mysql_config(), RouteReader::Options{});
  std::atomic<int> failed{0};
  std::atomic<int> refused_answers{0};
  ASSERT_TRUE(reader->submit({"d1", 0, 1, 10}, [&](RouteResult r) { failed += r.ok ? 0 : 1; }));
  reader->request_stop();
  EXPECT_FALSE(reader->submit({"d1", 0, 1, 10}, [&](RouteResult) { ++refused_answers; }));
  reader.reset();
  EXPECT_EQ(failed.load(), 1);
  EXPECT_EQ(refused_answers.load(), 0);
}

}  // namespace
}  // namespace gpsrelay::testing
