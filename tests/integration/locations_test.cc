// The location service end to end against a real gpsrelayd, redis-server
// and mariadbd: each device format posted as its app sends it, then read
// back as the current location, in nearby search and as a route from the
// MySQL history; stale reports, TTL expiry, order lookup, parameter
// errors, read tokens, a MySQL outage, and the trimming of the shared
// stream with forwarding on and its upstream down.
#include <gtest/gtest.h>
#include <jansson.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/http_client.h"
#include "support/json.h"
#include "support/ports.h"
#include "support/temp_dir.h"
#include "support/upstream_server.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

double number_member(const json_t* object, const char* key) {
  const json_t* value = json_object_get(object, key);
  return json_is_number(value) ? json_number_value(value) : std::nan("");
}

class LocationsTest : public ForwardingTest {
 protected:
  HttpResponse post_driver(const std::string& driver, const std::string& body,
                           HeaderList headers = kJsonContentType) {
    return http_request("POST", daemon().url("/api/v1/drivers/" + driver + "/location"), body,
                        headers);
  }

  HttpResponse get(const std::string& path, HeaderList headers = {}) {
    return http_request("GET", daemon().url(path), {}, headers);
  }

  // The driver's current record, once it exists; null if it never does.
  JsonPtr current(const std::string& driver, seconds timeout = seconds(5)) {
    JsonPtr record;
    eventually(
        [&] {
          const HttpResponse response = get("/api/v1/drivers/" + driver + "/location");
          if (response.status != 200) return false;
          record = parse_json(response.body);
          return record != nullptr;
        },
        timeout);
    return record;
  }

  long long history_rows(const std::string& where = "1") {
    try {
      return std::stoll(mysql().scalar("SELECT COUNT(*) FROM driver_locations WHERE " + where));
    } catch (const std::exception&) {
      return -1;  // the table does not exist yet
    }
  }

  long long locations_pending() {
    const RedisReplyPtr reply =
        redis_client().command({"XPENDING", std::string(kDefaultStream), "locations"});
    return reply->type == REDIS_REPLY_ARRAY ? reply->element[0]->integer : -1;
  }
};

TEST_F(LocationsTest, DriverEndpointIsAcceptedThenReadAsCurrentAndAsRoute) {
  start_daemon(locations_config());
  const std::int64_t at = unix_now_ms() - 60000;
  const HttpResponse posted =
      post_driver("driver-1", R"({"latitude":52.52,"longitude":13.405,"speed":36.5,"heading":90,)"
                              R"("accuracy":4.5,"altitude":34,"order_id":"order-9","timestamp":)" +
                                  std::to_string(at) + "}");
  ASSERT_EQ(posted.status, 202) << posted;
  const JsonPtr accepted = parse_json(posted.body);
  EXPECT_EQ(json_string(accepted.get(), "status"), "accepted");
  EXPECT_FALSE(json_string(accepted.get(), "message_id").value_or("").empty());

  const JsonPtr record = current("driver-1");
  ASSERT_TRUE(record) << daemon().diagnostics();
  EXPECT_EQ(json_string(record.get(), "driver_id"), "driver-1");
  EXPECT_DOUBLE_EQ(number_member(record.get(), "latitude"), 52.52);
  EXPECT_DOUBLE_EQ(number_member(record.get(), "longitude"), 13.405);
  EXPECT_DOUBLE_EQ(number_member(record.get(), "speed"), 36.5);
  EXPECT_EQ(json_string(record.get(), "order_id"), "order-9");

  // The order's driver, and the route from history.
  const HttpResponse order = get("/api/v1/orders/order-9/driver-location");
  ASSERT_EQ(order.status, 200) << order;
  EXPECT_EQ(json_string(parse_json(order.body).get(), "driver_id"), "driver-1");
  ASSERT_TRUE(eventually([&] { return history_rows() == 1; }, seconds(5)))
      << daemon().diagnostics();
  const HttpResponse route =
      get("/api/v1/drivers/driver-1/route?start_time=" + std::to_string((at - 1000) / 1000));
  ASSERT_EQ(route.status, 200) << route;
  const JsonPtr body = parse_json(route.body);
  ASSERT_EQ(json_array_size(json_object_get(body.get(), "points")), 1u) << route;
  const HttpResponse geojson = get("/api/v1/drivers/driver-1/route?format=geojson&start_time=" +
                                   std::to_string((at - 1000) / 1000));
  EXPECT_EQ(json_string(parse_json(geojson.body).get(), "type"), "Feature") << geojson;
  // Acknowledged in the locations group once the row is committed.
  EXPECT_TRUE(eventually([&] { return locations_pending() == 0; }, seconds(5)));
}

