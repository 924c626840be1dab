// The entity-event API end to end against a real gpsrelayd, redis-server
// and mariadbd (CONTRACT.md, "Entity events"): events create and merge
// entities exactly as RFC 7396 says (its own examples, run through the
// API), bulk answers per event, a replayed uuid is applied once,
// validation errors name the field, MySQL outages answer 503 quickly and
// recover without a restart, and concurrent events on one entity lose no
// update.
#include <gtest/gtest.h>
#include <jansson.h>

#include <chrono>
#include <csignal>
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

// An event with one or more entity updates; `updates` are
// "<type>", "<id>", "<attributes JSON>" triples.
struct Update {
  std::string type;
  std::string id;
  std::string attributes;
};

std::string event_json(const std::string& uuid, const std::vector<Update>& updates,
                       const std::string& created = "\"2026-11-30T08:00:00Z\"") {
  std::string body = "{\"eventHeader\":{\"uuid\":\"" + uuid +
                     "\",\"eventName\":\"vehicle.updated\",\"eventType\":\"update\","
                     "\"createdDate\":" +
                     created + "},\"eventBody\":{\"entities\":[";
  for (std::size_t i = 0; i < updates.size(); ++i) {
    if (i > 0) body += ',';
    body += "{\"entityType\":\"" + updates[i].type + "\",\"entityId\":\"" + updates[i].id +
            "\",\"updatedAttributes\":" + updates[i].attributes + "}";
  }
  return body + "]}}";
}

class EventsTest : public ForwardingTest {
 protected:
  DaemonConfig events_config() const {
    DaemonConfig config = forwarding_to({});
    config.erase("forward", "targets");
    config.set("events", "enabled", "true");
    return config;
  }
  void start_events() { start_daemon(events_config()); }

  HttpResponse post_event(const std::string& body) {
    return http_request("POST", daemon().url("/api/v1/events"), body, kJsonContentType);
  }
  HttpResponse post_bulk(const std::string& body) {
    return http_request("POST", daemon().url("/api/v1/events/bulk"), body, kJsonContentType);
  }
  HttpResponse get(const std::string& path) { return http_get(daemon().url(path)); }

  // The stored entity's JSON; nullptr when the GET is not a 200.
  JsonPtr entity(const std::string& type, const std::string& id) {
    const HttpResponse response = get("/api/v1/entities/" + type + "/" + id);
    if (response.status != 200) return nullptr;
    return parse_json(response.body);
  }
  // Its "attributes" member, a borrowed reference kept alive by `holder`.
  const json_t* attributes(JsonPtr& holder, const std::string& type, const std::string& id) {
    holder = entity(type, id);
    return holder ? json_object_get(holder.get(), "attributes") : nullptr;
  }

  // Posts one event and expects it applied.
  void apply(const std::string& uuid, const std::vector<Update>& updates) {
    const HttpResponse response = post_event(event_json(uuid, updates));
    ASSERT_EQ(response.status, 200) << response;
    const JsonPtr body = parse_json(response.body);
    ASSERT_EQ(json_string(body.get(), "status").value_or(""), "applied") << response;
  }
};

TEST_F(EventsTest, AnEventCreatesItsEntityAndTheEntityIsReadBack) {
  start_events();
  const HttpResponse response = post_event(
      event_json("e-1", {{"vehicle", "truck-7", R"({"mileage":1200,"driver":{"name":"Ana"}})"}}));
  ASSERT_EQ(response.status, 200) << response;
  const JsonPtr answer = parse_json(response.body);
  EXPECT_EQ(json_string(answer.get(), "uuid").value_or(""), "e-1");
  EXPECT_EQ(json_string(answer.get(), "status").value_or(""), "applied");
  EXPECT_EQ(json_integer_value(json_object_get(answer.get(), "entities")), 1);

  const JsonPtr stored = entity("vehicle", "truck-7");
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(json_string(stored.get(), "entityType").value_or(""), "vehicle");
  EXPECT_EQ(json_string(stored.get(), "entityId").value_or(""), "truck-7");
  EXPECT_TRUE(same_json(json_object_get(stored.get(), "attributes"),
                        R"({"mileage":1200,"driver":{"name":"Ana"}})"));
  const std::string created = json_string(stored.get(), "createdAt").value_or("");
  EXPECT_EQ(created.size(), 24U) << created;  // 2026-11-30T08:00:00.000Z
  EXPECT_EQ(created.back(), 'Z');
  EXPECT_EQ(json_string(stored.get(), "updatedAt").value_or(""), created);

  EXPECT_EQ(get("/api/v1/entities/vehicle/unknown").status, 404);
  EXPECT_EQ(get("/api/v1/entities/bad%20type/x").status, 400);
}

