// gpsrelayctl's location commands against real servers: `location` reads
// the current location from redis-server, `route` the history from
// mariadbd's driver_locations, and `status` lists every consumer group of
// the stream and the location service's state. State is written directly
// (HSET, ZADD, XGROUP, INSERT) so each output is known exactly; one test
// reads back what the daemon itself wrote.
#include <gtest/gtest.h>
#include <jansson.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/ctl_runner.h"
#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/http_client.h"
#include "support/json.h"
#include "support/temp_dir.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

const std::string kStream(kDefaultStream);

// A stored record as the daemon writes it (to_json's member order).
constexpr const char* kRecord =
    R"({"driver_id":"d1","latitude":52.52,"longitude":13.405,"timestamp":"2025-06-15T13:45:12.862Z",)"
    R"("speed":36.5,"heading":90,"accuracy":4.5,"altitude":34,"order_id":"o-9","battery":80})";

class CtlLocationsTest : public ForwardingTest {
 protected:
  // Runs gpsrelayctl with the daemon's own config file (plus `env`).
  CommandResult ctl(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), {"-c", daemon().config_path().string()});
    return run_gpsrelayctl(args, std::move(env), scratch_.path());
  }

  static int code(const CommandResult& result) { return exit_code(result); }

  // The value column of the row of a FIELD/VALUE table whose first cell is
  // `field`; "<none>" when there is no such row.
  static std::string field_of(const std::string& table, const std::string& field) {
    std::istringstream lines(table);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(field + " ", 0) != 0) continue;
      return line.substr(line.find_first_not_of(' ', field.size()));
    }
    return "<none>";
  }

  // `line` with every run of blanks cut to one, so a check does not depend
  // on column widths.
  static std::string squeezed(const std::string& line) {
    std::string out;
    for (const char c : line) {
      if (c != ' ' || out.empty() || out.back() != ' ') out += c;
    }
    return out;
  }

  // The lines of `text` that start with `prefix`.
  static std::vector<std::string> lines_starting(const std::string& text,
                                                 const std::string& prefix) {
    std::vector<std::string> found;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(prefix, 0) == 0) found.push_back(line);
    }
    return found;
  }

  // The daemon creates driver_locations when its history writer connects.
  void wait_for_history_table() {
    ASSERT_TRUE(eventually(
        [&] {
          return mysql().scalar(
                     "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                     "DATABASE() AND table_name = 'driver_locations'") == "1";
        },
        seconds(10)))
        << daemon().diagnostics();
  }

  void set_location(const std::string& driver, const std::string& record, long long ttl_ms) {
    const std::string key = kStream + ":loc:driver:" + driver;
    redis_client().command({"HSET", key, "ts", "1750000000000", "record", record});
    redis_client().command({"PEXPIRE", key, std::to_string(ttl_ms)});
  }

  TempDir scratch_{"gpsrelay-ctl-loc"};
};

TEST_F(CtlLocationsTest, LocationShowsEveryFieldOfTheRecordAndJsonIsTheRecord) {
  start_daemon(locations_config());
  set_location("d1", kRecord, 90000);

  const CommandResult text = ctl({"location", "d1"});
  ASSERT_EQ(code(text), 0) << text.out << text.err;
  EXPECT_EQ(text.out.rfind("FIELD ", 0), 0u) << text.out;
  EXPECT_EQ(field_of(text.out, "driver_id"), "d1");
  EXPECT_EQ(field_of(text.out, "latitude"), "52.52");
  EXPECT_EQ(field_of(text.out, "longitude"), "13.405");
  EXPECT_EQ(field_of(text.out, "timestamp").rfind("2025-06-15T13:45:12.862Z (", 0), 0u) << text.out;
  EXPECT_NE(field_of(text.out, "timestamp").find(" ago)"), std::string::npos) << text.out;
  EXPECT_EQ(field_of(text.out, "speed"), "36.5 km/h");
  EXPECT_EQ(field_of(text.out, "heading"), "90°");
  EXPECT_EQ(field_of(text.out, "accuracy"), "4.5 m");
  EXPECT_EQ(field_of(text.out, "altitude"), "34 m");
  EXPECT_EQ(field_of(text.out, "order_id"), "o-9");
  EXPECT_EQ(field_of(text.out, "battery"), "80 %");
  // 90 s of TTL, read a moment later.
  EXPECT_EQ(field_of(text.out, "expires").rfind("in 1m ", 0), 0u) << text.out;

  const CommandResult json = ctl({"location", "d1", "--json"});
  ASSERT_EQ(code(json), 0) << json.err;
  const JsonPtr printed = parse_json(json.out);
  const JsonPtr stored = parse_json(kRecord);
  ASSERT_TRUE(printed) << json.out;
  EXPECT_TRUE(json_equal(printed.get(), stored.get())) << json.out;
  // Numbers as the API writes them, not as binary doubles print.
  EXPECT_NE(json.out.find("52.52,"), std::string::npos) << json.out;

  // Absent fields are left out, not shown empty.
  set_location("d2",
               R"({"driver_id":"d2","latitude":-33.9,"longitude":18.4,)"
               R"("timestamp":"2025-06-15T13:45:12.000Z"})",
               90000);
  const CommandResult sparse = ctl({"location", "d2"});
  ASSERT_EQ(code(sparse), 0) << sparse.err;
  EXPECT_EQ(field_of(sparse.out, "latitude"), "-33.9");
  for (const char* absent : {"speed", "heading", "accuracy", "altitude", "order_id", "battery"}) {
    EXPECT_EQ(field_of(sparse.out, absent), "<none>") << absent << "\n" << sparse.out;
  }
}

