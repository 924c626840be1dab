// Live location updates over WebSocket against a real gpsrelayd and
// redis-server, with a real WebSocket client (support/ws_client.h, wslay
// framing): subscribers by driver and by order receive every posted
// location in order, the current one first; subscribe and unsubscribe
// messages; handshake errors (400, 401, 403, 426, 503); protocol limits
// (1009, 1003, pings); a client that never reads is dropped and memory
// stays bounded; Redis restarts; two daemons on one Redis; TLS; SIGTERM.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <string>

#include "support/eventually.h"
#include "support/http_client.h"
#include "support/live_fixture.h"
#include "support/ports.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"
#include "support/ws_client.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class WebSocketTest : public LiveTest {
 protected:
  static std::unique_ptr<WsClient> open(const DaemonProcess& daemon, const std::string& path) {
    WsOptions options;
    options.port = daemon.port();
    options.path = path;
    return WsClient::connect(options);
  }

  // The next message, or "" after 10 s.
  static std::string next(WsClient& client, milliseconds timeout = seconds(10)) {
    return client.next_text(timeout).value_or("");
  }

  static double websocket_clients(const DaemonProcess& daemon) {
    return parse_metrics(http_get(daemon.url("/metrics")).body)
        .sum("gpsrelay_live_clients", {{"transport", "websocket"}})
        .value_or(-1);
  }
};

bool has(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

TEST_F(WebSocketTest, DriverSubscriberGetsTheCurrentRecordThenEveryUpdateInOrder) {
  start_daemon(live_config());
  const std::int64_t at = unix_now_ms() - 10000;
  ASSERT_EQ(post_location(daemon(), "d-ws", 50.0, at).status, 202);
  ASSERT_TRUE(eventually(
      [&] { return http_get(daemon().url("/api/v1/drivers/d-ws/location")).status == 200; },
      seconds(5)));

  auto client = open(daemon(), "/api/v1/drivers/d-ws/location");
  ASSERT_EQ(client->handshake().status, 101) << client->handshake().error;
  EXPECT_TRUE(client->handshake().accept_ok);
  EXPECT_TRUE(has(next(*client), "\"latitude\":50"));
  ASSERT_TRUE(eventually([&] { return websocket_clients(daemon()) == 1; }, seconds(5)));
  EXPECT_TRUE(has(http_get(daemon().url("/health")).body,
                  R"("live":{"pubsub":"up","websocket_clients":1,"sse_clients":0})"));

  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(post_location(daemon(), "d-ws", 50.0 + i, at + i * 1000).status, 202);
  }
  for (int i = 1; i <= 3; ++i) {
    const std::string update = next(*client);
    EXPECT_TRUE(has(update, "\"latitude\":" + std::to_string(50 + i))) << i << ": " << update;
    EXPECT_TRUE(has(update, "\"driver_id\":\"d-ws\"")) << update;
  }
  EXPECT_GE(scrape_metrics().sum("gpsrelay_live_messages_pushed_total").value_or(0), 3);
  EXPECT_GE(scrape_metrics().sum("gpsrelay_live_fanout_latency_seconds_count").value_or(0), 3);

  // A client that closes is forgotten.
  client->close();
  EXPECT_EQ(client->close_code(), 1000);
  EXPECT_TRUE(eventually([&] { return live_clients(daemon()) == 0; }, seconds(5)));
}

