// gpsrelayctl's topics and dlq commands against a real gpsrelayd (with
// [topics] enabled) and redis-server: what the CLI creates and deletes is
// what the HTTP API sees and the other way round, a delete is refused
// while a group has pending messages unless forced, lag is per group,
// topic and partition, and a dead letter made by the daemon's own
// redelivery is listed and, replayed, polled again from its topic on the
// partition of its key, without the headers the move added.
#include <gtest/gtest.h>
#include <jansson.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/ctl_runner.h"
#include "support/json.h"
#include "support/temp_dir.h"
#include "support/topics_fixture.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;

const std::string kMeta = std::string(kTopicPrefix) + "meta";

class CtlTopicsTest : public TopicsTest {
 protected:
  // Runs gpsrelayctl with the daemon's own config file.
  CommandResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"-c", daemon().config_path().string()});
    return run_gpsrelayctl(args, {}, scratch_.path());
  }

  static int code(const CommandResult& result) { return exit_code(result); }

  void publish(const std::string& topic, const std::string& body) {
    const HttpResponse published = post("/v1/topics/" + topic + "/publish", body);
    ASSERT_EQ(published.status, 201) << published.body;
  }

  // The lines of `text`, each with its runs of blanks cut to one, so a
  // check does not depend on column widths.
  static std::vector<std::string> rows(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      std::string squeezed;
      for (const char c : line) {
        if (c != ' ' || squeezed.empty() || squeezed.back() != ' ') squeezed += c;
      }
      out.push_back(squeezed);
    }
    return out;
  }

  // The element of the JSON array `list` whose `key` is `value`.
  static const json_t* find(const json_t* list, const char* key, const std::string& value) {
    for (std::size_t i = 0; i < json_array_size(list); ++i) {
      const json_t* item = json_array_get(list, i);
      if (json_string(item, key) == value) return item;
    }
    return nullptr;
  }

  static long long integer(const json_t* object, const char* key) {
    return json_integer_value(json_object_get(object, key));
  }

  TempDir scratch_{"gpsrelay-ctl-topics"};
};

TEST_F(CtlTopicsTest, CreateListAndDeleteAreTheApisTopics) {
  start_topics({{"retention", "2d"}});
  const CommandResult created = ctl({"topics", "create", "jobs", "--partitions", "3"});
  ASSERT_EQ(code(created), 0) << created.err;
  EXPECT_EQ(created.out, "created topic jobs: 3 partitions, retention 2d\n");
  // The daemon's format in the daemon's hash: the API serves it.
  const std::string meta = redis_client().command({"HGET", kMeta, "jobs"})->str;
  EXPECT_EQ(meta.rfind("3 172800000 ", 0), 0u) << meta;
  const HttpResponse described = get("/v1/topics/jobs");
  ASSERT_EQ(described.status, 200) << described.body;
  EXPECT_NE(described.body.find(R"("partitions":3)"), std::string::npos) << described.body;

  const CommandResult again = ctl({"topics", "create", "jobs"});
  EXPECT_EQ(code(again), 4) << again.out;
  EXPECT_EQ(again.err, "gpsrelayctl: topic jobs exists\n");
  const CommandResult bad = ctl({"topics", "create", "a:b"});
  EXPECT_EQ(code(bad), 1);
  EXPECT_NE(bad.err.find("TOPIC is 1 to 200 of A-Z a-z 0-9 . _ -"), std::string::npos) << bad.err;

  create("events", 1);  // through the API, with the default retention
  const CommandResult json_created =
      ctl({"topics", "create", "audit", "--retention", "90m", "--json"});
  ASSERT_EQ(code(json_created), 0) << json_created.err;
  const JsonPtr answer = parse_json(json_created.out);
  ASSERT_TRUE(answer) << json_created.out;
  EXPECT_EQ(json_string(answer.get(), "retention"), "90m");
  EXPECT_EQ(integer(answer.get(), "partitions"), 1);

  publish("jobs", R"({"value":1})");
  publish("jobs", R"({"value":2})");
  join("workers", R"(["jobs"])");
  const CommandResult listed = ctl({"topics", "list"});
  ASSERT_EQ(code(listed), 0) << listed.err;
  EXPECT_EQ(rows(listed.out),
            (std::vector<std::string>{"NAME PARTITIONS RETENTION LENGTH GROUPS", "audit 1 90m 0 0",
                                      "events 1 2d 0 0", "jobs 3 2d 2 1"}))
      << listed.out;
  const CommandResult json = ctl({"--json", "topics", "list"});
  ASSERT_EQ(code(json), 0) << json.err;
  const JsonPtr topics = parse_json(json.out);
  ASSERT_TRUE(topics) << json.out;
  const json_t* jobs = find(json_object_get(topics.get(), "topics"), "name", "jobs");
  ASSERT_NE(jobs, nullptr) << json.out;
  EXPECT_EQ(integer(jobs, "partitions"), 3);
  EXPECT_EQ(integer(jobs, "length"), 2);
  EXPECT_EQ(integer(jobs, "retention_ms"), 172800000);
  const json_t* workers = find(json_object_get(jobs, "groups"), "name", "workers");
  ASSERT_NE(workers, nullptr) << json.out;
  EXPECT_EQ(integer(workers, "lag"), 2);

  const CommandResult deleted = ctl({"topics", "delete", "events"});
  ASSERT_EQ(code(deleted), 0) << deleted.err;
  EXPECT_EQ(deleted.out, "deleted topic events\n");
  EXPECT_EQ(get("/v1/topics/events").status, 404);
  const CommandResult gone = ctl({"topics", "delete", "events"});
  EXPECT_EQ(code(gone), 3);
  EXPECT_EQ(gone.err, "gpsrelayctl: no such topic events\n");
}

