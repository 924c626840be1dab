// HttpSender against real HTTP upstreams on loopback: bodies and headers
// arrive intact, statuses and transport failures are reported, timeouts
// fire, and many transfers run at once on one event loop.
#include "forward/http_sender.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

#include "core/event_loop.h"
#include "support/upstream_server.h"

namespace gpsrelay::forward {
namespace {

using std::chrono::milliseconds;
using testing::UpstreamServer;

SendRequest post_to(std::string url, std::string body = "{}",
                    std::vector<std::string> headers = {}) {
  SendRequest request;
  request.url = std::move(url);
  request.body = std::move(body);
  request.headers = std::move(headers);
  return request;
}

class HttpSenderTest : public ::testing::Test {
 protected:
  // Runs the loop until `done` results arrived or the deadline passed.
  void run_until(const std::size_t& done, std::size_t want,
                 milliseconds deadline = milliseconds(10000)) {
    core::Timer stop(base_.get(), [this] { event_base_loopbreak(base_.get()); });
    stop.start_once(deadline);
    while (done < want && stop.pending()) event_base_loop(base_.get(), EVLOOP_ONCE);
  }

  SendResult send_one(SendRequest request) {
    std::optional<SendResult> result;
    std::size_t done = 0;
    sender_.send(std::move(request), [&](const SendResult& r) {
      result = r;
      ++done;
    });
    run_until(done, 1);
    EXPECT_TRUE(result.has_value()) << "no result before the deadline";
    return result.value_or(SendResult{});
  }

  core::EventBasePtr base_ = core::make_event_base();
  HttpSender sender_{base_.get(), 8};
};

TEST_F(HttpSenderTest, PostsTheBodyAndHeadersUnchanged) {
  UpstreamServer upstream;
  const std::string body = "{\"lat\":52.52,\"name\":\"M\xc3\xbcnchen\"}\n";
  const SendResult result = send_one(
      post_to(upstream.url(), body, {"Content-Type: application/json", "X-GPSRelay-Attempt: 1"}));
  EXPECT_EQ(result.status, 200) << result.error;
  ASSERT_EQ(upstream.request_count(), 1u);
  const auto received = upstream.requests().front();
  EXPECT_EQ(received.method, "POST");
  EXPECT_EQ(received.path, "/ingest");
  EXPECT_EQ(received.body, body);
  EXPECT_EQ(received.headers.at("content-type"), "application/json");
  EXPECT_EQ(received.headers.at("x-gpsrelay-attempt"), "1");
  EXPECT_EQ(received.headers.count("expect"), 0u);
}

TEST_F(HttpSenderTest, ReportsTheUpstreamStatus) {
  UpstreamServer upstream;
  upstream.script({503, 404});
  EXPECT_EQ(send_one(post_to(upstream.url())).status, 503);
  EXPECT_EQ(send_one(post_to(upstream.url())).status, 404);
  EXPECT_EQ(send_one(post_to(upstream.url())).status, 200);
}

TEST_F(HttpSenderTest, RefusedConnectionIsATransportErrorWithAReason) {
  UpstreamServer upstream;
  const std::string url = upstream.url();
  upstream.stop();
  const SendResult result = send_one(post_to(url));
  EXPECT_EQ(result.status, 0);
  EXPECT_FALSE(result.error.empty());
}

TEST_F(HttpSenderTest, RequestCurlRefusesToSetUpIsATransportErrorReportedFromTheLoop) {
  UpstreamServer upstream;
  // curl refuses option strings longer than 8 MB (CURLE_BAD_FUNCTION_ARGUMENT).
  const std::string too_long = upstream.url() + "?" + std::string(9 * 1024 * 1024, 'x');
  std::optional<SendResult> result;
  std::size_t done = 0;
  sender_.send(post_to(too_long), [&](const SendResult& r) {
    result = r;
    ++done;
  });
  EXPECT_EQ(done, 0u) << "the callback ran inside send()";
  run_until(done, 1);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status, 0);
  EXPECT_NE(result->error.find("CURLOPT_URL"), std::string::npos) << result->error;
  EXPECT_TRUE(result->not_sent) << "the target must not be blamed for it";
  EXPECT_EQ(upstream.request_count(), 0u);
  // The refused handle goes back for reuse and the next request is fine.
  EXPECT_EQ(send_one(post_to(upstream.url())).status, 200);
}

TEST_F(HttpSenderTest, SlowUpstreamTimesOut) {
  UpstreamServer upstream;
  upstream.set_delay(milliseconds(3000));
  SendRequest request = post_to(upstream.url());
  request.timeout = milliseconds(200);
  const auto started = std::chrono::steady_clock::now();
  const SendResult result = send_one(request);
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("timed out"), std::string::npos) << result.error;
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(2500));
}

TEST_F(HttpSenderTest, ManyConcurrentTransfersAllComplete) {
  UpstreamServer first;
  UpstreamServer second;
  constexpr std::size_t kCount = 300;
  std::size_t done = 0;
  std::vector<long> statuses;
  for (std::size_t i = 0; i < kCount; ++i) {
    sender_.send(post_to((i % 2 == 0 ? first : second).url(), "{\"i\":" + std::to_string(i) + "}"),
                 [&](const SendResult& r) {
                   statuses.push_back(r.status);
                   ++done;
                 });
  }
  EXPECT_EQ(sender_.in_flight(), kCount);
  run_until(done, kCount);
  ASSERT_EQ(statuses.size(), kCount);
  EXPECT_TRUE(std::all_of(statuses.begin(), statuses.end(), [](long s) { return s == 200; }));
  EXPECT_EQ(first.request_count() + second.request_count(), kCount);
  EXPECT_EQ(sender_.in_flight(), 0u);
}

TEST_F(HttpSenderTest, UpstreamRestartIsSurvived) {
  UpstreamServer upstream;
  EXPECT_EQ(send_one(post_to(upstream.url())).status, 200);
  upstream.stop();
  EXPECT_EQ(send_one(post_to(upstream.url())).status, 0);
  upstream.start();
  EXPECT_EQ(send_one(post_to(upstream.url())).status, 200);
}

TEST_F(HttpSenderTest, DestroyingTheSenderAbandonsTransfersInFlight) {
  UpstreamServer upstream;
  upstream.set_delay(milliseconds(2000));
  bool called = false;
  {
    HttpSender sender(base_.get(), 4);
    sender.send(post_to(upstream.url()), [&](const SendResult&) { called = true; });
    for (int i = 0; i < 20; ++i) event_base_loop(base_.get(), EVLOOP_NONBLOCK);
  }
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace gpsrelay::forward
