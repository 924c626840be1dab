// The topics API's producer side against a real gpsrelayd and
// redis-server: create, list, describe and delete topics; publish one
// message or a batch (answered once Redis has them, per-key partitions,
// keyless spread); bad input answered with clear errors; delete refused
// while a group has pending messages unless forced; the counters.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "support/prometheus.h"
#include "support/topics_fixture.h"

namespace gpsrelay::testing {
namespace {

class TopicsProducerTest : public TopicsTest {
 protected:
  void SetUp() override {
    TopicsTest::SetUp();
    start_topics();
  }
};

TEST_F(TopicsProducerTest, CreateListDescribeDelete) {
  const HttpResponse created = post("/v1/topics", R"({"name":"orders","partitions":3})");
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.body, R"({"name":"orders","partitions":3})");
  EXPECT_EQ(post("/v1/topics", R"({"name":"orders"})").status, 409);
  create("audit.log", 1);

  const HttpResponse listed = get("/v1/topics");
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body, R"({"topics":[{"name":"audit.log","partitions":1,"retention":"7d"},)"
                         R"({"name":"orders","partitions":3,"retention":"7d"}]})");

  const HttpResponse described = get("/v1/topics/orders");
  EXPECT_EQ(described.status, 200);
  EXPECT_EQ(described.body,
            R"({"name":"orders","partitions":3,"retention":"7d","length":0,"groups":[]})");

  EXPECT_EQ(remove("/v1/topics/orders").status, 204);
  EXPECT_EQ(get("/v1/topics/orders").status, 404);
  EXPECT_EQ(remove("/v1/topics/orders").status, 404);
  EXPECT_EQ(get("/v1/topics").body,
            R"({"topics":[{"name":"audit.log","partitions":1,"retention":"7d"}]})");
}

TEST_F(TopicsProducerTest, PublishIsInRedisWhenAnsweredAndKeysKeepTheirPartition) {
  create("orders", 4);
  const HttpResponse first =
      post("/v1/topics/orders/publish", R"({"key":"customer-7","value":{"total":12.5},)"
                                        R"("headers":{"source":"shop"}})");
  ASSERT_EQ(first.status, 201) << first.body;
  const auto [partition, id] = placed(first);
  const std::vector<StreamEntry> entries = redis_client().xrange(stream_of("orders", partition));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, id);
  EXPECT_EQ(entries[0].fields.at("k"), "customer-7");
  EXPECT_EQ(entries[0].fields.at("v"), R"({"total":12.5})");
  EXPECT_EQ(entries[0].fields.at("b"), "0");
  EXPECT_EQ(entries[0].fields.at("h"), R"({"source":"shop"})");

  // Same key, same partition: order per key holds.
  for (int i = 0; i < 10; ++i) {
    const HttpResponse again = post("/v1/topics/orders/publish",
                                    R"({"key":"customer-7","value":)" + std::to_string(i) + "}");
    ASSERT_EQ(again.status, 201);
    EXPECT_EQ(placed(again).first, partition);
  }
  // Without a key, messages spread over the partitions.
  std::set<long long> used;
  for (int i = 0; i < 8; ++i) {
    used.insert(placed(post("/v1/topics/orders/publish", R"({"value":"x"})")).first);
  }
  EXPECT_EQ(used.size(), 4u);
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_topics_messages_published_total", {{"topic", "orders"}}),
            19);
}

TEST_F(TopicsProducerTest, BatchIsOneAnswerForAll) {
  create("events", 2);
  std::string body = R"({"messages":[)";
  for (int i = 0; i < 100; ++i) {
    if (i > 0) body += ',';
    body +=
        R"({"key":"k)" + std::to_string(i % 7) + R"(","value":{"n":)" + std::to_string(i) + "}}";
  }
  body += "]}";
  const HttpResponse batch = post("/v1/topics/events/batch", body);
  ASSERT_EQ(batch.status, 201) << batch.body;
  const JsonPtr json = parse_json(batch.body);
  ASSERT_TRUE(json);
  EXPECT_EQ(json_array_size(json_object_get(json.get(), "results")), 100u);
  EXPECT_EQ(
      redis_client().xlen(stream_of("events", 0)) + redis_client().xlen(stream_of("events", 1)),
      100);
  EXPECT_NE(get("/v1/topics/events").body.find(R"("length":100)"), std::string::npos);
}