TEST_F(LocationsTest, OsmAndQueryAsTraccarClientSendsIt) {
  start_daemon(locations_config());
  // Traccar Client (OsmAnd protocol): POST with the fields in the query
  // string and an empty body; speed in knots.
  const std::int64_t at = unix_now_ms() / 1000 - 30;
  const HttpResponse response = http_request(
      "POST",
      daemon().url("/api/v1/osmand?id=123456&timestamp=" + std::to_string(at) +
                   "&lat=48.8566&lon=2.3522&speed=10&bearing=180&altitude=35&accuracy=12&batt=81"),
      "", {"Content-Type: application/x-www-form-urlencoded"});
  ASSERT_EQ(response.status, 200) << response;
  EXPECT_EQ(response.body, "");
  const JsonPtr record = current("123456");
  ASSERT_TRUE(record) << daemon().diagnostics();
  EXPECT_NEAR(number_member(record.get(), "speed"), 18.52, 0.001);  // 10 knots
  EXPECT_DOUBLE_EQ(number_member(record.get(), "heading"), 180);
  EXPECT_DOUBLE_EQ(number_member(record.get(), "battery"), 81);
}

TEST_F(LocationsTest, TraccarClientJsonBody) {
  start_daemon(locations_config());
  const HttpResponse response =
      http_request("POST", daemon().url("/api/v1/osmand"),
                   R"({"location":{"timestamp":")" + std::string("2026-11-30T00:00:00.000Z") +
                       R"(","coords":{"latitude":40.4168,"longitude":-3.7038,"speed":5,)"
                       R"("heading":45,"accuracy":8,"altitude":650},"is_moving":true,)"
                       R"("battery":{"level":0.5,"is_charging":false}},"device_id":"tc-7"})",
                   kJsonContentType);
  ASSERT_EQ(response.status, 200) << response;
  const JsonPtr record = current("tc-7");
  ASSERT_TRUE(record) << daemon().diagnostics();
  EXPECT_NEAR(number_member(record.get(), "speed"), 18, 0.001);  // 5 m/s
  EXPECT_DOUBLE_EQ(number_member(record.get(), "battery"), 50);
}

TEST_F(LocationsTest, OwnTracksHttpModeAnswersAnEmptyList) {
  start_daemon(locations_config());
  const std::int64_t at = unix_now_ms() / 1000 - 5;
  const HttpResponse response =
      http_request("POST", daemon().url("/api/v1/owntracks"),
                   R"({"_type":"location","tid":"ph","lat":51.5074,"lon":-0.1278,"tst":)" +
                       std::to_string(at) + R"(,"acc":10,"batt":64,"vel":20,"cog":270})",
                   {"Content-Type: application/json", "X-Limit-U: alice", "X-Limit-D: phone"});
  ASSERT_EQ(response.status, 200) << response;
  EXPECT_EQ(response.body, "[]");
  const JsonPtr record = current("phone");
  ASSERT_TRUE(record) << daemon().diagnostics();
  EXPECT_DOUBLE_EQ(number_member(record.get(), "speed"), 20);
}

TEST_F(LocationsTest, RawReportWithFlatKeysBecomesALocationAndStaysByteExact) {
  start_daemon(locations_config());
  const std::string body = R"({"device_id":"raw-1","lat":35.6762,"lng":139.6503,"extra":[1,2]})";
  const HttpResponse response = post_report(body);
  ASSERT_TRUE(is_accepted(response)) << response;
  const JsonPtr record = current("raw-1");
  ASSERT_TRUE(record) << daemon().diagnostics();
  EXPECT_DOUBLE_EQ(number_member(record.get(), "longitude"), 139.6503);
  const std::optional<StreamEntry> entry = find_entry(message_id_of(response));
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->fields.at("payload"), body);
}