TEST_F(EventsTest, UpdatesMergeNestedObjectsDeleteNullsAndReplaceArrays) {
  start_events();
  apply(
      "m-1",
      {{"vehicle", "v1",
        R"({"a":1,"tags":["x","y"],"service":{"last":"2026-01-01","next":"2026-07-01"},"gone":true})"}});
  apply("m-2",
        {{"vehicle", "v1",
          R"({"b":2,"tags":["z"],"service":{"next":"2027-01-01","by":"shop"},"gone":null})"}});
  JsonPtr holder;
  EXPECT_TRUE(same_json(
      attributes(holder, "vehicle", "v1"),
      R"({"a":1,"tags":["z"],"service":{"last":"2026-01-01","next":"2027-01-01","by":"shop"},"b":2})"));
  const JsonPtr stored = entity("vehicle", "v1");
  EXPECT_LE(json_string(stored.get(), "createdAt").value_or(""),
            json_string(stored.get(), "updatedAt").value_or(""));
  // A new entity starts from {}: nulls in its first update are dropped.
  apply("m-3", {{"vehicle", "v2", R"({"x":null,"y":{"z":null}})"}});
  EXPECT_TRUE(same_json(attributes(holder, "vehicle", "v2"), R"({"y":{}})"));
  // Reals come back as they were sent, not in jansson's 17 digits.
  apply("m-4", {{"vehicle", "v2", R"({"fuel":0.3})"}});
  const HttpResponse read = get("/api/v1/entities/vehicle/v2");
  EXPECT_NE(read.body.find(R"("fuel":0.3})"), std::string::npos) << read;
}

// RFC 7396, Appendix A, run through the API: each example's target is
// stored as {"doc": target} (written into the table directly, since a
// target may hold nulls an event could not create), the patch is sent as
// {"doc": patch}, and {"doc": result} must come back — merge patch
// recurses into "doc" exactly as it works on the whole document, and a
// null result is "doc" removed.
TEST_F(EventsTest, TheRfc7396ExamplesHoldThroughTheApi) {
  struct Example {
    const char* target;
    const char* patch;
    const char* result;  // nullptr: null (doc removed)
  };
  const std::vector<Example> examples = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", "null", nullptr},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  start_events();
  // The writer creates the tables when it connects.
  ASSERT_TRUE(eventually([&] { return get("/api/v1/events/health").status == 200; }, seconds(10)));
  MysqlClient sql = mysql();
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const std::string id = "case-" + std::to_string(i);
    sql.query("INSERT INTO entities VALUES ('rfc', '" + id + "', '{\"doc\":" + examples[i].target +
              "}', NOW(3), NOW(3))");
    apply("rfc-" + std::to_string(i),
          {{"rfc", id, std::string("{\"doc\":") + examples[i].patch + "}"}});
    JsonPtr holder;
    const json_t* attrs = attributes(holder, "rfc", id);
    ASSERT_NE(attrs, nullptr) << "example " << i;
    if (examples[i].result == nullptr) {
      EXPECT_EQ(json_object_get(attrs, "doc"), nullptr) << "example " << i;
    } else {
      EXPECT_TRUE(same_json(json_object_get(attrs, "doc"), examples[i].result)) << "example " << i;
    }
  }
}

