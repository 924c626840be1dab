// gpsrelayctl against real servers: it reads the running daemon's config
// file, inspects the queue (redis-server), the targets (the daemon's
// /health) and failed_packets (mariadbd), and replays and purges packets.
#include <gtest/gtest.h>
#include <jansson.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/json.h"
#include "support/temp_dir.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

class CtlTest : public ForwardingTest {
 protected:
  // Runs gpsrelayctl with the daemon's own config file.
  CommandResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"-c", daemon().config_path().string()});
    return run_ctl(args);
  }

  CommandResult run_ctl(const std::vector<std::string>& args) {
    SpawnOptions spawn;
    spawn.argv = {GPSRELAYCTL_PATH};
    spawn.argv.insert(spawn.argv.end(), args.begin(), args.end());
    spawn.drop_env_prefixes = {"GPSRELAY_"};
    return run_command(spawn, scratch_.path(), seconds(30));
  }

  static int code(const CommandResult& result) {
    return result.status && result.status->exited ? result.status->code : -1;
  }

  // Packets stored as failed by a 404 upstream; the upstream then answers 200.
  std::vector<std::string> store_failed(UpstreamServer& upstream, int count) {
    upstream.set_default_status(404);
    const std::vector<std::string> ids = post_reports(count);
    EXPECT_TRUE(eventually([&] { return failed_rows().size() == static_cast<size_t>(count); },
                           seconds(10)));
    EXPECT_TRUE(eventually([&] { return drained(); }, seconds(5)));
    upstream.set_default_status(200);
    return ids;
  }

  TempDir scratch_{"gpsrelay-ctl"};
};

TEST_F(CtlTest, StatusShowsQueueConsumersLiveTargetsAndFailedPackets) {
  UpstreamServer upstream;
  UpstreamServer dead;
  dead.stop();
  DaemonConfig config = forwarding_to({&upstream, &dead});
  config.set("forward", "breaker_failures", "1").set("forward", "breaker_cooldown", "1m");
  start_daemon(config);
  post_reports(4);
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(10)));
  ASSERT_TRUE(eventually([&] { return target_state(dead.url()) == "breaker_open"; }, seconds(5)));

  const CommandResult text = ctl({"status"});
  ASSERT_EQ(code(text), 0) << text.out << text.err;
  EXPECT_NE(text.out.find("gps:reports"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(dead.url()), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("breaker_open"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("0 in gpsrelay@"), std::string::npos) << text.out;

  const CommandResult json = ctl({"status", "--json"});
  ASSERT_EQ(code(json), 0) << json.err;
  const JsonPtr root = parse_json(json.out);
  ASSERT_TRUE(root) << json.out;
  const json_t* queue = json_object_get(root.get(), "queue");
  EXPECT_EQ(json_integer_value(json_object_get(queue, "length")), 0);
  EXPECT_EQ(json_integer_value(json_object_get(queue, "pending")), 0);
  EXPECT_EQ(json_array_size(json_object_get(queue, "consumers")), 1u);
  const json_t* daemon_part = json_object_get(root.get(), "daemon");
  EXPECT_TRUE(json_is_true(json_object_get(daemon_part, "reachable")));
  const json_t* targets = json_object_get(daemon_part, "targets");
  ASSERT_EQ(json_array_size(targets), 2u);
  EXPECT_EQ(json_string(json_array_get(targets, 0), "state"), "up");
  EXPECT_EQ(json_string(json_array_get(targets, 1), "state"), "breaker_open");
  EXPECT_EQ(
      json_integer_value(json_object_get(json_object_get(root.get(), "failed_packets"), "count")),
      0);
}

TEST_F(CtlTest, FailedListAndShowInTablesAndJson) {
  UpstreamServer upstream;
  start_daemon(forwarding_to({&upstream}));
  const std::vector<std::string> ids = store_failed(upstream, 3);

  const CommandResult list = ctl({"failed", "list"});
  ASSERT_EQ(code(list), 0) << list.err;
  EXPECT_NE(list.out.find("MESSAGE_ID"), std::string::npos) << list.out;
  for (const std::string& id : ids) EXPECT_NE(list.out.find(id), std::string::npos) << id;
  EXPECT_NE(list.out.find("HTTP 404"), std::string::npos);

  const CommandResult limited = ctl({"failed", "list", "--limit", "2", "--json"});
  ASSERT_EQ(code(limited), 0) << limited.err;
  const JsonPtr rows = parse_json(limited.out);
  ASSERT_EQ(json_array_size(rows.get()), 2u) << limited.out;
  // Newest first.
  EXPECT_EQ(json_string(json_array_get(rows.get(), 0), "message_id"), ids[2]);

  EXPECT_NE(ctl({"failed", "list", "--since", "1h"}).out.find(ids[0]), std::string::npos);
  EXPECT_NE(ctl({"failed", "list", "--since", "2099-01-01"}).out.find("no failed packets"),
            std::string::npos);

  const CommandResult show = ctl({"failed", "show", ids[1], "--json"});
  ASSERT_EQ(code(show), 0) << show.err;
  const JsonPtr packet = parse_json(show.out);
  EXPECT_EQ(json_string(packet.get(), "payload"), numbered_report(1));
  EXPECT_EQ(json_string(packet.get(), "last_error"), "HTTP 404");
  EXPECT_EQ(json_string(packet.get(), "target_server"), upstream.url());

  const std::string row_id =
      std::to_string(json_integer_value(json_object_get(packet.get(), "id")));
  const CommandResult by_row = ctl({"failed", "show", row_id});
  ASSERT_EQ(code(by_row), 0) << by_row.err;
  EXPECT_NE(by_row.out.find(numbered_report(1)), std::string::npos) << by_row.out;

  const CommandResult missing = ctl({"failed", "show", "999999"});
  EXPECT_EQ(code(missing), 3) << missing.out << missing.err;
  EXPECT_NE(missing.err.find("no failed packet 999999"), std::string::npos);
}

TEST_F(CtlTest, ReplayPutsPacketsBackAndTheyAreDeliveredThenTheRowsGo) {
  UpstreamServer upstream;
  start_daemon(forwarding_to({&upstream}));
  const std::vector<std::string> ids = store_failed(upstream, 3);
  const size_t before = upstream.request_count();

  const CommandResult one = ctl({"failed", "replay", "--id", ids[0]});
  ASSERT_EQ(code(one), 0) << one.err;
  EXPECT_NE(one.out.find("replayed 1 packet"), std::string::npos) << one.out;
  ASSERT_TRUE(eventually([&] { return upstream.request_count() == before + 1; }, seconds(10)));
  EXPECT_EQ(failed_rows().size(), 2u);

  const CommandResult all = ctl({"failed", "replay", "--all", "--json"});
  ASSERT_EQ(code(all), 0) << all.err;
  EXPECT_EQ(json_integer_value(json_object_get(parse_json(all.out).get(), "replayed")), 2);
  ASSERT_TRUE(eventually([&] { return upstream.request_count() == before + 3; }, seconds(10)));
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(5)));
  EXPECT_TRUE(failed_rows().empty());

  // The same bytes arrive, under a new stream id.
  const auto requests = upstream.requests();
  std::set<std::string> bodies;
  for (size_t i = before; i < requests.size(); ++i) {
    bodies.insert(requests[i].body);
    const std::string id = header_of(requests[i], "x-gpsrelay-message-id");
    EXPECT_EQ(std::find(ids.begin(), ids.end(), id), ids.end()) << "replay kept the old id " << id;
  }
  EXPECT_EQ(bodies,
            (std::set<std::string>{numbered_report(0), numbered_report(1), numbered_report(2)}));
}