TEST_F(TopicsProducerTest, BinaryValuesAreStoredAsTheirBytes) {
  create("blobs", 1);
  const HttpResponse published = post("/v1/topics/blobs/publish", R"({"value_b64":"AAEC/w=="})");
  ASSERT_EQ(published.status, 201) << published.body;
  const std::vector<StreamEntry> entries = redis_client().xrange(stream_of("blobs", 0));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].fields.at("v"), std::string("\x00\x01\x02\xff", 4));
  EXPECT_EQ(entries[0].fields.at("b"), "1");
}

TEST_F(TopicsProducerTest, BadInputIsAnsweredClearly) {
  create("orders", 1);
  EXPECT_EQ(post("/v1/topics/missing/publish", R"({"value":1})").status, 404);
  EXPECT_EQ(post("/v1/topics/orders/publish", R"({"value":)").status, 400);
  const HttpResponse no_value = post("/v1/topics/orders/publish", R"({"key":"k"})");
  EXPECT_EQ(no_value.status, 400);
  EXPECT_NE(no_value.body.find("value"), std::string::npos) << no_value.body;
  EXPECT_EQ(post("/v1/topics/bad%20name/publish", R"({"value":1})").status, 400);
  EXPECT_EQ(post("/v1/topics", R"({"name":"a b"})").status, 400);
  EXPECT_EQ(post("/v1/topics", R"({"name":"p","partitions":0})").status, 400);
  EXPECT_EQ(post("/v1/topics/orders/publish", R"({"value":1,"delay":"8d"})").status, 400);
  std::string too_many = R"({"messages":[)";
  for (int i = 0; i < 1001; ++i) too_many += std::string(i > 0 ? "," : "") + R"({"value":1})";
  too_many += "]}";
  EXPECT_EQ(post("/v1/topics/orders/batch", too_many).status, 413);
  EXPECT_EQ(redis_client().xlen(stream_of("orders", 0)), 0);
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_topics_publish_errors_total", {{"type", "no_topic"}}),
            1);
}

TEST_F(TopicsProducerTest, DeleteWaitsForPendingMessagesUnlessForced) {
  create("work", 1);
  ASSERT_EQ(post("/v1/topics/work/publish", R"({"value":"job"})").status, 201);
  // A group with a delivered, unacknowledged message.
  const std::string stream = stream_of("work", 0);
  redis_client().command({"XGROUP", "CREATE", stream, "workers", "0"});
  redis_client().command(
      {"XREADGROUP", "GROUP", "workers", "w1", "COUNT", "1", "STREAMS", stream, ">"});
  const HttpResponse described = get("/v1/topics/work");
  EXPECT_NE(described.body.find(R"("groups":[{"name":"workers","lag":0,"pending":1}])"),
            std::string::npos)
      << described.body;
  const HttpResponse refused = remove("/v1/topics/work");
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body.find("force=true"), std::string::npos);
  EXPECT_EQ(remove("/v1/topics/work?force=true").status, 204);
  EXPECT_EQ(redis_client().xlen(stream), 0);
}

TEST_F(TopicsProducerTest, RetentionTrimsOldMessagesAsNewOnesArrive) {
  ASSERT_EQ(post("/v1/topics", R"({"name":"short","retention":"1s"})").status, 201);
  std::string batch = R"({"messages":[)";
  for (int i = 0; i < 250; ++i) batch += std::string(i > 0 ? "," : "") + R"({"value":1})";
  ASSERT_EQ(post("/v1/topics/short/batch", batch + "]}").status, 201);
  EXPECT_EQ(redis_client().xlen(stream_of("short", 0)), 250);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_EQ(post("/v1/topics/short/publish", R"({"value":"new"})").status, 201);
  // Trimming is approximate (whole stream nodes of 100 entries go), never
  // the new message: what is left is fewer than before and holds it.
  const long long left = redis_client().xlen(stream_of("short", 0));
  EXPECT_LT(left, 250);
  EXPECT_GE(left, 1);
  EXPECT_EQ(redis_client().xrange(stream_of("short", 0)).back().fields.at("v"), R"("new")");
}

TEST_F(TopicsProducerTest, AFlushedScriptCacheCostsOneRequest) {
  create("orders", 1);
  redis_client().command({"SCRIPT", "FLUSH"});
  // Scripts go by SHA-1: the first call after the flush finds none, answers
  // 503 and loads them again; the client's retry goes through.
  const HttpResponse first = post("/v1/topics/orders/publish", R"({"value":1})");
  EXPECT_EQ(first.status, 503);
  EXPECT_EQ(post("/v1/topics/orders/publish", R"({"value":2})").status, 201);
}

}  // namespace
}  // namespace gpsrelay::testing