TEST_F(CtlLocationsTest, LocationOfADriverWithoutOneIsExitThreeNamingTheDriver) {
  start_daemon(locations_config());
  const CommandResult missing = ctl({"location", "nobody"});
  EXPECT_EQ(code(missing), 3) << missing.out << missing.err;
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err,
            "gpsrelayctl: no current location of driver nobody (none reported within "
            "locations.ttl)\n");

  // Expired: the key is gone with its TTL.
  set_location("gone", kRecord, 1);
  ASSERT_TRUE(eventually(
      [&] {
        return redis_client().command({"EXISTS", kStream + ":loc:driver:gone"})->integer == 0;
      },
      seconds(2)));
  EXPECT_EQ(code(ctl({"location", "gone"})), 3);

  // A config without [locations] says so: that may be why.
  const CommandResult off =
      ctl({"location", "nobody", "--json"}, {{"GPSRELAY_LOCATIONS_ENABLED", "false"}});
  EXPECT_EQ(code(off), 3);
  EXPECT_NE(off.err.find("([locations] is not enabled in this configuration)"), std::string::npos)
      << off.err;

  const CommandResult bad = ctl({"location", "a:b"});
  EXPECT_EQ(code(bad), 1);
  EXPECT_NE(bad.err.find("DRIVER_ID is 1 to 128 of"), std::string::npos) << bad.err;
}

TEST_F(CtlLocationsTest, LocationWithRedisDownIsExitTwo) {
  start_daemon(locations_config());
  redis().stop();
  const CommandResult result = ctl({"location", "d1"});
  EXPECT_EQ(code(result), 2) << result.out << result.err;
  EXPECT_EQ(result.err, "gpsrelayctl: cannot reach Redis at 127.0.0.1:" +
                            std::to_string(redis().port()) + ": Connection refused\n");
  EXPECT_EQ(result.out, "");
  redis().restart();
}

TEST_F(CtlLocationsTest, LocationReadsWhatTheDaemonWrote) {
  start_daemon(locations_config());
  const HttpResponse posted = http_request(
      "POST", daemon().url("/api/v1/drivers/d7/location"),
      R"({"latitude":48.8566,"longitude":2.3522,"speed":12,"order_id":"o-1"})", kJsonContentType);
  ASSERT_EQ(posted.status, 202) << posted;
  HttpResponse api;
  ASSERT_TRUE(eventually(
      [&] {
        api = http_request("GET", daemon().url("/api/v1/drivers/d7/location"), {}, {});
        return api.status == 200;
      },
      seconds(5)))
      << daemon().diagnostics();
  const CommandResult json = ctl({"location", "d7", "--json"});
  ASSERT_EQ(code(json), 0) << json.err;
  const JsonPtr from_ctl = parse_json(json.out);
  const JsonPtr from_api = parse_json(api.body);
  ASSERT_TRUE(from_ctl && from_api) << json.out << api.body;
  EXPECT_TRUE(json_equal(from_ctl.get(), from_api.get())) << json.out << "\n" << api.body;
}