TEST_F(LocationsTest, AnOlderReportNeverReplacesANewerOne) {
  start_daemon(locations_config());
  const std::int64_t newer = unix_now_ms() - 1000;
  ASSERT_EQ(post_driver("d-stale",
                        R"({"latitude":1,"longitude":1,"timestamp":)" + std::to_string(newer) + "}")
                .status,
            202);
  ASSERT_TRUE(current("d-stale"));
  ASSERT_EQ(post_driver("d-stale", R"({"latitude":2,"longitude":2,"timestamp":)" +
                                       std::to_string(newer - 10000) + "}")
                .status,
            202);
  // Both reach history; the current one stays the newer.
  ASSERT_TRUE(eventually([&] { return history_rows("driver_id = 'd-stale'") == 2; }, seconds(5)));
  EXPECT_DOUBLE_EQ(number_member(current("d-stale").get(), "latitude"), 1);
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_locations_stale_total", {{"source", "driver"}}), 1);
}

TEST_F(LocationsTest, ExpiredDriversLeaveCurrentAndNearby) {
  DaemonConfig config = locations_config();
  config.set("locations", "ttl", "1s");
  start_daemon(config);
  ASSERT_EQ(post_driver("d-ttl", R"({"latitude":10,"longitude":10})").status, 202);
  ASSERT_TRUE(current("d-ttl"));
  const HttpResponse near = get("/api/v1/drivers/nearby?lat=10&lng=10&radius=100");
  ASSERT_NE(near.body.find("d-ttl"), std::string::npos) << near;
  EXPECT_TRUE(
      eventually([&] { return get("/api/v1/drivers/d-ttl/location").status == 404; }, seconds(5)));
  EXPECT_EQ(get("/api/v1/drivers/nearby?lat=10&lng=10&radius=100").body, R"({"drivers":[]})");
  // The sweep takes it out of the geo index too.
  EXPECT_TRUE(eventually(
      [&] {
        return redis_client()
                   .command({"ZCARD", std::string(kDefaultStream) + ":loc:geo"})
                   ->integer == 0;
      },
      seconds(5)));
}

TEST_F(LocationsTest, NearbyIsNearestFirstWithinTheRadiusAndLimit) {
  start_daemon(locations_config());
  // Along a meridian, 0.001 degrees of latitude is about 111 m.
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(
        post_driver("n" + std::to_string(i),
                    R"({"latitude":)" + std::to_string(50 + 0.001 * (4 - i)) + R"(,"longitude":8})")
            .status,
        202);
  }
  ASSERT_TRUE(current("n0"));
  ASSERT_TRUE(current("n4"));
  const HttpResponse near = get("/api/v1/drivers/nearby?lat=50&lng=8&radius=300&limit=10");
  ASSERT_EQ(near.status, 200) << near;
  const JsonPtr body = parse_json(near.body);
  const json_t* drivers = json_object_get(body.get(), "drivers");
  ASSERT_EQ(json_array_size(drivers), 3u) << near;  // 0, 111 and 222 m
  EXPECT_EQ(json_string(json_array_get(drivers, 0), "driver_id"), "n4");
  EXPECT_EQ(json_string(json_array_get(drivers, 2), "driver_id"), "n2");
  EXPECT_NEAR(number_member(json_array_get(drivers, 1), "distance_m"), 111.2, 1);
  const HttpResponse limited = get("/api/v1/drivers/nearby?lat=50&lng=8&radius=1000&limit=2");
  EXPECT_EQ(json_array_size(json_object_get(parse_json(limited.body).get(), "drivers")), 2u);
}