TEST_F(CtlTopicsTest, DeleteIsRefusedWhileAGroupHasPendingMessagesUnlessForced) {
  start_topics();
  create("jobs", 2);
  publish("jobs", R"({"key":"k","value":"x"})");
  const std::string consumer = join("workers", R"(["jobs"])");
  ASSERT_EQ(poll("workers", consumer).size(), 1u);  // delivered, not acked

  const CommandResult refused = ctl({"topics", "delete", "jobs"});
  EXPECT_EQ(code(refused), 4) << refused.out;
  EXPECT_EQ(refused.err,
            "gpsrelayctl: a consumer group has pending messages on topic jobs; --force deletes "
            "them too\n");
  EXPECT_EQ(get("/v1/topics/jobs").status, 200);

  const CommandResult forced = ctl({"topics", "delete", "jobs", "--force"});
  ASSERT_EQ(code(forced), 0) << forced.err;
  EXPECT_EQ(get("/v1/topics/jobs").status, 404);
  EXPECT_EQ(redis_client().command({"EXISTS", stream_of("jobs", 0), stream_of("jobs", 1)})->integer,
            0);
}

TEST_F(CtlTopicsTest, LagIsPerGroupTopicAndPartition) {
  start_topics();
  create("jobs", 1);
  create("mail", 2);
  const std::string worker = join("workers", R"(["jobs","mail"])");
  join("audit", R"(["jobs"])");
  for (int i = 0; i < 5; ++i) publish("jobs", R"({"value":)" + std::to_string(i) + "}");
  ASSERT_EQ(poll("workers", worker, "max=2").size(), 2u);

  const CommandResult lag = ctl({"topics", "lag"});
  ASSERT_EQ(code(lag), 0) << lag.err;
  EXPECT_EQ(rows(lag.out),
            (std::vector<std::string>{"GROUP TOPIC PARTITION LAG PENDING CONSUMERS",
                                      "audit jobs 0 5 0 1", "workers jobs 0 3 2 1",
                                      "workers mail 0 0 0 1", "workers mail 1 0 0 1"}))
      << lag.out;

  const CommandResult json = ctl({"topics", "lag", "--json"});
  ASSERT_EQ(code(json), 0) << json.err;
  const JsonPtr groups = parse_json(json.out);
  ASSERT_TRUE(groups) << json.out;
  const json_t* workers = find(json_object_get(groups.get(), "groups"), "name", "workers");
  ASSERT_NE(workers, nullptr) << json.out;
  EXPECT_EQ(integer(workers, "lag"), 3);
  EXPECT_EQ(integer(workers, "pending"), 2);
  EXPECT_EQ(integer(workers, "consumers"), 1);
  EXPECT_EQ(json_array_size(json_object_get(workers, "partitions")), 3u);
}