TEST_F(WebSocketTest, SubscribeAndUnsubscribeMessagesChangeWhatItFollows) {
  start_daemon(live_config());
  auto client = open(daemon(), "/api/v1/orders/order-ws/driver-location");
  ASSERT_EQ(client->handshake().status, 101);
  ASSERT_TRUE(eventually([&] { return websocket_clients(daemon()) == 1; }, seconds(5)));
  ASSERT_EQ(post_location(daemon(), "d-order", 41.5, unix_now_ms() - 9000, "order-ws").status, 202);
  const std::string first = next(*client);
  EXPECT_TRUE(has(first, "\"order_id\":\"order-ws\"")) << first;
  EXPECT_TRUE(has(first, "\"driver_id\":\"d-order\"")) << first;

  // A driver with a current record: subscribing sends it first.
  ASSERT_EQ(post_location(daemon(), "d-extra", 7, unix_now_ms() - 8000).status, 202);
  ASSERT_TRUE(eventually(
      [&] { return http_get(daemon().url("/api/v1/drivers/d-extra/location")).status == 200; },
      seconds(5)));
  ASSERT_TRUE(client->send_text(R"({"action":"subscribe","driver_id":"d-extra"})"));
  EXPECT_TRUE(has(next(*client), "\"latitude\":7"));
  ASSERT_EQ(post_location(daemon(), "d-extra", 8, unix_now_ms() - 7000).status, 202);
  EXPECT_TRUE(has(next(*client), "\"latitude\":8"));

  // What it does not understand is answered, and the socket stays open.
  ASSERT_TRUE(client->send_text(R"({"action":"follow","driver_id":"d-extra"})"));
  EXPECT_TRUE(has(next(*client), R"({"error":"action must be \"subscribe\" or \"unsubscribe\""})"));
  ASSERT_TRUE(client->send_text("not json"));
  EXPECT_EQ(next(*client), R"({"error":"expected a JSON object"})");

  ASSERT_TRUE(client->send_text(R"({"action":"unsubscribe","driver_id":"d-extra"})"));
  // Messages are handled in order: after this round trip the unsubscribe is done.
  ASSERT_TRUE(client->send_text("[]"));
  EXPECT_EQ(next(*client), R"({"error":"expected a JSON object"})");
  ASSERT_EQ(post_location(daemon(), "d-extra", 9, unix_now_ms() - 6000).status, 202);
  ASSERT_EQ(post_location(daemon(), "d-order", 42.5, unix_now_ms() - 5000, "order-ws").status, 202);
  const std::string after = next(*client);
  EXPECT_TRUE(has(after, "\"latitude\":42.5")) << after;
  EXPECT_FALSE(client->next_text(milliseconds(300))) << "d-extra after the unsubscribe";
}

TEST_F(WebSocketTest, HandshakeErrorsAreAnsweredBeforeAnyUpgrade) {
  TempDir dir;
  DaemonConfig config = live_config();
  config.set("auth", "read_tokens_file", dir.write_file("read.tokens", "reader-secret\n").string());
  config.set("locations", "live_origins", "https://dispatch.example.com");
  start_daemon(config);
  const auto attempt = [&](WsOptions options) {
    options.port = daemon().port();
    if (options.path == "/") options.path = "/api/v1/drivers/d/location?token=reader-secret";
    return WsClient::connect(options)->handshake();
  };

  WsOptions ok;
  EXPECT_EQ(attempt(ok).status, 101);
  WsOptions bearer;
  bearer.path = "/api/v1/drivers/d/location";
  bearer.headers = {{"Authorization", "Bearer reader-secret"}};
  EXPECT_EQ(attempt(bearer).status, 101);
  WsOptions allowed_origin;
  allowed_origin.origin = "https://dispatch.example.com";
  EXPECT_EQ(attempt(allowed_origin).status, 101);

  WsOptions no_token;
  no_token.path = "/api/v1/drivers/d/location";
  EXPECT_EQ(attempt(no_token).status, 401);
  WsOptions wrong_token;
  wrong_token.path = "/api/v1/drivers/d/location?token=guess";
  EXPECT_EQ(attempt(wrong_token).status, 401);

  WsOptions old_version;
  old_version.version = "8";
  const WsHandshake upgrade_required = attempt(old_version);
  EXPECT_EQ(upgrade_required.status, 426);
  EXPECT_EQ(upgrade_required.headers.count("sec-websocket-version"), 1u);
  EXPECT_EQ(upgrade_required.headers.at("sec-websocket-version"), "13");

  WsOptions no_key;
  no_key.key = "";
  EXPECT_EQ(attempt(no_key).status, 400);
  WsOptions short_key;
  short_key.key = "c2hvcnQ=";
  const WsHandshake bad_key = attempt(short_key);
  EXPECT_EQ(bad_key.status, 400);
  EXPECT_TRUE(has(bad_key.body, "Sec-WebSocket-Key")) << bad_key.body;

  WsOptions no_connection_header;  // Upgrade: websocket without Connection: Upgrade
  no_connection_header.upgrade = "";
  no_connection_header.headers = {{"Upgrade", "websocket"}};
  EXPECT_EQ(attempt(no_connection_header).status, 400);

  WsOptions other_origin;
  other_origin.origin = "https://evil.example";
  EXPECT_EQ(attempt(other_origin).status, 403);

  WsOptions bad_id;
  bad_id.path = "/api/v1/drivers/a%20b/location?token=reader-secret";
  EXPECT_EQ(attempt(bad_id).status, 400);

  EXPECT_GE(scrape_metrics().sum("gpsrelay_live_handshakes_refused_total").value_or(0), 5);
  EXPECT_EQ(live_clients(daemon()), 0);
}