TEST_F(EventsTest, OneEventUpdatesSeveralEntitiesInOrder) {
  start_events();
  apply("s-1", {{"vehicle", "a", R"({"n":1})"},
                {"driver", "d", R"({"vehicle":"a"})"},
                {"vehicle", "a", R"({"n":2,"m":1})"}});
  JsonPtr holder;
  EXPECT_TRUE(same_json(attributes(holder, "vehicle", "a"), R"({"n":2,"m":1})"));
  EXPECT_TRUE(same_json(attributes(holder, "driver", "d"), R"({"vehicle":"a"})"));
}

TEST_F(EventsTest, AReplayedUuidIsAppliedOnce) {
  start_events();
  apply("dup-1", {{"vehicle", "v", R"({"count":1})"}});
  const HttpResponse again = post_event(event_json("dup-1", {{"vehicle", "v", R"({"count":99})"}}));
  ASSERT_EQ(again.status, 200) << again;
  const JsonPtr body = parse_json(again.body);
  EXPECT_EQ(json_string(body.get(), "status").value_or(""), "duplicate");
  JsonPtr holder;
  EXPECT_TRUE(same_json(attributes(holder, "vehicle", "v"), R"({"count":1})"));
  EXPECT_EQ(mysql().scalar("SELECT COUNT(*) FROM applied_events WHERE uuid = 'dup-1'"), "1");
}

TEST_F(EventsTest, BothDateFormatsAreAcceptedAndStored) {
  start_events();
  ASSERT_EQ(post_event(event_json("d-iso", {{"t", "1", "{}"}}, "\"2024-05-01T12:00:00.250+02:00\""))
                .status,
            200);
  ASSERT_EQ(post_event(event_json("d-ms", {{"t", "2", "{}"}}, "1714564800250")).status, 200);
  MysqlClient sql = mysql();
  EXPECT_EQ(sql.scalar("SELECT created_date FROM applied_events WHERE uuid = 'd-iso'"),
            "2024-05-01 10:00:00.250");
  EXPECT_EQ(sql.scalar("SELECT created_date FROM applied_events WHERE uuid = 'd-ms'"),
            "2024-05-01 12:00:00.250");
}

TEST_F(EventsTest, ValidationErrorsNameTheField) {
  start_events();
  const auto field_of = [](const HttpResponse& response) {
    const JsonPtr body = parse_json(response.body);
    return json_string(body.get(), "field").value_or("<none>");
  };
  HttpResponse response =
      post_event(event_json("v-1", {{"t", "1", "{}"}, {"t", "2", "{}"}, {"t", "", "{}"}}));
  EXPECT_TRUE(is_json_error(response, 400)) << response;
  EXPECT_EQ(field_of(response), "eventBody.entities[2].entityId") << response;
  EXPECT_NE(response.body.find("eventBody.entities[2].entityId"), std::string::npos);

  response = post_event(event_json("v-2", {{"t", "1", "[1]"}}));
  EXPECT_EQ(response.status, 400) << response;
  EXPECT_EQ(field_of(response), "eventBody.entities[0].updatedAttributes") << response;

  response = post_event(event_json("v-3", {{"t", "1", "{}"}}, "\"yesterday\""));
  EXPECT_EQ(response.status, 400) << response;
  EXPECT_EQ(field_of(response), "eventHeader.createdDate") << response;

  response = post_event("{\"eventHeader\":");
  EXPECT_EQ(response.status, 400) << response;
  response = post_event(R"({"eventBody":{"entities":[]}})");
  EXPECT_EQ(response.status, 400) << response;
  EXPECT_EQ(field_of(response), "eventHeader") << response;
  // Nothing of these reached MySQL.
  EXPECT_EQ(get("/api/v1/entities/t/1").status, 404);
}

