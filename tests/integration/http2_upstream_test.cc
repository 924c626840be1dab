// Forwarding over HTTP/2 (forward.http2) to a real HTTP/2 server: nginx in
// front of a recording upstream. Auto negotiates h2 by ALPN over TLS, off
// stays on HTTP/1.1, prior knowledge speaks h2c to a cleartext target
// where libcurl can (and is refused at start where it cannot); the upstream
// gets every report byte for byte, and the deliveries share one
// multiplexed connection per loop instead of one connection each.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "forward/http_sender.h"
#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/nginx_server.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

constexpr int kReports = 60;

class Http2UpstreamTest : public ForwardingTest, public ::testing::WithParamInterface<unsigned> {
 protected:
  DaemonConfig forwarding_to_url(const std::string& url, const std::string& http2) const {
    DaemonConfig config = forwarding_to({});
    config.set("forward", "targets", url)
        .set("forward", "http2", http2)
        .set("forward", "threads", std::to_string(GetParam()))
        .set("forward", "ca_file", pki_.first().ca_cert.string());
    return config;
  }

  // Queues kReports reports, starts the daemon with `config` so that they
  // all go out at once, and waits until they are delivered; then every one
  // reached `backend` once, with its body unchanged, over `protocol` (as
  // nginx saw it).
  void expect_burst_delivered_unchanged(const DaemonConfig& config, const UpstreamServer& backend,
                                        const std::string& protocol) {
    std::map<std::string, std::string> sent;  // message id -> body
    const std::vector<std::string> ids = queue_reports(kReports);
    for (int i = 0; i < kReports; ++i) sent[ids[static_cast<std::size_t>(i)]] = numbered_report(i);
    start_daemon(config);
    ASSERT_TRUE(eventually([&] { return drained(); }, seconds(10)));
    const std::vector<ReceivedRequest> received = backend.requests();
    ASSERT_EQ(received.size(), sent.size());
    for (const ReceivedRequest& request : received) {
      const std::string id = header_of(request, "x-gpsrelay-message-id");
      ASSERT_TRUE(sent.contains(id)) << id;
      EXPECT_EQ(request.body, sent[id]);
      EXPECT_EQ(header_of(request, "x-upstream-protocol"), protocol);
      EXPECT_EQ(header_of(request, "content-type"), "application/json");
      sent.erase(id);
    }
    EXPECT_TRUE(failed_rows().empty());
  }

  double responses_over(const std::string& version) {
    return scrape_metrics()
        .sum("gpsrelay_delivery_responses_total", {{"version", version}})
        .value_or(-1);
  }

  // Why this process's libcurl cannot do prior knowledge; nullopt when it can.
  static std::optional<std::string> no_prior_knowledge() {
    return forward::http2_unsupported(core::ForwardConfig::Http2::kPriorKnowledge,
                                      forward::this_process_curl());
  }

  TestPki pki_;
};

TEST_P(Http2UpstreamTest, PriorKnowledgeSpeaksH2cMultiplexed) {
  if (const auto why = no_prior_knowledge()) GTEST_SKIP() << *why;
  UpstreamServer backend;
  NginxServer nginx(backend.port());
  expect_burst_delivered_unchanged(forwarding_to_url(nginx.url(), "prior-knowledge"), backend,
                                   "HTTP/2.0");
  EXPECT_EQ(responses_over("2"), kReports);
  EXPECT_EQ(responses_over("1.1"), 0);
  // All 60 go out at once; waiting for the first connection
  // (CURLOPT_PIPEWAIT) lets the rest share it.
  EXPECT_LE(nginx.connections_used(), GetParam()) << nginx.log();
}

TEST_P(Http2UpstreamTest, AutoNegotiatesH2ByAlpnOverTls) {
  UpstreamServer backend;
  NginxServer nginx(backend.port(),
                    UpstreamTls{pki_.first().cert.string(), pki_.first().key.string()});
  expect_burst_delivered_unchanged(forwarding_to_url(nginx.url(), "auto"), backend, "HTTP/2.0");
  EXPECT_EQ(responses_over("2"), kReports);
  // The burst shares one multiplexed connection per loop.
  EXPECT_LE(nginx.connections_used(), GetParam()) << nginx.log();
}

TEST_P(Http2UpstreamTest, OffStaysOnHttp1OverTls) {
  UpstreamServer backend;
  NginxServer nginx(backend.port(),
                    UpstreamTls{pki_.first().cert.string(), pki_.first().key.string()});
  expect_burst_delivered_unchanged(forwarding_to_url(nginx.url(), "off"), backend, "HTTP/1.1");
  EXPECT_EQ(responses_over("1.1"), kReports);
  EXPECT_EQ(responses_over("2"), 0);
  // HTTP/1.1 takes a connection per request in flight: what the HTTP/2
  // tests' bound on connections tells apart.
  EXPECT_GT(nginx.connections_used(), GetParam()) << nginx.log();
}