TEST_F(CtlLocationsTest, RouteListsTheLastHourInTimeOrderByDefault) {
  start_daemon(locations_config());
  wait_for_history_table();
  mysql().query(
      "INSERT INTO driver_locations (driver_id, `time`, order_id, latitude, longitude, speed, "
      "heading, accuracy, altitude) VALUES "
      "('d1', UTC_TIMESTAMP(3) - INTERVAL 10 MINUTE, NULL, 52.53, 13.41, NULL, NULL, NULL, NULL),"
      "('d1', UTC_TIMESTAMP(3) - INTERVAL 2 HOUR, 'o-0', 52.5, 13.4, 10, 0, 5, 30),"
      "('d1', UTC_TIMESTAMP(3) - INTERVAL 30 MINUTE, 'o-1', 52.52, 13.405, 36.5, 90, 4.5, 34),"
      "('d1', UTC_TIMESTAMP(3) + INTERVAL 10 MINUTE, NULL, 1, 1, NULL, NULL, NULL, NULL),"
      "('d2', UTC_TIMESTAMP(3) - INTERVAL 5 MINUTE, NULL, 2, 2, NULL, NULL, NULL, NULL)");

  const CommandResult text = ctl({"route", "d1"});
  ASSERT_EQ(code(text), 0) << text.out << text.err;
  EXPECT_EQ(text.out.rfind("Route of driver d1 from ", 0), 0u) << text.out;
  EXPECT_NE(text.out.find(" UTC: 2 points\n"), std::string::npos) << text.out;
  EXPECT_EQ(lines_starting(text.out, "TIME (UTC)").size(), 1u) << text.out;
  const std::vector<std::string> rows = lines_starting(text.out, "20");
  ASSERT_EQ(rows.size(), 2u) << text.out;
  // Earliest first; an absent value is "-".
  EXPECT_EQ(squeezed(rows[0]).substr(23), " 52.52 13.405 36.5 90 o-1") << text.out;
  EXPECT_EQ(squeezed(rows[1]).substr(23), " 52.53 13.41 - - -") << text.out;
  EXPECT_EQ(rows[0].size() > 23 && rows[0][10] == ' ' && rows[0][19] == '.', true) << rows[0];
  EXPECT_EQ(text.err, "");

  const CommandResult json = ctl({"route", "d1", "--json"});
  ASSERT_EQ(code(json), 0) << json.err;
  const JsonPtr points = parse_json(json.out);
  ASSERT_EQ(json_array_size(points.get()), 2u) << json.out;
  const json_t* first = json_array_get(points.get(), 0);
  EXPECT_EQ(json_string(first, "driver_id"), "d1");
  EXPECT_EQ(json_string(first, "order_id"), "o-1");
  EXPECT_DOUBLE_EQ(json_number_value(json_object_get(first, "latitude")), 52.52);
  EXPECT_DOUBLE_EQ(json_number_value(json_object_get(first, "speed")), 36.5);
  EXPECT_DOUBLE_EQ(json_number_value(json_object_get(first, "altitude")), 34);
  EXPECT_EQ(json_string(first, "timestamp").value_or("").size(), 24u) << json.out;  // ISO, ms, Z
  const json_t* second = json_array_get(points.get(), 1);
  EXPECT_EQ(json_object_get(second, "speed"), nullptr) << json.out;
  EXPECT_EQ(json_object_get(second, "order_id"), nullptr) << json.out;
}

TEST_F(CtlLocationsTest, RouteTakesSinceUntilAndLimit) {
  start_daemon(locations_config());
  wait_for_history_table();
  mysql().query(
      "INSERT INTO driver_locations (driver_id, `time`, order_id, latitude, longitude) VALUES "
      "('d1', UTC_TIMESTAMP(3) - INTERVAL 2 HOUR, 'o-0', 10, 10),"
      "('d1', UTC_TIMESTAMP(3) - INTERVAL 30 MINUTE, 'o-1', 20, 20),"
      "('d1', UTC_TIMESTAMP(3) - INTERVAL 10 MINUTE, 'o-2', 30, 30)");
  const auto orders = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"route", "d1", "--json"});
    const CommandResult result = ctl(args);
    EXPECT_EQ(code(result), 0) << result.err;
    std::vector<std::string> out;
    const JsonPtr points = parse_json(result.out);
    for (std::size_t i = 0; i < json_array_size(points.get()); ++i) {
      out.push_back(json_string(json_array_get(points.get(), i), "order_id").value_or("?"));
    }
    return out;
  };
  using Orders = std::vector<std::string>;
  EXPECT_EQ(orders({"--since", "3h"}), (Orders{"o-0", "o-1", "o-2"}));
  EXPECT_EQ(orders({"--since", "3h", "--limit", "2"}), (Orders{"o-0", "o-1"}));
  EXPECT_EQ(orders({"--until", "20m"}), (Orders{"o-1"}));  // the hour before --until
  EXPECT_EQ(orders({"--since", "1h", "--until", "20m"}), (Orders{"o-1"}));
  EXPECT_EQ(orders({"--since", "2099-01-01", "--until", "2099-01-02"}), Orders{});
  // --until defaults to now, so a --since after it is a reversed range.
  EXPECT_EQ(code(ctl({"route", "d1", "--since", "2099-01-01"})), 1);

  const CommandResult limited = ctl({"route", "d1", "--since", "3h", "--limit", "1"});
  ASSERT_EQ(code(limited), 0) << limited.err;
  EXPECT_NE(limited.out.find("(stopped at --limit 1;"), std::string::npos) << limited.out;

  const CommandResult none = ctl({"route", "d9"});
  EXPECT_EQ(code(none), 0) << none.err;
  EXPECT_EQ(none.out.rfind("no points of driver d9 from ", 0), 0u) << none.out;
  const CommandResult none_json = ctl({"route", "d9", "--json"});
  EXPECT_EQ(code(none_json), 0);
  EXPECT_EQ(json_array_size(parse_json(none_json.out).get()), 0u) << none_json.out;
}