TEST_F(WebSocketTest, ProtocolLimitsCloseWithTheirCodes) {
  start_daemon(live_config());
  auto pinger = open(daemon(), "/api/v1/drivers/d/location");
  ASSERT_TRUE(pinger->open());
  ASSERT_TRUE(pinger->send_ping("hello"));
  EXPECT_FALSE(pinger->next_text(milliseconds(500)));  // pongs are read meanwhile
  EXPECT_EQ(pinger->pongs_received(), 1u);

  auto big = open(daemon(), "/api/v1/drivers/d/location");
  ASSERT_TRUE(big->send_text(std::string(5000, 'x')));
  ASSERT_TRUE(big->wait_closed(seconds(5)));
  EXPECT_EQ(big->close_code(), 1009);

  auto unmasked = open(daemon(), "/api/v1/drivers/d/location");
  // A text frame "hi" without the mask every client frame must have.
  ASSERT_TRUE(unmasked->send_raw(std::string("\x81\x02hi", 4)));
  ASSERT_TRUE(unmasked->wait_closed(seconds(5)));
  EXPECT_EQ(unmasked->close_code(), 1002);

  // Still serving the well-behaved one.
  EXPECT_TRUE(eventually([&] { return live_clients(daemon()) == 1; }, seconds(5)));
  ASSERT_EQ(post_location(daemon(), "d", 1, unix_now_ms()).status, 202);
  EXPECT_TRUE(has(next(*pinger), "\"latitude\":1"));
}

TEST_F(WebSocketTest, AClientThatNeverReadsIsDroppedAndMemoryStaysBounded) {
  start_daemon(live_config());
  WsOptions options;
  options.port = daemon().port();
  options.path = "/api/v1/drivers/d-slow/location";
  options.receive_buffer_bytes = 4096;
  auto slow = WsClient::connect(options);  // then it reads nothing
  ASSERT_TRUE(slow->open());
  ASSERT_TRUE(eventually([&] { return live_clients(daemon()) == 1; }, seconds(5)));

  flood_until_dropped("d-slow");
  auto reader = open(daemon(), "/api/v1/drivers/d-slow/location");
  ASSERT_TRUE(reader->open());
  EXPECT_TRUE(has(next(*reader), "\"driver_id\":\"d-slow\""));  // the current record
}

TEST_F(WebSocketTest, SubscriptionSurvivesARedisRestart) {
  start_daemon(live_config());
  auto client = open(daemon(), "/api/v1/drivers/d-restart/location");
  ASSERT_TRUE(client->open());
  ASSERT_TRUE(eventually([&] { return websocket_clients(daemon()) == 1; }, seconds(5)));
  ASSERT_EQ(post_location(daemon(), "d-restart", 10, unix_now_ms() - 5000).status, 202);
  ASSERT_TRUE(has(next(*client), "\"latitude\":10"));

  redis().stop();
  redis().restart();
  ASSERT_TRUE(eventually(
      [&] { return post_location(daemon(), "d-restart", 11, unix_now_ms()).status == 202; },
      seconds(10)));
  EXPECT_TRUE(has(next(*client), "\"latitude\":11"));
}

TEST_F(WebSocketTest, SubscriberOnOneDaemonSeesReportsPostedToAnother) {
  const DaemonConfig config = live_config();
  start_daemon(config);
  DaemonOptions second_options;
  second_options.config = config;
  DaemonProcess second(redis().address(), second_options);

  auto client = open(second, "/api/v1/orders/o-two/driver-location");
  ASSERT_TRUE(client->open());
  ASSERT_TRUE(eventually([&] { return websocket_clients(second) == 1; }, seconds(5)));
  ASSERT_EQ(post_location(daemon(), "d-two", 33, unix_now_ms(), "o-two").status, 202);
  EXPECT_TRUE(has(next(*client), "\"latitude\":33"));
}