TEST_F(LocationsTest, BadInputGetsA400NamingTheProblem) {
  DaemonConfig config = locations_config();
  config.set("locations", "max_radius", "5km");
  start_daemon(config);
  const HttpResponse bad_lat = post_driver("d", R"({"latitude":91,"longitude":0})");
  EXPECT_TRUE(is_json_error(bad_lat, 400)) << bad_lat;
  EXPECT_NE(bad_lat.body.find("latitude"), std::string::npos) << bad_lat;
  EXPECT_TRUE(is_json_error(post_driver("d", R"({"latitude":1})"), 400));
  EXPECT_TRUE(is_json_error(post_driver("bad%20id", R"({"latitude":1,"longitude":1})"), 400));
  EXPECT_TRUE(is_json_error(post_driver("d", R"({"latitude":1,"longitude":1})", {}), 415));
  EXPECT_TRUE(is_json_error(get("/api/v1/drivers/nearby?lng=1"), 400));
  EXPECT_TRUE(is_json_error(get("/api/v1/drivers/nearby?lat=nan&lng=1"), 400));
  EXPECT_TRUE(is_json_error(get("/api/v1/drivers/nearby?lat=1&lng=1&radius=5001"), 400));
  EXPECT_TRUE(is_json_error(get("/api/v1/drivers/d/route?start_time=2000&end_time=1000"), 400));
  EXPECT_TRUE(is_json_error(get("/api/v1/drivers/d/route?start_time=0&end_time=99999999"), 400));
  EXPECT_TRUE(is_json_error(get("/api/v1/drivers/nobody/location"), 404));
  EXPECT_TRUE(is_json_error(get("/api/v1/orders/none/driver-location"), 404));
  const HttpResponse wrong_method =
      http_request("DELETE", daemon().url("/api/v1/drivers/d/location"));
  EXPECT_TRUE(is_json_error(wrong_method, 405));
  EXPECT_EQ(wrong_method.header("Allow"), "GET, HEAD, POST");
}

TEST_F(LocationsTest, ReadTokensGuardReadsOnly) {
  TempDir dir;
  const std::string tokens = dir.write_file("read.tokens", "reader-secret\n").string();
  DaemonConfig config = locations_config();
  config.set("auth", "read_tokens_file", tokens);
  start_daemon(config);
  ASSERT_EQ(post_driver("d-auth", R"({"latitude":1,"longitude":1})").status, 202);
  EXPECT_TRUE(is_json_error(get("/api/v1/drivers/d-auth/location"), 401));
  EXPECT_TRUE(eventually(
      [&] {
        return get("/api/v1/drivers/d-auth/location", {"Authorization: Bearer reader-secret"})
                   .status == 200;
      },
      seconds(5)));
  EXPECT_TRUE(is_json_error(get("/api/v1/drivers/nearby?lat=1&lng=1", {"X-API-Key: wrong"}), 401));
  EXPECT_EQ(get("/health").status, 200);
}

TEST_F(LocationsTest, MysqlOutageKeepsStateUpdatingAndLosesNoHistory) {
  start_daemon(locations_config());
  ASSERT_EQ(post_driver("d-db", R"({"latitude":1,"longitude":1})").status, 202);
  ASSERT_TRUE(eventually([&] { return history_rows() == 1; }, seconds(5)));
  mariadb().stop();
  const std::int64_t at = unix_now_ms();
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(post_driver("d-db", R"({"latitude":2,"longitude":1,"timestamp":)" +
                                      std::to_string(at + i) + "}")
                  .status,
              202);
  }
  // The current location follows while history waits, pending in Redis.
  EXPECT_TRUE(eventually([&] { return number_member(current("d-db").get(), "latitude") == 2; },
                         seconds(5)));
  EXPECT_TRUE(eventually([&] { return get("/health").status == 503; }, seconds(10)));
  EXPECT_GT(locations_pending(), 0);
  mariadb().start();
  EXPECT_TRUE(eventually([&] { return history_rows() == 21; }, seconds(30)))
      << history_rows() << "\n"
      << daemon().diagnostics();
  EXPECT_TRUE(eventually([&] { return locations_pending() == 0; }, seconds(10)));
  EXPECT_TRUE(eventually([&] { return get("/health").status == 200; }, seconds(10)));
}

TEST_F(LocationsTest, ForwardingBacklogNeitherStopsLocationsNorGetsTrimmed) {
  UpstreamServer upstream;
  upstream.set_default_status(503);
  DaemonConfig config = locations_config().merge(forwarding_to({&upstream}));
  config.set("forward", "retry_delays", "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s");
  config.set("forward", "breaker_cooldown", "1s");
  start_daemon(config);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(post_driver("d-fw" + std::to_string(i), R"({"latitude":3,"longitude":3})").status,
              202);
  }
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(current("d-fw" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return locations_pending() == 0; }, seconds(5)));
  // Locations acknowledged everything; forwarding did not: all stay.
  EXPECT_EQ(stream_length(), 10);
  upstream.set_default_status(200);
  EXPECT_TRUE(eventually([&] { return stream_length() == 0; }, seconds(30))) << stream_length();
  EXPECT_GE(upstream.requests().size(), 10u);
}

