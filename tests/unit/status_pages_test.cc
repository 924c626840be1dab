// Tests for the /health and /ready bodies and status codes.
#include "http/status_pages.h"

#include <gtest/gtest.h>
#include <jansson.h>

#include "core/c_handle.h"

namespace gpsrelay::http {
namespace {

using JsonPtr = core::CHandle<json_t, json_decref>;

JsonPtr parse(const std::string& text) {
  json_error_t error;
  JsonPtr value(json_loads(text.c_str(), 0, &error));
  EXPECT_TRUE(value) << error.text << " in " << text;
  return value;
}

std::string string_at(const JsonPtr& root, const char* object, const char* key) {
  json_t* parent = object ? json_object_get(root.get(), object) : root.get();
  const char* value = json_string_value(json_object_get(parent, key));
  return value ? value : "<missing>";
}

HealthSnapshot snapshot(bool redis_up, std::string address, long long queue_length, bool serving) {
  HealthSnapshot s;
  s.redis_up = redis_up;
  s.redis_address = std::move(address);
  s.queue_length = queue_length;
  s.serving = serving;
  return s;
}

TEST(StatusPagesTest, HealthIsOkWhenRedisIsUp) {
  const StatusPage page = render_health(snapshot(true, "127.0.0.1:6379", 12, true));
  EXPECT_EQ(page.status_code, 200);
  const JsonPtr root = parse(page.json);
  EXPECT_EQ(string_at(root, nullptr, "status"), "ok");
  EXPECT_EQ(string_at(root, "redis", "status"), "up");
  EXPECT_EQ(string_at(root, "redis", "address"), "127.0.0.1:6379");
  EXPECT_EQ(
      json_integer_value(json_object_get(json_object_get(root.get(), "redis"), "queue_length")),
      12);
  EXPECT_EQ(string_at(root, "mysql", "status"), "not_configured");
  EXPECT_TRUE(json_is_array(json_object_get(json_object_get(root.get(), "forwarding"), "targets")));
}

TEST(StatusPagesTest, HealthIs503AndNamesRedisWhenRedisIsDown) {
  const StatusPage page = render_health(snapshot(false, "127.0.0.1:6379", -1, true));
  EXPECT_EQ(page.status_code, 503);
  const JsonPtr root = parse(page.json);
  EXPECT_EQ(string_at(root, nullptr, "status"), "unavailable");
  EXPECT_EQ(string_at(root, "redis", "status"), "down");
}

TEST(StatusPagesTest, HealthIs503AndSaysWhyWhenRedisRefusesWrites) {
  HealthSnapshot s = snapshot(true, "127.0.0.1:6379", 7, true);
  s.redis_write_refusal = "oom";
  const StatusPage page = render_health(s);
  EXPECT_EQ(page.status_code, 503);
  const JsonPtr root = parse(page.json);
  EXPECT_EQ(string_at(root, nullptr, "status"), "unavailable");
  EXPECT_EQ(string_at(root, "redis", "status"), "refusing_writes");
  EXPECT_EQ(string_at(root, "redis", "write_error"), "oom");
}

TEST(StatusPagesTest, ReadyOnlyWhileServingWithRedis) {
  EXPECT_EQ(render_ready(snapshot(true, "", 0, true)).status_code, 200);
  EXPECT_EQ(string_at(parse(render_ready(snapshot(true, "", 0, true)).json), nullptr, "status"),
            "ready");
  EXPECT_EQ(render_ready(snapshot(true, "", 0, false)).status_code, 503);
  EXPECT_EQ(string_at(parse(render_ready(snapshot(true, "", 0, false)).json), nullptr, "status"),
            "not_serving");
  EXPECT_EQ(render_ready(snapshot(false, "", 0, true)).status_code, 503);
}

TEST(StatusPagesTest, AddressIsEscapedAsJson) {
  const StatusPage page = render_health(snapshot(true, "unix:/run/\"odd\".sock", 0, true));
  EXPECT_EQ(string_at(parse(page.json), "redis", "address"), "unix:/run/\"odd\".sock");
}

TEST(StatusPagesTest, HealthListsEachTargetWithItsState) {
  HealthSnapshot s = snapshot(true, "r", 0, true);
  s.forwarding_configured = true;
  s.mysql_up = true;
  s.targets = {{"http://a/x", "up", ""}, {"http://b/x", "breaker_open", ""}};
  const StatusPage page = render_health(s);
  EXPECT_EQ(page.status_code, 200);
  const JsonPtr root = parse(page.json);
  EXPECT_EQ(string_at(root, "forwarding", "status"), "ok");
  json_t* targets = json_object_get(json_object_get(root.get(), "forwarding"), "targets");
  ASSERT_EQ(json_array_size(targets), 2u);
  EXPECT_STREQ(json_string_value(json_object_get(json_array_get(targets, 1), "url")), "http://b/x");
  EXPECT_STREQ(json_string_value(json_object_get(json_array_get(targets, 1), "state")),
               "breaker_open");
}

TEST(StatusPagesTest, HealthShowsTheForwardingGroupAndEachModule) {
  HealthSnapshot s = snapshot(true, "r", 0, true);
  s.forwarding_configured = true;
  s.mysql_up = true;
  s.forward_group = "gpsrelay";
  s.forward_pending = 3;
  s.forward_lag = 7;
  s.modules = {{"locations", R"({"status":"unavailable","pending":5})", false}};
  const StatusPage page = render_health(s);
  // An unhealthy module makes the whole daemon unhealthy.
  EXPECT_EQ(page.status_code, 503);
  const JsonPtr root = parse(page.json);
  EXPECT_EQ(string_at(root, "forwarding", "group"), "gpsrelay");
  json_t* forwarding = json_object_get(root.get(), "forwarding");
  EXPECT_EQ(json_integer_value(json_object_get(forwarding, "pending")), 3);
  EXPECT_EQ(json_integer_value(json_object_get(forwarding, "lag")), 7);
  EXPECT_EQ(string_at(root, "locations", "status"), "unavailable");
  EXPECT_EQ(
      json_integer_value(json_object_get(json_object_get(root.get(), "locations"), "pending")), 5);
}

TEST(StatusPagesTest, HealthIsUnavailableAndNamesMysqlWhenTheFailureStoreIsDown) {
  HealthSnapshot s = snapshot(true, "r", 0, true);
  s.forwarding_configured = true;
  s.mysql_address = "db:3306";
  s.targets = {{"http://a/x", "up", ""}};
  StatusPage page = render_health(s);
  EXPECT_EQ(page.status_code, 503);
  JsonPtr root = parse(page.json);
  EXPECT_EQ(string_at(root, nullptr, "status"), "unavailable");
  EXPECT_EQ(string_at(root, "mysql", "status"), "down");
  EXPECT_EQ(string_at(root, "mysql", "address"), "db:3306");

  s.mysql_up = true;
  page = render_health(s);
  EXPECT_EQ(page.status_code, 200);
  EXPECT_EQ(string_at(parse(page.json), "mysql", "status"), "up");
}

TEST(StatusPagesTest, HealthShowsATargetsLastErrorOnlyWhenThereIsOne) {
  HealthSnapshot s = snapshot(true, "r", 0, true);
  s.forwarding_configured = true;
  s.mysql_up = true;
  s.targets = {{"https://a/x", "up", ""}, {"https://b/x", "up", "SSL certificate problem"}};
  const JsonPtr root = parse(render_health(s).json);
  json_t* targets = json_object_get(json_object_get(root.get(), "forwarding"), "targets");
  EXPECT_EQ(json_object_get(json_array_get(targets, 0), "last_error"), nullptr);
  EXPECT_STREQ(json_string_value(json_object_get(json_array_get(targets, 1), "last_error")),
               "SSL certificate problem");
}

TEST(StatusPagesTest, HealthSaysSoWhenNoTargetIsAvailable) {
  HealthSnapshot s = snapshot(true, "r", 0, true);
  s.forwarding_configured = true;
  s.targets = {{"http://a/x", "down", ""}, {"http://b/x", "breaker_open", ""}};
  EXPECT_EQ(string_at(parse(render_health(s).json), "forwarding", "status"), "no_target_available");
}

TEST(StatusPagesTest, HealthSaysForwardingIsNotConfiguredWithoutTargets) {
  EXPECT_EQ(
      string_at(parse(render_health(snapshot(true, "r", 0, true)).json), "forwarding", "status"),
      "not_configured");
}

}  // namespace
}  // namespace gpsrelay::http