TEST_F(EventsTest, BulkAnswersEveryEventInOrder) {
  start_events();
  apply("b-0", {{"t", "x", R"({"v":0})"}});
  const std::string body = "[" + event_json("b-1", {{"t", "x", R"({"v":1})"}}) + "," +
                           event_json("b-2", {{"t", "", "{}"}}) + "," +
                           event_json("b-0", {{"t", "x", R"({"v":"replayed"})"}}) + "," +
                           event_json("b-3", {{"t", "y", R"({"w":3})"}}) + "]";
  const HttpResponse response = post_bulk(body);
  ASSERT_EQ(response.status, 200) << response;
  const JsonPtr answer = parse_json(response.body);
  const json_t* results = json_object_get(answer.get(), "results");
  ASSERT_EQ(json_array_size(results), 4U) << response;
  const char* expected[] = {"applied", "invalid", "duplicate", "applied"};
  for (std::size_t i = 0; i < 4; ++i) {
    const json_t* result = json_array_get(results, i);
    EXPECT_EQ(json_integer_value(json_object_get(result, "index")), static_cast<json_int_t>(i));
    EXPECT_EQ(json_string(result, "status").value_or(""), expected[i]) << response;
  }
  EXPECT_EQ(json_string(json_array_get(results, 1), "field").value_or(""),
            "eventBody.entities[0].entityId");
  JsonPtr holder;
  EXPECT_TRUE(same_json(attributes(holder, "t", "x"), R"({"v":1})"));
  EXPECT_TRUE(same_json(attributes(holder, "t", "y"), R"({"w":3})"));

  EXPECT_EQ(post_bulk("{}").status, 400);
  EXPECT_EQ(post_bulk("[]").status, 400);
}

TEST_F(EventsTest, ConcurrentEventsOnOneEntityLoseNoUpdate) {
  start_events();
  std::vector<std::string> bodies;
  for (int i = 0; i < 1000; ++i) {
    bodies.push_back(event_json(
        "c-" + std::to_string(i),
        {{"vehicle", "shared", "{\"k" + std::to_string(i) + "\":" + std::to_string(i) + "}"}}));
  }
  const std::vector<HttpResponse> responses =
      http_post_concurrently(daemon().url("/api/v1/events"), bodies, 64);
  for (const HttpResponse& response : responses) ASSERT_EQ(response.status, 200) << response;
  JsonPtr holder;
  const json_t* attrs = attributes(holder, "vehicle", "shared");
  ASSERT_NE(attrs, nullptr);
  EXPECT_EQ(json_object_size(attrs), 1000U);
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "k" + std::to_string(i);
    EXPECT_EQ(json_integer_value(json_object_get(attrs, key.c_str())), i) << key;
  }
  // Grouped: far fewer transactions than events.
  const MetricsPage metrics = scrape_metrics();
  EXPECT_LT(metrics.sum("gpsrelay_events_transactions_total").value_or(1000), 1000);
  EXPECT_EQ(metrics.sum("gpsrelay_events_total", {{"result", "applied"}}).value_or(0), 1000);
}

// Two gpsrelayd instances on one database (four writer threads) create and
// update the same new entities at once: a writer that loses the race to
// create a row, or to apply a uuid, rolls back and merges onto the winner's
// row on its retry. Every attribute arrives; every uuid is applied once.
TEST_F(EventsTest, TwoInstancesOnOneDatabaseLoseNoUpdate) {
  start_events();
  DaemonOptions second_options;
  second_options.config = events_config();
  DaemonProcess second(redis().address(), second_options);
  constexpr int kEntities = 5;
  constexpr int kEvents = 600;
  std::vector<HttpRequest> requests;
  for (int i = 0; i < kEvents; ++i) {
    // Each uuid goes to both instances: one applies it, the other answers
    // duplicate (or applies it first).
    const std::string body =
        event_json("two-" + std::to_string(i),
                   {{"vehicle", "race-" + std::to_string(i % kEntities),
                     "{\"k" + std::to_string(i) + "\":" + std::to_string(i) + "}"}});
    requests.push_back(make_post(daemon().url("/api/v1/events"), body));
    requests.push_back(make_post(second.url("/api/v1/events"), body));
  }
  const std::vector<HttpResponse> responses = http_concurrently(requests, 64);
  int applied = 0;
  for (const HttpResponse& response : responses) {
    ASSERT_EQ(response.status, 200) << response;
    const JsonPtr body = parse_json(response.body);
    if (json_string(body.get(), "status").value_or("") == "applied") ++applied;
  }
  EXPECT_EQ(applied, kEvents);
  for (int e = 0; e < kEntities; ++e) {
    JsonPtr holder;
    const json_t* attrs = attributes(holder, "vehicle", "race-" + std::to_string(e));
    ASSERT_NE(attrs, nullptr);
    EXPECT_EQ(json_object_size(attrs), static_cast<std::size_t>(kEvents / kEntities));
  }
  EXPECT_EQ(mysql().scalar("SELECT COUNT(*) FROM applied_events WHERE uuid LIKE 'two-%'"),
            std::to_string(kEvents));
}