TEST_F(CtlTest, ReplayWithRedisDownFailsAndKeepsTheRows) {
  UpstreamServer upstream;
  start_daemon(forwarding_to({&upstream}));
  store_failed(upstream, 2);
  redis().stop();
  const CommandResult result = ctl({"failed", "replay", "--all"});
  EXPECT_EQ(code(result), 2) << result.out << result.err;
  EXPECT_NE(result.err.find("Redis"), std::string::npos) << result.err;
  EXPECT_EQ(failed_rows().size(), 2u);
  redis().restart();
}

TEST_F(CtlTest, PurgeDeletesOnlyRowsOlderThanTheDuration) {
  UpstreamServer upstream;
  start_daemon(forwarding_to({&upstream}));
  store_failed(upstream, 2);
  mysql().query(
      "INSERT INTO failed_packets (message_id, payload, created_at) "
      "VALUES ('1-0', 'old', NOW(3) - INTERVAL 2 DAY)");
  const CommandResult purge = ctl({"failed", "purge", "--older-than", "1d"});
  ASSERT_EQ(code(purge), 0) << purge.err;
  EXPECT_NE(purge.out.find("purged 1 packet"), std::string::npos) << purge.out;
  EXPECT_EQ(failed_rows().size(), 2u);
}

TEST_F(CtlTest, UnreachableMysqlIsExitTwoNamingMysql) {
  UpstreamServer upstream;
  start_daemon(forwarding_to({&upstream}));
  mariadb().stop();
  const CommandResult result = ctl({"failed", "list"});
  EXPECT_EQ(code(result), 2) << result.out << result.err;
  EXPECT_NE(result.err.find("MySQL"), std::string::npos) << result.err;
  // status still shows the queue, and says what it could not reach.
  const CommandResult status = ctl({"status"});
  EXPECT_EQ(code(status), 2);
  EXPECT_NE(status.out.find("gps:reports"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("MySQL"), std::string::npos) << status.out;
  mariadb().start();
}

TEST_F(CtlTest, BadConfigAndBadUsageAreExitOne) {
  const auto config = scratch_.write_file("bad.conf", "[redis]\nadress = x\n");
  const CommandResult bad_config = run_ctl({"-c", config.string(), "status"});
  EXPECT_EQ(code(bad_config), 1);
  EXPECT_NE(bad_config.err.find(config.string() + ":2:"), std::string::npos) << bad_config.err;

  const CommandResult unknown = run_ctl({"frobnicate"});
  EXPECT_EQ(code(unknown), 1);
  EXPECT_NE(unknown.err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(unknown.err.find("Usage:"), std::string::npos);

  const CommandResult help = run_ctl({"--help"});
  EXPECT_EQ(code(help), 0);
  EXPECT_NE(help.out.find("failed replay"), std::string::npos);
}

}  // namespace
}  // namespace gpsrelay::testing
