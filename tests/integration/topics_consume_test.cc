// The topics API's consumer side against a real gpsrelayd and
// redis-server: round trip with ack; a group's consumers get disjoint
// messages; a message not acked within the visibility timeout comes again
// (to any consumer) with its delivery count; after max_retries it is in
// <topic>.dlq with its history; nack at once or after a delay (also across
// a restart); long-poll answers as soon as a message arrives and at its
// deadline when none does; sessions expire and leave gives back at once;
// commit; delayed publish; unknown consumers and topics.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "support/eventually.h"
#include "support/prometheus.h"
#include "support/topics_fixture.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

long long elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - since).count();
}

class TopicsConsumeTest : public TopicsTest {
 protected:
  void publish(const std::string& topic, const std::string& body) {
    const HttpResponse published = post("/v1/topics/" + topic + "/publish", body);
    ASSERT_EQ(published.status, 201) << published.body;
  }
  long long acked(const std::string& group, const std::string& consumer,
                  const std::vector<Polled>& messages, const char* call = "ack",
                  const std::string& extra = "") {
    const HttpResponse answer = post(
        "/v1/groups/" + group + "/" + call,
        R"({"consumer_id":")" + consumer + R"(","messages":)" + references(messages) + extra + "}");
    EXPECT_EQ(answer.status, 200) << answer.body;
    const JsonPtr json = parse_json(answer.body);
    return json ? json_integer_value(
                      json_object_get(json.get(), std::string(call) == "ack" ? "acked" : "nacked"))
                : -1;
  }
};

TEST_F(TopicsConsumeTest, RoundTripInOrderPerKeyThenAck) {
  start_topics();
  create("jobs", 1);
  for (int i = 0; i < 3; ++i)
    publish("jobs", R"({"key":"k","value":{"n":)" + std::to_string(i) + "}}");
  const std::string consumer = join("workers", R"(["jobs"])");
  const std::vector<Polled> got = poll("workers", consumer, "max=10");
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].value, R"({"n":)" + std::to_string(i) + "}");
    EXPECT_EQ(got[i].key, "k");
    EXPECT_EQ(got[i].deliveries, 1);
  }
  EXPECT_EQ(acked("workers", consumer, got), 3);
  EXPECT_TRUE(poll("workers", consumer).empty());
  EXPECT_NE(
      get("/v1/topics/jobs").body.find(R"("groups":[{"name":"workers","lag":0,"pending":0}])"),
      std::string::npos);
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_topics_messages_consumed_total",
                                 {{"topic", "jobs"}, {"group", "workers"}}),
            3);
}

TEST_F(TopicsConsumeTest, ConsumersOfAGroupGetDisjointMessages) {
  start_topics();
  create("jobs", 4);
  for (int i = 0; i < 20; ++i) publish("jobs", R"({"value":)" + std::to_string(i) + "}");
  const std::string a = join("workers", R"(["jobs"])");
  const std::string b = join("workers", R"(["jobs"])");
  const std::vector<Polled> first = poll("workers", a, "max=10");
  const std::vector<Polled> second = poll("workers", b, "max=10");
  ASSERT_EQ(first.size(), 10u);
  ASSERT_EQ(second.size(), 10u);
  std::set<std::string> values;
  for (const Polled& m : first) values.insert(m.value);
  for (const Polled& m : second) values.insert(m.value);
  EXPECT_EQ(values.size(), 20u);
  // Another group gets all of them again.
  EXPECT_EQ(poll("audit", join("audit", R"(["jobs"])"), "max=100").size(), 20u);
}

TEST_F(TopicsConsumeTest, UnackedMessageComesAgainAfterTheVisibilityTimeout) {
  start_topics({{"visibility_timeout", "500ms"}});
  create("jobs", 1);
  publish("jobs", R"({"value":"once"})");
  const std::string crashed = join("workers", R"(["jobs"])");
  ASSERT_EQ(poll("workers", crashed).size(), 1u);  // and never acked
  const std::string other = join("workers", R"(["jobs"])");
  EXPECT_TRUE(poll("workers", other).empty());  // not before the timeout
  const std::vector<Polled> again = poll("workers", other, "wait=5s");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].value, R"("once")");
  EXPECT_EQ(again[0].deliveries, 2);
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_topics_redeliveries_total"), 1);
}