TEST_F(CtlTopicsTest, DeadLettersAreListedAndReplayedToTheirKeysPartitions) {
  start_topics({{"visibility_timeout", "300ms"}, {"max_retries", "1"}});
  // 3 partitions: a key hashed other than as the daemon hashes it (say,
  // modulo 3 without its 1 << 30 step first) would likely move.
  create("jobs", 3);
  publish("jobs", R"({"key":"poison","value":{"bad":true},"headers":{"trace":"t1"}})");
  publish("jobs", R"({"key":"bytes-7","value_b64":"AAEC/w=="})");
  publish("jobs", R"({"key":"order-12","value":[1,2],"headers":{"x-mine":"kept"}})");
  const std::string consumer = join("workers", R"(["jobs"])");
  const std::vector<Polled> first = poll("workers", consumer, "max=10");
  ASSERT_EQ(first.size(), 3u);
  std::map<std::string, Polled> original;  // by key
  for (const Polled& m : first) original[m.key] = m;
  // Not acked within the visibility timeout: with max_retries 1 the next
  // poll moves all three to jobs.dlq.
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_TRUE(poll("workers", consumer).empty());
  ASSERT_EQ(redis_client().xlen(stream_of("jobs.dlq", 0)), 3);

  const CommandResult listed = ctl({"dlq", "list", "jobs"});
  ASSERT_EQ(code(listed), 0) << listed.err;
  const std::vector<std::string> lines = rows(listed.out);
  ASSERT_EQ(lines.size(), 4u) << listed.out;
  EXPECT_EQ(lines[0], "ID ORIGINAL ID DELIVERIES REASON LAST CONSUMER PUBLISHED KEY VALUE");
  // Which partition the poll took first decides their order in the DLQ.
  const auto row_of = [&](const std::string& key) {
    for (const std::string& line : lines) {
      if (line.find(" " + key + " ") != std::string::npos) return line.substr(line.find(' ') + 1);
    }
    return std::string("<none>");
  };
  const std::string poison = row_of("poison");
  EXPECT_EQ(poison.rfind(original["poison"].id + " 1 max_retries " + consumer + " ", 0), 0u)
      << listed.out;
  EXPECT_NE(poison.find("Z poison {\"bad\":true}"), std::string::npos) << listed.out;
  EXPECT_NE(row_of("bytes-7").find(" bytes-7 base64:AAEC/w=="), std::string::npos) << listed.out;

  const CommandResult json = ctl({"dlq", "list", "jobs", "--json"});
  ASSERT_EQ(code(json), 0) << json.err;
  const JsonPtr dlq = parse_json(json.out);
  ASSERT_TRUE(dlq) << json.out;
  EXPECT_EQ(integer(dlq.get(), "length"), 3);
  const json_t* messages = json_object_get(dlq.get(), "messages");
  const json_t* dead = find(messages, "key", "poison");
  ASSERT_NE(dead, nullptr) << json.out;
  EXPECT_EQ(json_string(dead, "original_id"), original["poison"].id);
  EXPECT_EQ(integer(dead, "deliveries"), 1);
  EXPECT_EQ(json_string(dead, "reason"), "max_retries");
  EXPECT_EQ(json_string(dead, "last_consumer"), consumer);
  EXPECT_TRUE(json_is_true(json_object_get(json_object_get(dead, "value"), "bad"))) << json.out;
  EXPECT_EQ(json_string(json_object_get(dead, "headers"), "trace"), "t1");
  EXPECT_EQ(json_string(json_object_get(dead, "headers"), "x-original-topic"), "jobs");
  const json_t* binary = find(messages, "key", "bytes-7");
  ASSERT_NE(binary, nullptr) << json.out;
  EXPECT_EQ(json_string(binary, "value_b64"), "AAEC/w==");

  const CommandResult limited = ctl({"dlq", "list", "jobs", "--limit", "1"});
  ASSERT_EQ(code(limited), 0) << limited.err;
  EXPECT_NE(limited.out.find("(1 of 3 shown"), std::string::npos) << limited.out;

  // One by id, then the rest; each is gone from the DLQ once published.
  const std::string poison_id = json_string(dead, "id").value_or("");
  const CommandResult one = ctl({"dlq", "replay", "jobs", "--id", poison_id});
  ASSERT_EQ(code(one), 0) << one.err;
  EXPECT_EQ(one.out, "replayed 1 dead letter from jobs.dlq to jobs\n");
  EXPECT_EQ(redis_client().xlen(stream_of("jobs.dlq", 0)), 2);
  EXPECT_EQ(code(ctl({"dlq", "replay", "jobs", "--id", poison_id})), 3);
  const CommandResult rest = ctl({"dlq", "replay", "jobs"});
  ASSERT_EQ(code(rest), 0) << rest.err;
  EXPECT_EQ(rest.out, "replayed 2 dead letters from jobs.dlq to jobs\n");
  EXPECT_EQ(ctl({"dlq", "list", "jobs"}).out, "no dead letters of jobs (jobs.dlq is empty)\n");

  // Back in jobs as new messages: same key, value, headers and partition.
  const std::vector<Polled> back = poll("workers", consumer, "max=10&wait=5s");
  ASSERT_EQ(back.size(), 3u);
  for (const Polled& m : back) {
    const Polled& before = original[m.key];
    EXPECT_EQ(m.topic, "jobs");
    EXPECT_EQ(m.partition, before.partition) << m.key;
    EXPECT_EQ(m.value, before.value) << m.key;
    EXPECT_EQ(m.headers, before.headers) << m.key;
    EXPECT_EQ(m.deliveries, 1);
    EXPECT_NE(m.id, before.id);
  }
  EXPECT_EQ(original["poison"].headers.at("trace"), "t1");
  EXPECT_EQ(original["bytes-7"].value, "AAEC/w==");
  // Only the headers the move added go; a sender's own x- header stays.
  EXPECT_EQ(original["order-12"].headers.at("x-mine"), "kept");
}

