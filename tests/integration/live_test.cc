// Live location updates over Server-Sent Events against a real gpsrelayd
// and redis-server: a subscriber by driver and by order receives every
// posted location in order, the current state first; the subscription
// survives a Redis restart; a subscriber on one daemon sees reports
// posted to another; live_max_clients; a client that leaves is forgotten.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "support/eventually.h"
#include "support/http_client.h"
#include "support/live_fixture.h"
#include "support/temp_dir.h"
#include "support/unique_fd.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A raw HTTP/1.1 client that asks for an event stream and collects what
// arrives (chunk framing included: every event is written as one chunk,
// so its lines stay whole).
class EventStream {
 public:
  // `receive_buffer`: SO_RCVBUF, to play a client on a slow link (0 = default).
  EventStream(int port, const std::string& path, int receive_buffer = 0)
      : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    if (receive_buffer > 0) {
      setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return;
    const std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n";
    connected_ = ::send(fd_.get(), request.data(), request.size(), 0) ==
                 static_cast<ssize_t>(request.size());
  }

  // Reads until `count` occurrences of `needle` arrived, or `timeout`.
  bool wait_for(const std::string& needle, std::size_t count = 1,
                milliseconds timeout = seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (count_occurrences(received_, needle) < count) {
      const auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (!connected_ || left.count() <= 0) return false;
      pollfd p{fd_.get(), POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
      if (n <= 0) {
        connected_ = false;
        return false;
      }
      received_.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
  }

  const std::string& received() const { return received_; }
  void close() { fd_.reset(); }

 private:
  UniqueFd fd_;
  bool connected_ = false;
  std::string received_;
};

TEST_F(LiveTest, DriverSubscriberGetsTheCurrentStateThenEveryUpdateInOrder) {
  start_daemon(live_config());
  const std::int64_t at = unix_now_ms() - 10000;
  ASSERT_EQ(post_location(daemon(), "d-live", 50.0, at).status, 202);
  ASSERT_TRUE(eventually(
      [&] { return http_get(daemon().url("/api/v1/drivers/d-live/location")).status == 200; },
      seconds(5)));

  EventStream stream(daemon().port(), "/api/v1/drivers/d-live/location");
  ASSERT_TRUE(stream.wait_for("\"latitude\":50")) << stream.received();
  EXPECT_NE(stream.received().find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(stream.received().find("text/event-stream"), std::string::npos);
  ASSERT_TRUE(eventually([&] { return live_clients(daemon()) == 1; }, seconds(5)));
  const std::string health = http_get(daemon().url("/health")).body;
  EXPECT_NE(health.find(R"("live":{"pubsub":"up","websocket_clients":0,"sse_clients":1})"),
            std::string::npos)
      << health;

  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(post_location(daemon(), "d-live", 50.0 + i, at + i * 1000).status, 202);
  }
  ASSERT_TRUE(stream.wait_for("data: ", 4)) << stream.received();
  const std::string& got = stream.received();
  const std::size_t first = got.find("\"latitude\":51");
  const std::size_t second = got.find("\"latitude\":52");
  const std::size_t third = got.find("\"latitude\":53");
  ASSERT_NE(third, std::string::npos) << got;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  // Updates carry their stream id, for Last-Event-ID.
  EXPECT_EQ(count_occurrences(got, "id: "), 3u) << got;
  EXPECT_GE(scrape_metrics().sum("gpsrelay_live_messages_pushed_total").value_or(0), 3);

  // A client that leaves is forgotten (the hang-up is noticed at once).
  stream.close();
  EXPECT_TRUE(eventually([&] { return live_clients(daemon()) == 0; }, seconds(5)));
}

TEST_F(LiveTest, OrderSubscriberFollowsTheOrdersDriver) {
  start_daemon(live_config());
  EventStream stream(daemon().port(), "/api/v1/orders/order-5/driver-location");
  ASSERT_TRUE(stream.wait_for("retry: ")) << stream.received();
  ASSERT_TRUE(eventually([&] { return live_clients(daemon()) == 1; }, seconds(5)));
  ASSERT_EQ(post_location(daemon(), "d-order", 41.5, unix_now_ms(), "order-5").status, 202);
  ASSERT_TRUE(stream.wait_for("\"order_id\":\"order-5\"")) << stream.received();
  EXPECT_NE(stream.received().find("\"driver_id\":\"d-order\""), std::string::npos);
}

TEST_F(LiveTest, SubscriptionSurvivesARedisRestart) {
  start_daemon(live_config());
  EventStream stream(daemon().port(), "/api/v1/drivers/d-restart/location");
  ASSERT_TRUE(stream.wait_for("retry: "));
  ASSERT_EQ(post_location(daemon(), "d-restart", 10, unix_now_ms() - 5000).status, 202);
  ASSERT_TRUE(stream.wait_for("\"latitude\":10")) << stream.received();

  redis().stop();
  redis().restart();
  // Resubscribed after the reconnect: a new report arrives.
  ASSERT_TRUE(eventually(
      [&] { return post_location(daemon(), "d-restart", 11, unix_now_ms()).status == 202; },
      seconds(10)));
  EXPECT_TRUE(stream.wait_for("\"latitude\":11", 1, seconds(10))) << stream.received();
}

TEST_F(LiveTest, SubscriberOnOneDaemonSeesReportsPostedToAnother) {
  const DaemonConfig config = live_config();
  start_daemon(config);
  DaemonOptions second_options;
  second_options.config = config;
  DaemonProcess second(redis().address(), second_options);

  EventStream stream(second.port(), "/api/v1/drivers/d-two/location");
  ASSERT_TRUE(stream.wait_for("retry: "));
  ASSERT_TRUE(eventually([&] { return live_clients(second) == 1; }, seconds(5)));
  ASSERT_EQ(post_location(daemon(), "d-two", 33, unix_now_ms()).status, 202);
  EXPECT_TRUE(stream.wait_for("\"latitude\":33")) << stream.received();
}

TEST_F(LiveTest, AClientThatNeverReadsIsDroppedAndMemoryStaysBounded) {
  start_daemon(live_config());
  EventStream slow(daemon().port(), "/api/v1/drivers/d-slow/location", 4096);
  ASSERT_TRUE(slow.wait_for("retry: "));  // then it reads nothing more
  ASSERT_TRUE(eventually([&] { return live_clients(daemon()) == 1; }, seconds(5)));

  flood_until_dropped("d-slow");
  // A client that reads is served as before.
  EventStream reader(daemon().port(), "/api/v1/drivers/d-slow/location");
  ASSERT_TRUE(reader.wait_for("retry: "));
  ASSERT_TRUE(eventually([&] { return live_clients(daemon()) == 1; }, seconds(5)));
  ASSERT_EQ(post_location(daemon(), "d-slow", 3, unix_now_ms()).status, 202);
  EXPECT_TRUE(reader.wait_for("\"latitude\":3")) << reader.received();
}

TEST_F(LiveTest, LiveMaxClientsRefusesTheOneTooMany) {
  DaemonConfig config = live_config();
  config.set("locations", "live_max_clients", "1");
  start_daemon(config);
  EventStream first(daemon().port(), "/api/v1/drivers/a/location");
  ASSERT_TRUE(first.wait_for("retry: "));
  EventStream second(daemon().port(), "/api/v1/drivers/b/location");
  ASSERT_TRUE(second.wait_for("\r\n\r\n"));
  EXPECT_NE(second.received().find("HTTP/1.1 503"), std::string::npos) << second.received();
  EXPECT_NE(second.received().find("live_max_clients"), std::string::npos);
  // A plain read is not a live client and still works.
  EXPECT_EQ(http_get(daemon().url("/api/v1/drivers/a/location")).status, 404);
}

}  // namespace
}  // namespace gpsrelay::testing