TEST_F(TopicsConsumeTest, MaxRetriesMovesTheMessageToItsDeadLetterTopic) {
  start_topics({{"visibility_timeout", "300ms"}, {"max_retries", "2"}});
  create("jobs", 1);
  publish("jobs", R"({"key":"poison","value":{"bad":true},"headers":{"trace":"t1"}})");
  const std::string consumer = join("workers", R"(["jobs"])");
  ASSERT_EQ(poll("workers", consumer).size(), 1u);
  const std::vector<Polled> second = poll("workers", consumer, "wait=5s");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].deliveries, 2);
  // The third time it goes to jobs.dlq instead.
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_TRUE(poll("workers", consumer).empty());
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_topics_dead_letters_total"), 1);

  const std::vector<Polled> dead = poll("inspect", join("inspect", R"(["jobs.dlq"])"));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].topic, "jobs.dlq");
  EXPECT_EQ(dead[0].key, "poison");
  EXPECT_EQ(dead[0].value, R"({"bad":true})");
  EXPECT_EQ(dead[0].headers.at("trace"), "t1");
  EXPECT_EQ(dead[0].headers.at("x-original-topic"), "jobs");
  EXPECT_EQ(dead[0].headers.at("x-original-id"), second[0].id);
  EXPECT_EQ(dead[0].headers.at("x-deliveries"), "2");
  EXPECT_EQ(dead[0].headers.at("x-reason"), "max_retries");
  EXPECT_EQ(dead[0].headers.at("x-last-consumer"), consumer);
}

TEST_F(TopicsConsumeTest, NackGivesBackAtOnceOrAfterItsDelay) {
  start_topics({{"visibility_timeout", "10s"}});
  create("jobs", 1);
  publish("jobs", R"({"value":1})");
  const std::string consumer = join("workers", R"(["jobs"])");
  std::vector<Polled> got = poll("workers", consumer);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(acked("workers", consumer, got, "nack"), 1);
  got = poll("workers", consumer);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].deliveries, 2);

  EXPECT_EQ(acked("workers", consumer, got, "nack", R"(,"delay":"1s")"), 1);
  const auto nacked_at = Clock::now();
  EXPECT_TRUE(poll("workers", consumer).empty());
  got = poll("workers", consumer, "wait=5s");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_GE(elapsed_ms(nacked_at), 900);
  EXPECT_EQ(got[0].deliveries, 3);

  const HttpResponse too_long =
      post("/v1/groups/workers/nack", R"({"consumer_id":")" + consumer + R"(","messages":)" +
                                          references(got) + R"(,"delay":"11s"})");
  EXPECT_EQ(too_long.status, 400);
  EXPECT_NE(too_long.body.find("visibility_timeout"), std::string::npos) << too_long.body;
}

TEST_F(TopicsConsumeTest, NackDelayHoldsAcrossARestart) {
  start_topics({{"visibility_timeout", "10s"}});
  create("jobs", 1);
  publish("jobs", R"({"value":"later"})");
  const std::string consumer = join("workers", R"(["jobs"])");
  const std::vector<Polled> got = poll("workers", consumer);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(acked("workers", consumer, got, "nack", R"(,"delay":"2s")"), 1);
  const auto nacked_at = Clock::now();
  start_topics({{"visibility_timeout", "10s"}});  // the old one killed -9
  const std::vector<Polled> again = poll("workers", consumer, "wait=10s");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_GE(elapsed_ms(nacked_at), 1900);
  EXPECT_EQ(again[0].value, R"("later")");
}

TEST_F(TopicsConsumeTest, LongPollAnswersWhenAMessageArrivesOrAtItsDeadline) {
  start_topics();
  create("jobs", 2);
  const std::string consumer = join("workers", R"(["jobs"])");
  auto started = Clock::now();
  EXPECT_TRUE(poll("workers", consumer, "wait=700ms").empty());
  EXPECT_GE(elapsed_ms(started), 700);
  EXPECT_LT(elapsed_ms(started), 2000);

  std::thread publisher([&] {
    std::this_thread::sleep_for(milliseconds(300));
    publish("jobs", R"({"value":"now"})");
  });
  started = Clock::now();
  const std::vector<Polled> got = poll("workers", consumer, "wait=20s");
  publisher.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_LT(elapsed_ms(started), 3000) << "answered at the publish, not the deadline";
}

