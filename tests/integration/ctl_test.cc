// gpsrelayctl against real servers: it reads the running daemon's config
// file, inspects the queue (redis-server), the targets (the daemon's
// /health) and failed_packets (mariadbd), and replays and purges packets.
#include <gtest/gtest.h>
#include <jansson.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/ctl_runner.h"
#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/json.h"
#include "support/temp_dir.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

class CtlTest : public ForwardingTest {
 protected:
  // Runs gpsrelayctl with the daemon's own config file (plus `env`).
  CommandResult ctl(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), {"-c", daemon().config_path().string()});
    return run_ctl(args, std::move(env));
  }

  CommandResult run_ctl(const std::vector<std::string>& args,
                        std::map<std::string, std::string> env = {}) {
    return run_gpsrelayctl(args, std::move(env), scratch_.path());
  }

  static int code(const CommandResult& result) { return exit_code(result); }

  // Packets stored as failed by a 404 upstream; the upstream then answers 200.
  std::vector<std::string> store_failed(UpstreamServer& upstream, int count) {
    upstream.set_default_status(404);
    std::vector<std::string> ids = post_reports(count);
    EXPECT_TRUE(eventually([&] { return failed_rows().size() == static_cast<size_t>(count); },
                           seconds(10)));
    EXPECT_TRUE(eventually([&] { return drained(); }, seconds(5)));
    upstream.set_default_status(200);
    return ids;
  }

  // The daemon creates and migrates failed_packets on its MySQL thread,
  // after READY; a test that inserts rows itself waits for that first.
  void wait_for_schema() {
    ASSERT_TRUE(eventually(
        [&] {
          return mysql().scalar(
                     "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = "
                     "DATABASE() AND table_name = 'failed_packets' AND column_name = "
                     "'received_at'") == "1";
        },
        seconds(10)));
  }

  TempDir scratch_{"gpsrelay-ctl"};
};

