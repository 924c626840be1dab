// GpsrelayTest and the shared response assertions.
#include "support/gpsrelay_fixture.h"

#include <algorithm>
#include <cctype>

#include "support/json.h"

namespace gpsrelay::testing {

void GpsrelayTest::SetUp() { redis_ = std::make_unique<RedisServer>(); }

DaemonProcess& GpsrelayTest::start_daemon(DaemonConfig overrides,
                                          std::map<std::string, std::string> env) {
  DaemonOptions options;
  options.config = std::move(overrides);
  options.env = std::move(env);
  return start_daemon(std::move(options));
}

DaemonProcess& GpsrelayTest::start_daemon(DaemonOptions options) {
  daemon_.reset();
  daemon_ = std::make_unique<DaemonProcess>(redis_->address(), std::move(options));
  return *daemon_;
}

DaemonProcess& GpsrelayTest::daemon() {
  if (!daemon_) throw std::logic_error("GpsrelayTest::daemon() before start_daemon()");
  return *daemon_;
}

RedisClient& GpsrelayTest::redis_client() {
  if (!redis_client_) redis_client_.emplace(redis_->client());
  return *redis_client_;
}

HttpResponse GpsrelayTest::post_report(std::string body, HeaderList headers) {
  return http_request("POST", daemon().ingest_url(), std::move(body), std::move(headers));
}

long long GpsrelayTest::stream_length(std::string_view stream) {
  return redis_client().xlen(stream);
}

std::vector<StreamEntry> GpsrelayTest::stream_entries(std::string_view stream) {
  return redis_client().xrange(stream);
}

std::optional<StreamEntry> GpsrelayTest::find_entry(std::string_view id, std::string_view stream) {
  for (auto& entry : stream_entries(stream)) {
    if (entry.id == id) return std::move(entry);
  }
  return std::nullopt;
}

MetricsPage GpsrelayTest::scrape_metrics() {
  const HttpResponse response = http_get(daemon().url("/metrics"));
  EXPECT_EQ(response.status, 200) << response;
  return parse_metrics(response.body);
}

std::size_t count_occurrences(std::string_view text, std::string_view needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

bool is_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](unsigned char c) { return std::isdigit(c) != 0; });
}

std::string message_id_of(const HttpResponse& response) {
  const JsonPtr body = parse_json(response.body);
  return json_string(body.get(), "message_id").value_or("");
}

::testing::AssertionResult is_accepted(const HttpResponse& response) {
  if (response.status != 200) {
    return ::testing::AssertionFailure() << "expected 200, got " << response;
  }
  const JsonPtr body = parse_json(response.body);
  if (!body || !json_is_object(body.get())) {
    return ::testing::AssertionFailure() << "body is not a JSON object: " << response;
  }
  if (json_string(body.get(), "status") != "ok") {
    return ::testing::AssertionFailure() << "\"status\" is not \"ok\": " << response;
  }
  const std::string id = json_string(body.get(), "message_id").value_or("");
  const auto dash = id.find('-');
  if (dash == std::string::npos || !is_digits(id.substr(0, dash)) ||
      !is_digits(id.substr(dash + 1))) {
    return ::testing::AssertionFailure() << "\"message_id\" is not a stream id: " << response;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult is_json_error(const HttpResponse& response, long status) {
  if (response.status != status) {
    return ::testing::AssertionFailure() << "expected " << status << ", got " << response;
  }
  const std::string request_id = response.header("X-Request-ID");
  if (request_id.empty()) {
    return ::testing::AssertionFailure() << "no X-Request-ID: " << response;
  }
  const JsonPtr body = parse_json(response.body);
  if (!body || !json_is_object(body.get())) {
    return ::testing::AssertionFailure() << "body is not a JSON object: " << response;
  }
  if (json_string(body.get(), "error").value_or("").empty()) {
    return ::testing::AssertionFailure() << "no non-empty \"error\" string: " << response;
  }
  if (json_string(body.get(), "request_id") != request_id) {
    return ::testing::AssertionFailure()
           << "\"request_id\" differs from X-Request-ID: " << response;
  }
  return ::testing::AssertionSuccess();
}

namespace {

std::optional<std::string> state_of(const json_t* member) {
  if (json_is_string(member)) return std::string(json_string_value(member));
  if (json_is_object(member)) {
    if (auto state = json_string(member, "state")) return state;
    return json_string(member, "status");
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> health_state(std::string_view health_body, std::string_view dependency) {
  const JsonPtr body = parse_json(health_body);
  if (!body || !json_is_object(body.get())) return std::nullopt;
  const std::string key(dependency);
  if (const json_t* member = json_object_get(body.get(), key.c_str())) return state_of(member);
  const char* name;
  json_t* nested;
  json_object_foreach(body.get(), name, nested) {
    if (!json_is_object(nested)) continue;
    if (const json_t* member = json_object_get(nested, key.c_str())) return state_of(member);
  }
  return std::nullopt;
}

bool is_delay_seconds(std::string_view value) {
  return is_digits(value) && value.size() <= 9 && std::stol(std::string(value)) > 0;
}

}  // namespace gpsrelay::testing