TEST_F(LocationsTest, SigtermAnswersReadsStillWaitingForRedis) {
  start_daemon(locations_config());
  redis().pause();
  std::future<HttpResponse> read =
      std::async(std::launch::async, [&] { return get("/api/v1/drivers/nobody/location"); });
  std::this_thread::sleep_for(milliseconds(300));  // the read waits for Redis now
  daemon().send_signal(SIGTERM);
  std::this_thread::sleep_for(milliseconds(300));
  redis().resume();
  // The drain waited for it: answered, not cut off.
  const HttpResponse response = read.get();
  EXPECT_TRUE(is_json_error(response, 404)) << response;
  EXPECT_TRUE(daemon().wait_for_exit(seconds(10)).has_value());
}

TEST_F(LocationsTest, OsmandListenTakesReportsAtItsRootPath) {
  const int port = pick_free_port();
  DaemonConfig config = locations_config();
  config.set("locations", "osmand_listen", "127.0.0.1:" + std::to_string(port));
  start_daemon(config);
  const HttpResponse response = http_request(
      "GET", "http://127.0.0.1:" + std::to_string(port) + "/?id=root-1&lat=1.5&lon=2.5", "", {});
  ASSERT_EQ(response.status, 200) << response;
  ASSERT_TRUE(current("root-1")) << daemon().diagnostics();
  EXPECT_EQ(http_request("DELETE", "http://127.0.0.1:" + std::to_string(port) + "/").status, 405);
}

// A raw report with flat location keys: driver k<seq % 50>, time base + seq ms.
std::string located_report(std::int64_t base_ms, size_t seq) {
  return R"({"device_id":"k)" + std::to_string(seq % 50) + R"(","lat":)" +
         std::to_string(40 + static_cast<double>(seq % 1000) / 1000) + R"(,"lon":-3.7,"ts":)" +
         std::to_string(base_ms + static_cast<std::int64_t>(seq)) + "}";
}

class LocationsLoadTest : public LocationsTest {
 protected:
  // driver id -> the times (Unix ms) of its acknowledged reports, read back
  // from the stream (no forward targets: nothing leaves it).
  std::map<std::string, std::set<std::int64_t>> acknowledged(const LoadGenerator& load) {
    std::map<std::string, std::string> payloads;
    for (const StreamEntry& entry : stream_entries())
      payloads[entry.id] = entry.fields.at("payload");
    std::map<std::string, std::set<std::int64_t>> out;
    for (const HttpResponse& response : load.results()) {
      if (response.status != 200) continue;
      const JsonPtr report = parse_json(payloads[message_id_of(response)]);
      out[json_string(report.get(), "device_id").value_or("?")].insert(
          static_cast<std::int64_t>(json_integer_value(json_object_get(report.get(), "ts"))));
    }
    return out;
  }

  std::map<std::string, std::set<std::int64_t>> history() {
    std::map<std::string, std::set<std::int64_t>> out;
    for (const SqlRow& row : mysql().query(
             "SELECT driver_id, TIMESTAMPDIFF(MICROSECOND, '1970-01-01', time) DIV 1000 AS ms "
             "FROM driver_locations")) {
      out[*row.at("driver_id")].insert(std::stoll(*row.at("ms")));
    }
    return out;
  }

  std::size_t row_count(const std::map<std::string, std::set<std::int64_t>>& rows) {
    std::size_t count = 0;
    for (const auto& [driver, times] : rows) count += times.size();
    return count;
  }

  // Every acknowledged location is in history, and each driver's current
  // location is its newest.
  void expect_every_acknowledged_kept(const LoadGenerator& load) {
    const auto acked = acknowledged(load);
    ASSERT_GT(row_count(acked), 100u);
    ASSERT_TRUE(eventually([&] { return row_count(history()) >= row_count(acked); }, seconds(30)))
        << row_count(history()) << " rows for " << row_count(acked) << " acknowledged";
    ASSERT_TRUE(eventually([&] { return locations_pending() == 0; }, seconds(30)));
    const auto rows = history();
    for (const auto& [driver, times] : acked) {
      const auto found = rows.find(driver);
      ASSERT_NE(found, rows.end()) << driver;
      for (const std::int64_t at : times) EXPECT_TRUE(found->second.contains(at)) << driver << at;
      // Reports the kill cut off may be stored without an answer: still
      // newest-wins over everything stored.
      const RedisReplyPtr current = redis_client().command(
          {"HGET", std::string(kDefaultStream) + ":loc:driver:" + driver, "ts"});
      ASSERT_EQ(current->type, REDIS_REPLY_STRING) << driver;
      EXPECT_EQ(std::stoll(current->str), *found->second.rbegin()) << driver;
    }
  }
};