TEST_F(CtlTopicsTest, UnknownTopicsAreExitThree) {
  start_topics();
  const CommandResult list = ctl({"dlq", "list", "nosuch"});
  EXPECT_EQ(code(list), 3);
  EXPECT_EQ(list.err, "gpsrelayctl: no such topic nosuch\n");
  const CommandResult replay = ctl({"dlq", "replay", "nosuch"});
  EXPECT_EQ(code(replay), 3);
  EXPECT_NE(replay.err.find("no such topic nosuch"), std::string::npos) << replay.err;
  // A topic without dead letters has an empty DLQ, which is no error.
  create("jobs", 1);
  const CommandResult empty = ctl({"dlq", "list", "jobs", "--json"});
  ASSERT_EQ(code(empty), 0) << empty.err;
  const JsonPtr json = parse_json(empty.out);
  ASSERT_TRUE(json) << empty.out;
  EXPECT_EQ(integer(json.get(), "length"), 0);
  const CommandResult none = ctl({"dlq", "replay", "jobs", "--all"});
  ASSERT_EQ(code(none), 0) << none.err;
  EXPECT_EQ(none.out, "replayed 0 dead letters from jobs.dlq to jobs\n");
  EXPECT_EQ(ctl({"topics", "lag"}).out, "no consumer groups on the topics under gpsrelay:topic:\n");
}

}  // namespace
}  // namespace gpsrelay::testing