TEST_F(CtlLocationsTest, RouteErrorsAreUsageOrUnavailable) {
  start_daemon(locations_config());
  mariadb().stop();
  const CommandResult down = ctl({"route", "d1"});
  EXPECT_EQ(code(down), 2) << down.out << down.err;
  EXPECT_EQ(down.err.rfind("gpsrelayctl: cannot reach MySQL at 127.0.0.1:" +
                               std::to_string(mariadb().port()) + ": ",
                           0),
            0u)
      << down.err;
  EXPECT_EQ(down.out, "");
  // A reversed range is refused before any connection.
  const CommandResult reversed = ctl({"route", "d1", "--since", "1h", "--until", "2h"});
  EXPECT_EQ(code(reversed), 1) << reversed.err;
  EXPECT_NE(reversed.err.find("is before --since"), std::string::npos) << reversed.err;
  mariadb().start();
}

TEST_F(CtlLocationsTest, RouteWithoutTheHistoryTableSaysSoAndFindsNothing) {
  // No [locations]: the daemon never creates driver_locations.
  DaemonConfig config = forwarding_to({});
  config.erase("forward", "targets");
  start_daemon(config);
  const CommandResult result = ctl({"route", "d1"});
  EXPECT_EQ(code(result), 0) << result.err;
  EXPECT_EQ(result.out.rfind("no points of driver d1", 0), 0u) << result.out;
  EXPECT_EQ(result.err,
            "gpsrelayctl: table driver_locations does not exist: no location history was written "
            "yet ([locations] is not enabled in this configuration)\n");
}

TEST_F(CtlLocationsTest, StatusListsEveryGroupAndTheLocationService) {
  start_daemon(locations_config());
  // A group gpsrelayd does not read, with one entry pending.
  redis_client().command({"XGROUP", "CREATE", kStream, "legacy", "$"});
  redis_client().command({"XADD", kStream, "*", "payload", "{}"});
  redis_client().command(
      {"XREADGROUP", "GROUP", "legacy", "c1", "COUNT", "1", "STREAMS", kStream, ">"});
  const std::string later = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          (std::chrono::system_clock::now() + std::chrono::minutes(5)).time_since_epoch())
          .count());
  set_location("d1", kRecord, 300000);
  set_location("d2", kRecord, 300000);
  redis_client().command({"ZADD", kStream + ":loc:expiry", later, "d1", later, "d2"});

  JsonPtr root;
  ASSERT_TRUE(eventually(
      [&] {
        const CommandResult json = ctl({"status", "--json"});
        root = parse_json(json.out);
        return code(json) == 0 &&
               json_string(json_object_get(json_object_get(root.get(), "locations"), "history"),
                           "status") == "up";
      },
      seconds(10)))
      << daemon().diagnostics();
  const json_t* groups = json_object_get(json_object_get(root.get(), "queue"), "groups");
  ASSERT_EQ(json_array_size(groups), 3u);
  const json_t* main = json_array_get(groups, 0);
  const json_t* locations_group = json_array_get(groups, 1);
  const json_t* legacy = json_array_get(groups, 2);
  EXPECT_EQ(json_string(main, "name"), "gpsrelay");
  EXPECT_EQ(json_string(main, "enabled_by"), "redis.group");
  EXPECT_EQ(json_string(locations_group, "name"), "locations");
  EXPECT_EQ(json_string(locations_group, "enabled_by"), "locations.group");
  EXPECT_TRUE(json_is_true(json_object_get(locations_group, "exists")));
  EXPECT_EQ(json_string(legacy, "name"), "legacy");
  EXPECT_TRUE(json_is_false(json_object_get(legacy, "enabled")));
  EXPECT_TRUE(json_is_null(json_object_get(legacy, "enabled_by")));
  EXPECT_EQ(json_integer_value(json_object_get(legacy, "pending")), 1);
  EXPECT_EQ(json_integer_value(json_object_get(legacy, "consumers")), 1);
  const json_t* locations = json_object_get(root.get(), "locations");
  EXPECT_EQ(json_string(locations, "group"), "locations");
  EXPECT_EQ(json_integer_value(json_object_get(locations, "drivers_active")), 2);
  const json_t* history = json_object_get(locations, "history");
  EXPECT_TRUE(json_is_true(json_object_get(history, "enabled")));
  EXPECT_EQ(json_integer_value(json_object_get(history, "backlog")), 0);
  EXPECT_EQ(json_string(json_object_get(root.get(), "daemon"), "locations_status"), "ok");

  const CommandResult text = ctl({"status"});
  ASSERT_EQ(code(text), 0) << text.out << text.err;
  EXPECT_NE(text.out.find("\nConsumer groups of gps:reports:\n"
                          "NAME       ENABLED                CONSUMERS  PENDING  LAG"),
            std::string::npos)
      << text.out;
  ASSERT_EQ(lines_starting(text.out, "gpsrelay   yes (redis.group)  ").size(), 1u) << text.out;
  ASSERT_EQ(lines_starting(text.out, "locations  yes (locations.group)  ").size(), 1u) << text.out;
  ASSERT_EQ(lines_starting(text.out, "legacy     no                     1          1").size(), 1u)
      << text.out;
  EXPECT_NE(text.out.find("groups not enabled here are not read by gpsrelayd"), std::string::npos);
  EXPECT_NE(text.out.find(", locations ok)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\nLocations: group locations, a current location expires after 5m\n"
                          "  drivers with a current location: 2\n"
                          "  history (MySQL driver_locations): up, backlog 0 rows"),
            std::string::npos)
      << text.out;
}