TEST_F(TopicsConsumeTest, ExpiredSessionsAndLeaveGiveMessagesBack) {
  start_topics({{"session_timeout", "1s"}, {"visibility_timeout", "30s"}});
  create("jobs", 1);
  publish("jobs", R"({"value":"a"})");
  publish("jobs", R"({"value":"b"})");
  const std::string gone = join("workers", R"(["jobs"])");
  ASSERT_EQ(poll("workers", gone, "max=1").size(), 1u);
  const std::string leaving = join("workers", R"(["jobs"])");
  ASSERT_EQ(poll("workers", leaving, "max=1").size(), 1u);
  EXPECT_EQ(post("/v1/groups/workers/leave", R"({"consumer_id":")" + leaving + R"("})").status,
            204);
  const std::string next = join("workers", R"(["jobs"])");
  // What `leaving` had comes at once, not after the 30 s visibility timeout.
  std::vector<Polled> got = poll("workers", next);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].deliveries, 2);
  // `gone` sends no heartbeat: after its session it is out, and what it had
  // comes to the others.
  for (int i = 0; i < 2; ++i) {  // `next` keeps its session, `gone` does not
    std::this_thread::sleep_for(milliseconds(600));
    ASSERT_EQ(post("/v1/groups/workers/heartbeat", R"({"consumer_id":")" + next + R"("})").status,
              204);
  }
  got = poll("workers", next);
  ASSERT_EQ(got.size(), 1u);
  long status = 0;
  poll("workers", gone, "", &status);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(post("/v1/groups/workers/heartbeat", R"({"consumer_id":")" + gone + R"("})").status,
            404);
}

TEST_F(TopicsConsumeTest, CommitAcknowledgesUpToAnId) {
  start_topics();
  create("jobs", 1);
  for (int i = 0; i < 5; ++i) publish("jobs", R"({"value":)" + std::to_string(i) + "}");
  const std::string consumer = join("workers", R"(["jobs"])");
  const std::vector<Polled> got = poll("workers", consumer, "max=5");
  ASSERT_EQ(got.size(), 5u);
  const HttpResponse committed =
      post("/v1/groups/workers/commit", R"({"consumer_id":")" + consumer +
                                            R"(","topic":"jobs","partition":0,"id":")" + got[2].id +
                                            R"("})");
  EXPECT_EQ(committed.status, 200);
  EXPECT_EQ(committed.body, R"({"acked":3})");
  EXPECT_NE(get("/v1/topics/jobs").body.find(R"("pending":2)"), std::string::npos);
}

TEST_F(TopicsConsumeTest, DelayedPublishIsDeliveredWhenDueAlsoAfterARestart) {
  start_topics();
  create("jobs", 1);
  const HttpResponse delayed =
      post("/v1/topics/jobs/publish", R"({"value":"due","delay":"1500ms"})");
  ASSERT_EQ(delayed.status, 201);
  EXPECT_EQ(delayed.body, R"({"partition":0,"id":null})");
  const auto published_at = Clock::now();
  start_topics();  // the old one killed -9: the delayed message is in Redis
  const std::string consumer = join("workers", R"(["jobs"])");
  EXPECT_TRUE(poll("workers", consumer).empty());
  const std::vector<Polled> got = poll("workers", consumer, "wait=10s");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, R"("due")");
  EXPECT_GE(elapsed_ms(published_at), 1400);
}

TEST_F(TopicsConsumeTest, UnknownConsumersGroupsAndTopicsAreClearErrors) {
  start_topics();
  create("jobs", 1);
  long status = 0;
  poll("workers", "c-00000000000000000000000000000000", "", &status);
  EXPECT_EQ(status, 404);
  const HttpResponse missing = post("/v1/groups/workers/join", R"({"topics":["jobs","nope"]})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("nope"), std::string::npos);
  EXPECT_EQ(post("/v1/groups/bad%20group/join", R"({"topics":["jobs"]})").status, 400);
  EXPECT_EQ(post("/v1/groups/workers/ack", R"({"consumer_id":"x","messages":[]})").status, 400);
  poll("workers", "c-1", "max=0", &status);
  EXPECT_EQ(status, 400);
}

}  // namespace
}  // namespace gpsrelay::testing