// Acknowledging only after a 2xx holds over multiplexed streams too: a
// kill -9 in the middle of HTTP/2 deliveries loses nothing acknowledged.
TEST_P(Http2UpstreamTest, KillNineThenRestartOverHttp2LosesNothingAcknowledged) {
  UpstreamServer backend;
  backend.set_delay(std::chrono::milliseconds(50));
  NginxServer nginx(backend.port(),
                    UpstreamTls{pki_.first().cert.string(), pki_.first().key.string()});
  DaemonConfig config = forwarding_to_url(nginx.url(), "auto");
  config.set("forward", "concurrency", "16");
  const auto load =
      kill_nine_under_load(config, 4, backend, [&] { return backend.request_count() >= 50; });
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(30)))
      << "stream length " << stream_length() << ", pending " << pending_count();
  // What was in flight at the kill may arrive twice: at most 16 deliveries
  // plus acknowledgements on their way.
  EXPECT_LE(expect_every_acknowledged_delivered(*load, backend, "kill -9 over HTTP/2"), 32u);
  EXPECT_GT(responses_over("2"), 0);
  EXPECT_EQ(responses_over("1.1"), 0);
}

// nginx's 'return' answers 200 as soon as the headers are in, before the
// body (here larger than HTTP/2's 64 KiB initial window) has arrived. Over
// HTTP/2 libcurl 7.88 turns that into a failed transfer (hence http2 = off
// by default); over HTTP/1.1 the answer is a delivery, each report once.
TEST_P(Http2UpstreamTest, OverHttp1AnAnswerBeforeTheWholeBodyIsOneDelivery) {
  NginxServer nginx(std::nullopt,
                    UpstreamTls{pki_.first().cert.string(), pki_.first().key.string()});
  DaemonConfig config = forwarding_to_url(nginx.url(), "off");
  config.set("http", "max_body_size", "1m");
  start_daemon(config);
  const std::string padding(200 * 1024, 'x');
  constexpr int kLargeReports = 5;
  for (int i = 0; i < kLargeReports; ++i) {
    const HttpResponse response =
        post_report(R"({"device":"truck-)" + std::to_string(i) +
                    R"(","lat":52.5,"lon":13.4,"note":")" + padding + R"("})");
    ASSERT_TRUE(is_accepted(response)) << response;
  }
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(10)));
  EXPECT_EQ(nginx.requests_answered(), static_cast<std::size_t>(kLargeReports)) << nginx.log();
  EXPECT_EQ(responses_over("1.1"), kLargeReports);
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_deliveries_total", {{"result", "failed"}}), 0);
  EXPECT_TRUE(failed_rows().empty());
}

// An upstream that only speaks HTTP/1.1 cannot take prior knowledge: every
// attempt fails, and the report ends in failed_packets, not lost.
TEST_P(Http2UpstreamTest, PriorKnowledgeToAnHttp1UpstreamFailsIntoTheStore) {
  if (const auto why = no_prior_knowledge()) GTEST_SKIP() << *why;
  UpstreamServer http1_only;
  start_daemon(forwarding_to_url(http1_only.url(), "prior-knowledge"));
  post_reports(1);
  ASSERT_TRUE(eventually([&] { return failed_rows().size() == 1; }, seconds(10)));
  EXPECT_TRUE(eventually([&] { return drained(); }, seconds(5)));
  EXPECT_EQ(http1_only.request_count(), 0u);
}

// Where libcurl would fail every reuse of an h2c connection, the daemon
// says so and does not start, rather than failing deliveries one by one.
TEST_P(Http2UpstreamTest, PriorKnowledgeIsRefusedWhereLibcurlCannotCarryIt) {
  const auto why = no_prior_knowledge();
  if (!why) GTEST_SKIP() << "this libcurl carries prior knowledge";
  const TempDir scratch("gpsrelay-h2c");
  DaemonConfig config = DaemonProcess::default_config(8080, redis().address());
  config.merge(forwarding_to_url("http://127.0.0.1:9/ingest", "prior-knowledge"));
  const auto path = scratch.write_file("gpsrelay.conf", config.render());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--check-config", "-c", path.string()},
        std::vector<std::string>{"-c", path.string()}}) {
    const CommandResult result = run_gpsrelayd(args, scratch.path());
    ASSERT_TRUE(result.status.has_value());
    EXPECT_TRUE(result.status->exited_with(1)) << result.status->describe() << result.err;
    EXPECT_NE(result.err.find(*why), std::string::npos) << result.err;
  }
}

INSTANTIATE_TEST_SUITE_P(Loops, Http2UpstreamTest, ::testing::Values(1u, 3u), loop_count_name);

}  // namespace
}  // namespace gpsrelay::testing
