// Forwarding to https:// targets: verified against forward.ca_file, with
// forward.header sent along; a certificate the CA did not sign is a
// retryable failure that shows in /health and the log, and the packet ends
// in failed_packets with the certificate error.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/test_pki.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

class HttpsUpstreamTest : public ForwardingTest {
 protected:
  UpstreamTls tls() const { return {pki_.first().cert.string(), pki_.first().key.string()}; }

  TestPki pki_;
};

TEST_F(HttpsUpstreamTest, DeliversOverVerifiedTlsWithTheConfiguredHeader) {
  UpstreamServer upstream(0, tls());
  DaemonConfig config = forwarding_to({&upstream});
  config.set("forward", "ca_file", pki_.first().ca_cert.string())
      .set("forward", "header", "Authorization: Bearer upstream-secret");
  start_daemon(config);
  const std::vector<std::string> ids = post_reports(3);
  ASSERT_TRUE(eventually([&] { return drained(); }, seconds(10)));
  ASSERT_EQ(upstream.request_count(), 3u);
  for (const ReceivedRequest& request : upstream.requests()) {
    EXPECT_EQ(header_of(request, "authorization"), "Bearer upstream-secret");
  }
  EXPECT_TRUE(failed_rows().empty());
}

TEST_F(HttpsUpstreamTest, CertificateFromAnotherCaIsRetriedThenStoredWithTheReason) {
  UpstreamServer upstream(0, tls());
  DaemonConfig config = forwarding_to({&upstream});
  config.set("forward", "ca_file", pki_.second().ca_cert.string())
      .set("forward", "breaker_failures", "100");
  start_daemon(config);
  post_reports(1);

  ASSERT_TRUE(eventually([&] { return failed_rows().size() == 1; }, seconds(10)));
  const SqlRow row = failed_rows().front();
  EXPECT_EQ(row.at("retry_count"), "3");
  const std::string error = row.at("last_error").value_or("");
  EXPECT_NE(error.find("certificate"), std::string::npos) << error;
  EXPECT_EQ(upstream.request_count(), 0u) << "no request may pass an unverified handshake";

  const std::string health = http_get(daemon().url("/health")).body;
  EXPECT_NE(health.find("certificate"), std::string::npos) << health;
  EXPECT_NE(daemon().log().find("certificate"), std::string::npos);
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_retries_scheduled_total"), 3);
}

}  // namespace
}  // namespace gpsrelay::testing