TEST_F(LocationsLoadTest, KillNineDuringLoadKeepsEveryAcknowledgedLocationOnce) {
  const DaemonConfig config = locations_config();
  start_daemon(config);
  const std::int64_t base = unix_now_ms() - 3600 * 1000;
  LoadGenerator load(daemon().ingest_url(), 8, kJsonContentType,
                     [base](size_t seq) { return located_report(base, seq); });
  ASSERT_TRUE(eventually([&] { return load.ok_count() >= 1500; }, seconds(30)));
  daemon().send_signal(SIGKILL);
  load.stop();
  ASSERT_TRUE(daemon().wait_for_exit(seconds(5)).has_value());
  start_daemon(config);
  expect_every_acknowledged_kept(load);
  // Rows are unique per driver and time, so redelivery after the kill
  // stored nothing twice; at most the 8 reports cut off unanswered are extra.
  EXPECT_LE(row_count(history()), row_count(acknowledged(load)) + 8);
}

TEST_F(LocationsLoadTest, MysqlStoppedUnderLoadLosesNothingAndStateKeepsUp) {
  start_daemon(locations_config());
  const std::int64_t base = unix_now_ms() - 3600 * 1000;
  LoadGenerator load(daemon().ingest_url(), 4, kJsonContentType,
                     [base](size_t seq) { return located_report(base, seq); });
  ASSERT_TRUE(eventually([&] { return load.ok_count() >= 300; }, seconds(30)));
  mariadb().stop();
  const auto processed = [&] {
    return scrape_metrics().sum("gpsrelay_locations_processed_total").value_or(0);
  };
  const double before = processed();
  // Five seconds rather than the issue's twenty: the same path, a
  // quarter of the CI time.
  std::this_thread::sleep_for(seconds(5));
  EXPECT_GT(processed(), before + 100) << "the state stopped with MySQL";
  EXPECT_EQ(get("/health").status, 503);
  mariadb().start();
  load.stop();
  expect_every_acknowledged_kept(load);
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_locations_history_deferred_total").value_or(-1), 0);
}

TEST_F(LocationsLoadTest, TwoInstancesShareTheGroupAndOneTakesOverTheOthersPending) {
  const DaemonConfig config = locations_config();
  start_daemon(config);
  DaemonOptions second_options;
  second_options.config = config;
  auto second = std::make_unique<DaemonProcess>(redis().address(), second_options);
  const std::int64_t base = unix_now_ms() - 3600 * 1000;
  LoadGenerator load(daemon().ingest_url(), 8, kJsonContentType,
                     [base](size_t seq) { return located_report(base, seq); });
  ASSERT_TRUE(eventually([&] { return load.ok_count() >= 1000; }, seconds(30)));
  const auto processed = [](const std::string& metrics_url) {
    return parse_metrics(http_get(metrics_url).body)
        .sum("gpsrelay_locations_processed_total")
        .value_or(0);
  };
  EXPECT_TRUE(eventually([&] { return processed(second->url("/metrics")) > 0; }, seconds(10)));
  EXPECT_GT(processed(daemon().url("/metrics")), 0);
  // MySQL away: the second instance holds entries pending for history
  // when it dies; the first reclaims them after claim_idle (1 s here).
  mariadb().stop();
  ASSERT_TRUE(eventually([&] { return locations_pending() > 0; }, seconds(10)));
  second->send_signal(SIGKILL);
  ASSERT_TRUE(second->wait_for_exit(seconds(5)).has_value());
  load.stop();
  mariadb().start();
  expect_every_acknowledged_kept(load);
  EXPECT_GT(scrape_metrics().sum("gpsrelay_locations_entries_reclaimed_total").value_or(0), 0);
}

}  // namespace
}  // namespace gpsrelay::testing