TEST_F(CtlTest, StatusShowsQueueConsumersLiveTargetsAndFailedPackets) {
  UpstreamServer upstream;
  UpstreamServer dead;
  dead.stop();
  DaemonConfig config = forwarding_to({&upstream, &dead});
  config.set("forward", "breaker_failures", "1").set("forward", "breaker_cooldown", "1m");
  config.set("forward", "threads", "2");  // a consumer in the group per delivery loop
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
  EXPECT_EQ(json_array_size(json_object_get(queue, "consumers")), 2u);
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
  // Newest row first. Rows are numbered in the order the packets failed,
  // which concurrent deliveries do not tie to the order they were posted.
  const auto id_of_row = [&](std::size_t i) {
    return json_integer_value(json_object_get(json_array_get(rows.get(), i), "id"));
  };
  EXPECT_GT(id_of_row(0), id_of_row(1)) << limited.out;
  const std::optional<std::string> newest =
      json_string(json_array_get(rows.get(), 0), "message_id");
  EXPECT_TRUE(std::find(ids.begin(), ids.end(), newest.value_or("")) != ids.end()) << limited.out;

  EXPECT_NE(ctl({"failed", "list", "--since", "1h"}).out.find(ids[0]), std::string::npos);
  EXPECT_NE(ctl({"failed", "list", "--since", "2099-01-01"}).out.find("no failed packets"),
            std::string::npos);

  const CommandResult show = ctl({"failed", "show", ids[1], "--json"});
  ASSERT_EQ(code(show), 0) << show.err;
  const JsonPtr packet = parse_json(show.out);
  EXPECT_EQ(json_string(packet.get(), "payload"), numbered_report(1));
  EXPECT_EQ(json_string(packet.get(), "last_error"), "HTTP 404");
  EXPECT_EQ(json_string(packet.get(), "target_server"), upstream.url());
  EXPECT_EQ(json_object_get(packet.get(), "payload_base64"), nullptr);  // UTF-8: not needed

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
  EXPECT_EQ(result.err, "gpsrelayctl: cannot reach Redis at 127.0.0.1:" +
                            std::to_string(redis().port()) + ": Connection refused\n");
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(failed_rows().size(), 2u);

  // status still shows the failed packets, and says what it could not reach.
  const CommandResult status = ctl({"status"});
  EXPECT_EQ(code(status), 2) << status.out << status.err;
  EXPECT_NE(status.out.find("cannot reach Redis at"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("2 in gpsrelay@"), std::string::npos) << status.out;
  redis().restart();
}

TEST_F(CtlTest, ReplayAndPurgeWorkThroughManyBatches) {
  UpstreamServer upstream;
  start_daemon(forwarding_to({&upstream}));
  wait_for_schema();
  daemon().stop();  // the replayed entries stay in the stream to be counted
  // 1201 rows: three replay batches of 500, the last one short.
  mysql().query(
      "INSERT INTO failed_packets (message_id, payload) "
      "SELECT CONCAT(seq, '-0'), CONCAT('{\"n\":', seq, '}') FROM seq_1_to_1201");
  const CommandResult replay = ctl({"failed", "replay", "--all", "--json"});
  ASSERT_EQ(code(replay), 0) << replay.err;
  EXPECT_EQ(json_integer_value(json_object_get(parse_json(replay.out).get(), "replayed")), 1201);
  EXPECT_EQ(stream_length(), 1201);
  EXPECT_TRUE(failed_rows().empty());
  const std::vector<StreamEntry> entries = stream_entries();
  ASSERT_EQ(entries.size(), 1201u);
  EXPECT_EQ(entries.front().fields.at("payload"), "{\"n\":1}");
  EXPECT_EQ(entries.back().fields.at("payload"), "{\"n\":1201}");
  EXPECT_EQ(entries.back().fields.at("replayed_from"), "1201-0");

  // 2001 old rows: purge batches of 1000 until none is left.
  mysql().query(
      "INSERT INTO failed_packets (message_id, payload, created_at) "
      "SELECT CONCAT(seq, '-1'), 'x', NOW(3) - INTERVAL 3 DAY FROM seq_1_to_2001");
  mysql().query("INSERT INTO failed_packets (message_id, payload) VALUES ('9-9', 'fresh')");
  const CommandResult purge = ctl({"failed", "purge", "--older-than", "2d", "--json"});
  ASSERT_EQ(code(purge), 0) << purge.err;
  EXPECT_EQ(json_integer_value(json_object_get(parse_json(purge.out).get(), "purged")), 2001);
  ASSERT_EQ(failed_rows().size(), 1u);
  EXPECT_EQ(failed_rows()[0].at("message_id"), "9-9");
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
  const std::string expected =
      "gpsrelayctl: cannot reach MySQL at 127.0.0.1:" + std::to_string(mariadb().port()) + ": ";
  EXPECT_EQ(result.err.rfind(expected, 0), 0u) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
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

  const CommandResult unknown_option = run_ctl({"status", "--verbose"});
  EXPECT_EQ(code(unknown_option), 1);
  EXPECT_NE(unknown_option.err.find("unknown option '--verbose'"), std::string::npos);
  EXPECT_NE(unknown_option.err.find("Usage:"), std::string::npos);

  const CommandResult unknown = run_ctl({"frobnicate"});
  EXPECT_EQ(code(unknown), 1);
  EXPECT_NE(unknown.err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(unknown.err.find("Usage:"), std::string::npos);

  const CommandResult help = run_ctl({"--help"});
  EXPECT_EQ(code(help), 0);
  EXPECT_NE(help.out.find("failed replay"), std::string::npos);
  EXPECT_NE(help.out.find("Exit status"), std::string::npos);

  const CommandResult version = run_ctl({"--version"});
  EXPECT_EQ(code(version), 0);
  EXPECT_EQ(version.out.rfind("gpsrelayctl ", 0), 0u) << version.out;
}

TEST_F(CtlTest, BadArgumentsNeedingTheConfigAreExitOneToo) {
  UpstreamServer upstream;
  start_daemon(forwarding_to({&upstream}));
  const CommandResult since = ctl({"failed", "list", "--since", "yesterday"});
  EXPECT_EQ(code(since), 1) << since.out;
  EXPECT_NE(since.err.find("--since takes a duration"), std::string::npos) << since.err;
  EXPECT_NE(since.err.find("YYYY-MM-DD"), std::string::npos) << since.err;

  const CommandResult id = ctl({"failed", "show", "abc"});
  EXPECT_EQ(code(id), 1) << id.out;
  EXPECT_NE(id.err.find("row id"), std::string::npos) << id.err;

  // An environment override is checked like the file.
  const CommandResult env = ctl({"status"}, {{"GPSRELAY_REDIS_DB", "many"}});
  EXPECT_EQ(code(env), 1) << env.out;
  EXPECT_NE(env.err.find("GPSRELAY_REDIS_DB"), std::string::npos) << env.err;
}

TEST_F(CtlTest, StatusWithoutTheDaemonShowsConfiguredTargetsAsUnknown) {
  UpstreamServer upstream;
  start_daemon(forwarding_to({&upstream}));
  post_reports(2);
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(10)));
  daemon().stop();
  // An entry nobody reads now.
  redis_client().command({"XADD", std::string(kDefaultStream), "*", "payload", "{}"});

  const CommandResult text = ctl({"status"});
  ASSERT_EQ(code(text), 0) << text.out << text.err;
  EXPECT_NE(text.out.find("daemon: not reachable at http://127.0.0.1:"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find(upstream.url() + "  unknown"), std::string::npos) << text.out;

  const CommandResult json = ctl({"status", "--json"});
  ASSERT_EQ(code(json), 0) << json.err;
  const JsonPtr root = parse_json(json.out);
  ASSERT_TRUE(root) << json.out;
  const json_t* daemon_part = json_object_get(root.get(), "daemon");
  EXPECT_TRUE(json_is_false(json_object_get(daemon_part, "reachable")));
  EXPECT_EQ(json_string(json_array_get(json_object_get(daemon_part, "targets"), 0), "state"),
            "unknown");
  // The backlog is what nobody delivered yet.
  EXPECT_EQ(json_integer_value(json_object_get(json_object_get(root.get(), "queue"), "length")), 1);
}

TEST_F(CtlTest, ReplayedEntryKeepsPayloadReceivedAtAndRequestIdUnderANewId) {
  UpstreamServer upstream;
  const DaemonConfig config = forwarding_to({&upstream});
  start_daemon(config);
  const std::vector<std::string> ids = store_failed(upstream, 2);
  MysqlClient utc = mysql();
  utc.query("SET time_zone = '+00:00'");
  const std::string received_at = utc.scalar(
      "SELECT FLOOR(UNIX_TIMESTAMP(received_at) * 1000) FROM failed_packets WHERE message_id = '" +
      ids[1] + "'");
  const std::string request_id =
      utc.scalar("SELECT request_id FROM failed_packets WHERE message_id = '" + ids[1] + "'");
  ASSERT_FALSE(request_id.empty());
  daemon().stop();  // so the replayed entry stays in the stream to be looked at

  EXPECT_NE(ctl({"failed", "replay", "--since", "2099-01-01"}).out.find("replayed 0 packets"),
            std::string::npos);
  const CommandResult missing = ctl({"failed", "replay", "--id", "999999"});
  EXPECT_EQ(code(missing), 3) << missing.out << missing.err;

  const CommandResult replay = ctl({"failed", "replay", "--id", ids[1]});
  ASSERT_EQ(code(replay), 0) << replay.err;
  const std::vector<StreamEntry> entries = stream_entries();
  ASSERT_EQ(entries.size(), 1u);
  const StreamEntry& entry = entries[0];
  EXPECT_NE(entry.id, ids[1]);
  EXPECT_EQ(entry.fields.at("payload"), numbered_report(1));
  EXPECT_EQ(entry.fields.at("received_at"), received_at);
  EXPECT_EQ(entry.fields.at("request_id"), request_id);
  EXPECT_EQ(entry.fields.at("replayed_from"), ids[1]);
  ASSERT_EQ(failed_rows().size(), 1u);
  EXPECT_EQ(failed_rows()[0].at("message_id"), ids[0]);

  // The daemon delivers it under the new id, so upstream de-duplication by
  // id does not drop a packet it never accepted.
  const size_t before = upstream.request_count();
  start_daemon(config);
  ASSERT_TRUE(eventually([&] { return upstream.request_count() == before + 1; }, seconds(10)));
  const ReceivedRequest delivered = upstream.requests().back();
  EXPECT_EQ(delivered.body, numbered_report(1));
  EXPECT_EQ(header_of(delivered, "x-gpsrelay-message-id"), entry.id);
  EXPECT_EQ(header_of(delivered, "x-request-id"), request_id);
}

TEST_F(CtlTest, ReplayRefusesToOverfillTheQueueAndChangesNothing) {
  UpstreamServer upstream;
  start_daemon(forwarding_to({&upstream}));
  store_failed(upstream, 3);
  const CommandResult result =
      ctl({"failed", "replay", "--all"}, {{"GPSRELAY_REDIS_MAX_QUEUE_LENGTH", "2"}});
  EXPECT_EQ(code(result), 2) << result.out << result.err;
  EXPECT_NE(result.err.find("max_queue_length is 2"), std::string::npos) << result.err;
  EXPECT_EQ(failed_rows().size(), 3u);
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(CtlTest, ShowEscapesABinaryPayloadAndJsonStaysValid) {
  UpstreamServer upstream;
  start_daemon(forwarding_to({&upstream}));
  wait_for_schema();
  mysql().query(
      "INSERT INTO failed_packets (message_id, payload, last_error) "
      "VALUES ('5-1', X'7B0001FF7D', 'connection refused')");
  const CommandResult text = ctl({"failed", "show", "5-1"});
  ASSERT_EQ(code(text), 0) << text.err;
  EXPECT_NE(text.out.find("{\\x00\\x01\\xff}"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(5 bytes)"), std::string::npos) << text.out;

  const CommandResult json = ctl({"failed", "show", "5-1", "--json"});
  ASSERT_EQ(code(json), 0) << json.err;
  const JsonPtr packet = parse_json(json.out);
  ASSERT_TRUE(packet) << json.out;
  EXPECT_EQ(json_string(packet.get(), "last_error"), "connection refused");
  EXPECT_TRUE(json_is_null(json_object_get(packet.get(), "received_at")));
  // Not UTF-8: the exact bytes are there too.
  EXPECT_EQ(json_string(packet.get(), "payload_base64"), "ewAB/30=");
  EXPECT_EQ(json_string(packet.get(), "payload"), std::string("{\0\x01\u00ff}", 6));
}

}  // namespace
}  // namespace gpsrelay::testing
