// The topics suites' fixture (see topics_fixture.h).
#include "support/topics_fixture.h"

#include <gtest/gtest.h>

namespace gpsrelay::testing {
namespace {

std::string compact(const json_t* value) {
  char* text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
  std::string out = text != nullptr ? text : "";
  free(text);  // NOLINT(cppcoreguidelines-no-malloc): jansson's allocation
  return out;
}

}  // namespace

DaemonProcess& TopicsTest::start_topics(std::map<std::string, std::string> settings) {
  DaemonConfig config;
  config.set("topics", "enabled", "true");
  for (const auto& [key, value] : settings) config.set("topics", key, value);
  return start_daemon(config);
}

HttpResponse TopicsTest::post(const std::string& path, const std::string& body) {
  return http_request("POST", daemon().url(path), body, kJsonContentType);
}

HttpResponse TopicsTest::get(const std::string& path) { return http_get(daemon().url(path)); }

HttpResponse TopicsTest::remove(const std::string& path) {
  return http_request("DELETE", daemon().url(path));
}

void TopicsTest::create(const std::string& name, int partitions) {
  const HttpResponse created = post("/v1/topics", R"({"name":")" + name + R"(","partitions":)" +
                                                      std::to_string(partitions) + "}");
  ASSERT_EQ(created.status, 201) << created.body;
}

std::pair<long long, std::string> TopicsTest::placed(const HttpResponse& response) {
  const JsonPtr json = parse_json(response.body);
  EXPECT_TRUE(json) << response.body;
  if (!json) return {-1, ""};
  return {json_integer_value(json_object_get(json.get(), "partition")),
          json_string(json.get(), "id").value_or("")};
}

std::string TopicsTest::join(const std::string& group, const std::string& topics_json) {
  const HttpResponse joined =
      post("/v1/groups/" + group + "/join", R"({"topics":)" + topics_json + "}");
  EXPECT_EQ(joined.status, 200) << joined.body;
  const JsonPtr json = parse_json(joined.body);
  return json ? json_string(json.get(), "consumer_id").value_or("") : "";
}

std::vector<Polled> TopicsTest::poll(const std::string& group, const std::string& consumer,
                                     const std::string& query, long* status) {
  const HttpResponse answer =
      http_get(daemon().url("/v1/groups/" + group + "/poll?consumer_id=" + consumer +
                            (query.empty() ? "" : "&" + query)),
               std::chrono::seconds(40));
  if (status != nullptr) *status = answer.status;
  std::vector<Polled> messages;
  if (answer.status != 200) return messages;
  const JsonPtr json = parse_json(answer.body);
  EXPECT_TRUE(json) << answer.body;
  const json_t* list = json ? json_object_get(json.get(), "messages") : nullptr;
  for (std::size_t i = 0; i < json_array_size(list); ++i) {
    const json_t* m = json_array_get(list, i);
    Polled polled;
    polled.topic = json_string(m, "topic").value_or("");
    polled.partition = json_integer_value(json_object_get(m, "partition"));
    polled.id = json_string(m, "id").value_or("");
    polled.key = json_string(m, "key").value_or("");
    const json_t* value = json_object_get(m, "value");
    polled.value = value != nullptr ? compact(value) : json_string(m, "value_b64").value_or("");
    polled.deliveries = json_integer_value(json_object_get(m, "deliveries"));
    const char* name = nullptr;
    const json_t* header = nullptr;
    json_object_foreach(json_object_get(m, "headers"), name, header) {
      polled.headers[name] = json_string_value(header) != nullptr ? json_string_value(header) : "";
    }
    messages.push_back(std::move(polled));
  }
  return messages;
}

std::string TopicsTest::references(const std::vector<Polled>& messages) {
  std::string out = "[";
  for (const Polled& m : messages) {
    if (out.size() > 1) out += ',';
    out += R"({"topic":")" + m.topic + R"(","partition":)" + std::to_string(m.partition) +
           R"(,"id":")" + m.id + R"("})";
  }
  return out + "]";
}

std::string TopicsTest::stream_of(const std::string& topic, long long partition) {
  return std::string(kTopicPrefix) + topic + ":" + std::to_string(partition);
}

}  // namespace gpsrelay::testing