TEST_F(CtlLocationsTest, StatusWithTheDaemonStoppedShowsHistoryUnknown) {
  start_daemon(locations_config());
  daemon().stop();
  const CommandResult text = ctl({"status"});
  ASSERT_EQ(code(text), 0) << text.out << text.err;
  EXPECT_NE(text.out.find("  drivers with a current location: 0\n"
                          "  history (MySQL driver_locations): unknown (the daemon does not "
                          "answer)\n"),
            std::string::npos)
      << text.out;
  const CommandResult json = ctl({"status", "--json"});
  const JsonPtr root = parse_json(json.out);
  const json_t* history = json_object_get(json_object_get(root.get(), "locations"), "history");
  EXPECT_EQ(json_string(history, "status"), "unknown");
  EXPECT_TRUE(json_is_null(json_object_get(history, "backlog")));

  const CommandResult off = ctl({"status"}, {{"GPSRELAY_LOCATIONS_HISTORY", "false"}});
  EXPECT_NE(off.out.find("history (MySQL driver_locations): off (locations.history = false)"),
            std::string::npos)
      << off.out;
}

TEST_F(CtlLocationsTest, StatusWithoutLocationsOnlyGainsTheGroupsTable) {
  DaemonConfig config = forwarding_to({});
  config.erase("forward", "targets");
  start_daemon(config);
  const CommandResult text = ctl({"status"});
  ASSERT_EQ(code(text), 0) << text.out << text.err;
  EXPECT_EQ(text.out.find("Locations"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("locations"), std::string::npos) << text.out;
  EXPECT_EQ(lines_starting(text.out, "gpsrelay  yes (redis.group)  0          0        0").size(),
            1u)
      << text.out;
  const JsonPtr root = parse_json(ctl({"status", "--json"}).out);
  EXPECT_EQ(json_object_get(root.get(), "locations"), nullptr);
  EXPECT_EQ(json_array_size(json_object_get(json_object_get(root.get(), "queue"), "groups")), 1u);

  // Enabled in the config but the daemon runs without it: the group is not
  // there yet and the daemon reports nothing of it.
  const CommandResult enabled = ctl({"status"}, {{"GPSRELAY_LOCATIONS_ENABLED", "true"}});
  EXPECT_EQ(code(enabled), 0) << enabled.err;
  EXPECT_EQ(lines_starting(enabled.out,
                           "locations  yes (locations.group)  -          -        -    not "
                           "created yet")
                .size(),
            1u)
      << enabled.out;
  EXPECT_NE(enabled.out.find("unknown (the daemon does not report locations)"), std::string::npos)
      << enabled.out;
}

}  // namespace
}  // namespace gpsrelay::testing