TEST_F(WebSocketTest, WorksOverTls) {
  const TestPki pki;
  const int tls_port = pick_free_port();
  DaemonConfig config = live_config();
  config.set("http", "tls_listen", "127.0.0.1:" + std::to_string(tls_port));
  config.set("http", "tls_cert", pki.first().cert.string());
  config.set("http", "tls_key", pki.first().key.string());
  start_daemon(config);
  WsOptions options;
  options.port = tls_port;
  options.tls = true;
  options.ca_file = pki.first().ca_cert.string();
  options.path = "/api/v1/drivers/d-tls/location";
  auto client = WsClient::connect(options);
  ASSERT_EQ(client->handshake().status, 101) << client->handshake().error;
  ASSERT_TRUE(eventually([&] { return websocket_clients(daemon()) == 1; }, seconds(5)));
  ASSERT_EQ(post_location(daemon(), "d-tls", 12.5, unix_now_ms()).status, 202);
  EXPECT_TRUE(has(next(*client), "\"latitude\":12.5"));
  ASSERT_TRUE(client->send_text(R"({"action":"subscribe","order_id":"o-tls"})"));
  ASSERT_EQ(post_location(daemon(), "d-other", 13.5, unix_now_ms(), "o-tls").status, 202);
  EXPECT_TRUE(has(next(*client), "\"latitude\":13.5"));
}

TEST_F(WebSocketTest, OneLimitForBothTransports) {
  DaemonConfig config = live_config();
  config.set("locations", "live_max_clients", "1");
  start_daemon(config);
  auto first = open(daemon(), "/api/v1/drivers/a/location");
  ASSERT_TRUE(first->open());
  auto second = open(daemon(), "/api/v1/drivers/b/location");
  EXPECT_EQ(second->handshake().status, 503);
  EXPECT_TRUE(has(second->handshake().body, "live_max_clients"));
  const HttpResponse event_stream = http_request("GET", daemon().url("/api/v1/drivers/b/location"),
                                                 "", {"Accept: text/event-stream"});
  EXPECT_EQ(event_stream.status, 503);
  // Once it leaves, there is room again.
  first->close();
  EXPECT_TRUE(eventually(
      [&] { return open(daemon(), "/api/v1/drivers/b/location")->handshake().status == 101; },
      seconds(5)));
}

// Regression: each of these subscribes and unsubscribes one channel in a
// burst; hiredis 0.14 aborted gpsrelayd when an UNSUBSCRIBE answer counting
// no channel overtook a SUBSCRIBE of the next client.
TEST_F(WebSocketTest, ClientsThatComeAndGoAtOnceDoNotUpsetTheSubscription) {
  start_daemon(live_config());
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(open(daemon(), "/api/v1/drivers/d-churn/location")->handshake().status, 101) << i;
  }
  auto client = open(daemon(), "/api/v1/drivers/d-churn/location");
  ASSERT_TRUE(eventually([&] { return websocket_clients(daemon()) == 1; }, seconds(5)));
  ASSERT_EQ(post_location(daemon(), "d-churn", 5, unix_now_ms()).status, 202);
  EXPECT_TRUE(has(next(*client), "\"latitude\":5"));
}

TEST_F(WebSocketTest, SigtermSaysGoingAwayAndExitsPromptly) {
  start_daemon(live_config());
  auto client = open(daemon(), "/api/v1/drivers/d-stop/location");
  ASSERT_TRUE(client->open());
  ASSERT_TRUE(eventually([&] { return websocket_clients(daemon()) == 1; }, seconds(5)));
  const auto stopped = daemon().stop();
  ASSERT_TRUE(stopped.status.has_value()) << "had to be killed";
  EXPECT_EQ(stopped.status->code, 0);
  EXPECT_LT(stopped.elapsed, seconds(10));
  ASSERT_TRUE(client->wait_closed(seconds(5)));
  EXPECT_EQ(client->close_code(), 1001);
}

}  // namespace
}  // namespace gpsrelay::testing
