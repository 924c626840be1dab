// GpsrelayTest: the fixture most integration tests derive from. Each test
// gets its own redis-server; start_daemon() starts gpsrelayd against it with
// the test defaults plus the keys the test varies. Also the assertions every
// suite needs on ingest responses. Nothing here is specific to one suite.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/daemon_process.h"
#include "support/http_client.h"
#include "support/prometheus.h"
#include "support/redis_server.h"

namespace gpsrelay::testing {

inline constexpr std::string_view kDefaultStream = "gps:reports";
inline constexpr std::string_view kIngestPath = "/api/gps/reports";

class GpsrelayTest : public ::testing::Test {
 protected:
  // Starts Redis (not the daemon: tests choose its config).
  void SetUp() override;

  // Starts gpsrelayd against redis() and waits for READY=1. Replaces a
  // daemon this test started earlier (which is killed first).
  DaemonProcess& start_daemon(DaemonConfig overrides = {},
                              std::map<std::string, std::string> env = {});
  DaemonProcess& start_daemon(DaemonOptions options);

  // REQUIRES: start_daemon() was called.
  DaemonProcess& daemon();
  RedisServer& redis() { return *redis_; }
  // One client per test, reconnecting after a Redis restart.
  RedisClient& redis_client();

  // POSTs `body` to the ingest path.
  HttpResponse post_report(std::string body, HeaderList headers = kJsonContentType);

  long long stream_length(std::string_view stream = kDefaultStream);
  std::vector<StreamEntry> stream_entries(std::string_view stream = kDefaultStream);
  std::optional<StreamEntry> find_entry(std::string_view id,
                                        std::string_view stream = kDefaultStream);

  // GET /metrics, parsed; fails the test when it is not a 200.
  MetricsPage scrape_metrics();

 private:
  std::unique_ptr<RedisServer> redis_;
  std::optional<RedisClient> redis_client_;
  std::unique_ptr<DaemonProcess> daemon_;  // last: stopped before Redis
};

// Passes when `response` is a 200 whose JSON body is
// {"status":"ok","message_id":"<ms>-<seq>"}.
::testing::AssertionResult is_accepted(const HttpResponse& response);

// Passes when `response` has `status`, an X-Request-ID, and a JSON object
// body with a non-empty "error" and a "request_id" equal to that header.
::testing::AssertionResult is_json_error(const HttpResponse& response, long status);

// The "message_id" of a response body, or "" when there is none.
std::string message_id_of(const HttpResponse& response);

// The state /health reports for `dependency` (e.g. "redis"): the member's
// value when it is a string, or its "state" (else "status") member when it is
// an object; found at the top level or one object deeper (a "dependencies"
// or "checks" object). nullopt when the body is not JSON or has no such
// member. The contract fixes the member name, not the nesting.
std::optional<std::string> health_state(std::string_view health_body, std::string_view dependency);

// How many times `needle` occurs in `text` (e.g. a message in a daemon's log).
std::size_t count_occurrences(std::string_view text, std::string_view needle);

// True when `text` is one or more ASCII digits.
bool is_digits(std::string_view text);

// True when `value` is a positive decimal integer of delay-seconds, the form
// a Retry-After sent by gpsrelayd takes.
bool is_delay_seconds(std::string_view value);

}  // namespace gpsrelay::testing