// An event is answered only after its COMMIT: killing gpsrelayd with -9
// under load loses none that was answered "applied" (those cut off
// unanswered may or may not have been applied; their retry is harmless).
TEST_F(EventsTest, KillNineUnderLoadLosesNoAnsweredEvent) {
  start_events();
  LoadGenerator load(daemon().url("/api/v1/events"), 8, kJsonContentType, [](size_t seq) {
    return event_json("k-" + std::to_string(seq),
                      {{"vehicle", "k-" + std::to_string(seq % 50),
                        "{\"s" + std::to_string(seq) + "\":" + std::to_string(seq) + "}"}});
  });
  ASSERT_TRUE(eventually([&] { return load.ok_count() >= 1000; }, seconds(30)));
  daemon().send_signal(SIGKILL);
  load.stop();
  ASSERT_TRUE(daemon().wait_for_exit(seconds(5)).has_value());

  MysqlClient sql = mysql();
  std::size_t answered = 0;
  for (const HttpResponse& response : load.results()) {
    if (response.status != 200) continue;
    const JsonPtr body = parse_json(response.body);
    const std::string uuid = json_string(body.get(), "uuid").value_or("");
    ASSERT_EQ(json_string(body.get(), "status").value_or(""), "applied") << response;
    ++answered;
    const std::string seq = uuid.substr(2);
    EXPECT_EQ(sql.scalar("SELECT COUNT(*) FROM applied_events WHERE uuid = '" + uuid + "'"), "1")
        << uuid;
    EXPECT_EQ(sql.scalar("SELECT JSON_VALUE(attributes, '$.s" + seq +
                         "') FROM entities WHERE entity_type = 'vehicle' AND entity_id = 'k-" +
                         std::to_string(std::stoul(seq) % 50) + "'"),
              seq)
        << uuid;
  }
  EXPECT_GE(answered, 1000U);
}

TEST_F(EventsTest, MysqlDownAnswers503QuicklyAndRecoversWithoutRestart) {
  start_events();
  apply("o-1", {{"t", "o", R"({"a":1})"}});
  ASSERT_EQ(get("/api/v1/events/health").status, 200);
  mariadb().stop();

  const HttpResponse health = get("/api/v1/events/health");
  EXPECT_EQ(health.status, 503) << health;
  for (int i = 0; i < 3; ++i) {
    const HttpResponse refused = post_event(event_json("o-2", {{"t", "o", R"({"b":2})"}}));
    EXPECT_TRUE(is_json_error(refused, 503)) << refused;
    EXPECT_TRUE(is_delay_seconds(refused.header("Retry-After"))) << refused;
    EXPECT_LT(refused.elapsed, milliseconds(3000)) << refused;
  }
  EXPECT_EQ(get("/api/v1/entities/t/o").status, 503);

  mariadb().start();
  ASSERT_TRUE(eventually(
      [&] {
        return post_event(event_json("o-2", {{"t", "o", R"({"b":2})"}})).status == 200;
      },
      seconds(20)));
  JsonPtr holder;
  EXPECT_TRUE(same_json(attributes(holder, "t", "o"), R"({"a":1,"b":2})"));
  EXPECT_EQ(get("/api/v1/events/health").status, 200);
}

}  // namespace
}  // namespace gpsrelay::testing
