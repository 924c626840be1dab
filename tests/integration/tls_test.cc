// HTTPS ingest on http.tls_listen: certificates from a test CA made by the
// fixture (openssl CLI), clients that verify the chain, plaintext and TLS
// sent to the wrong port, certificate rotation by SIGHUP and a broken
// certificate that must not replace a working one.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/gpsrelay_fixture.h"
#include "support/http_client.h"
#include "support/ports.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

constexpr std::string_view kReport = R"({"device":"truck-9","lat":48.1371,"lon":11.5754})";

class TlsTest : public GpsrelayTest {
 protected:
  void SetUp() override {
    GpsrelayTest::SetUp();
    tls_port_ = pick_free_port();
    // The daemon reads copies, so a test can rotate or break them.
    install(pki_.first());
  }

  void install(const TestPki::Issued& issued) {
    std::filesystem::copy_file(issued.cert, cert_path(),
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(issued.key, key_path(),
                               std::filesystem::copy_options::overwrite_existing);
  }
  std::filesystem::path cert_path() const { return files_.file("server.pem"); }
  std::filesystem::path key_path() const { return files_.file("server.key"); }

  DaemonProcess& start_tls_daemon() {
    return start_daemon({{"http", "tls_listen", "127.0.0.1:" + std::to_string(tls_port_)},
                         {"http", "tls_cert", cert_path().string()},
                         {"http", "tls_key", key_path().string()}});
  }

  std::string https_url(std::string_view path = kIngestPath) const {
    return "https://127.0.0.1:" + std::to_string(tls_port_) + std::string(path);
  }

  HttpResponse post_https(const std::filesystem::path& ca) {
    HttpRequest request = make_post(https_url(), std::string(kReport));
    request.ca_file = ca.string();
    return http_request(request);
  }

  void reload() {
    const size_t from = daemon().notify().size();
    daemon().send_signal(SIGHUP);
    const auto reloading = daemon().wait_for_notification("RELOADING=1", seconds(5), from);
    ASSERT_TRUE(reloading.has_value()) << daemon().notify().describe();
    ASSERT_TRUE(daemon().wait_for_notification("READY=1", seconds(5), *reloading).has_value());
  }

  TestPki pki_;
  TempDir files_{"gpsrelay-tls"};
  int tls_port_ = 0;
};

TEST_F(TlsTest, PostOverHttpsVerifiedAgainstTheCaIsStoredByteForByte) {
  start_tls_daemon();
  const HttpResponse response = post_https(pki_.first().ca_cert);
  ASSERT_TRUE(is_accepted(response)) << response;
  const auto entry = find_entry(message_id_of(response));
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->fields.at("payload"), kReport);
  // The plain listener keeps working next to it.
  EXPECT_TRUE(is_accepted(post_report(std::string(kReport))));
}

TEST_F(TlsTest, ClientWithAnotherCaRejectsTheServer) {
  start_tls_daemon();
  const HttpResponse response = post_https(pki_.second().ca_cert);
  EXPECT_EQ(response.status, 0) << response;
  EXPECT_FALSE(response.error.empty());
  EXPECT_EQ(stream_length(), 0);
  EXPECT_TRUE(is_accepted(post_https(pki_.first().ca_cert)));
}

TEST_F(TlsTest, PlaintextToTheTlsPortIsClosedAndOthersAreUndisturbed) {
  start_tls_daemon();
  RawConnection plaintext(tls_port_);
  ASSERT_TRUE(
      plaintext.send("POST /api/gps/reports HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"));
  EXPECT_TRUE(plaintext.wait_for_peer_close(seconds(5)));
  EXPECT_TRUE(is_accepted(post_https(pki_.first().ca_cert)));
  EXPECT_TRUE(is_accepted(post_report(std::string(kReport))));
  EXPECT_EQ(stream_length(), 2);
}

TEST_F(TlsTest, TlsHandshakeToThePlainPortFailsCleanly) {
  DaemonProcess& gpsrelayd = start_tls_daemon();
  HttpRequest request =
      make_post("https://127.0.0.1:" + std::to_string(gpsrelayd.port()) + std::string(kIngestPath),
                std::string(kReport));
  request.ca_file = pki_.first().ca_cert.string();
  request.timeout = std::chrono::milliseconds(5000);
  const HttpResponse response = http_request(request);
  EXPECT_EQ(response.status, 0) << response;
  EXPECT_TRUE(gpsrelayd.running());
  EXPECT_TRUE(is_accepted(post_report(std::string(kReport))));
  EXPECT_TRUE(is_accepted(post_https(pki_.first().ca_cert)));
}

TEST_F(TlsTest, SighupLoadsARotatedCertificateForNewConnections) {
  start_tls_daemon();
  ASSERT_TRUE(is_accepted(post_https(pki_.first().ca_cert)));
  install(pki_.second());
  reload();
  EXPECT_TRUE(is_accepted(post_https(pki_.second().ca_cert)));
  EXPECT_EQ(post_https(pki_.first().ca_cert).status, 0);
  EXPECT_NE(daemon().log().find("TLS certificate reloaded"), std::string::npos);
}

TEST_F(TlsTest, SighupWithABrokenCertificateKeepsTheWorkingOne) {
  start_tls_daemon();
  std::filesystem::copy_file(pki_.broken_cert(), cert_path(),
                             std::filesystem::copy_options::overwrite_existing);
  reload();
  EXPECT_TRUE(daemon().running());
  EXPECT_TRUE(is_accepted(post_https(pki_.first().ca_cert)));
  EXPECT_NE(daemon().log().find("TLS reload failed"), std::string::npos) << daemon().log();
}

TEST_F(TlsTest, CheckConfigRejectsAKeyThatDoesNotMatchTheCertificate) {
  TempDir scratch("gpsrelay-tls-check");
  const auto config = scratch.write_file(
      "gpsrelay.conf", "[http]\nlisten = 127.0.0.1:" + std::to_string(pick_free_port()) +
                           "\ntls_listen = 127.0.0.1:" + std::to_string(tls_port_) +
                           "\ntls_cert = " + pki_.first().cert.string() +
                           "\ntls_key = " + pki_.second().key.string() + "\n");
  const CommandResult result =
      run_gpsrelayd({"--check-config", "-c", config.string()}, scratch.path());
  ASSERT_TRUE(result.status.has_value());
  EXPECT_TRUE(result.status->exited_with(1)) << *result.status << result.err;
  EXPECT_NE(result.err.find("mismatch"), std::string::npos) << result.err;

  const auto good = scratch.write_file(
      "good.conf", "[http]\nlisten = 127.0.0.1:" + std::to_string(pick_free_port()) +
                       "\ntls_listen = 127.0.0.1:" + std::to_string(tls_port_) +
                       "\ntls_cert = " + pki_.first().cert.string() +
                       "\ntls_key = " + pki_.first().key.string() + "\n");
  const CommandResult ok = run_gpsrelayd({"--check-config", "-c", good.string()}, scratch.path());
  ASSERT_TRUE(ok.status.has_value());
  EXPECT_TRUE(ok.status->exited_with(0)) << *ok.status << ok.err;
}

TEST_F(TlsTest, StartingWithABrokenCertificateIsAConfigurationError) {
  TempDir scratch("gpsrelay-tls-start");
  const auto config = scratch.write_file(
      "gpsrelay.conf", "[http]\nlisten = 127.0.0.1:" + std::to_string(pick_free_port()) +
                           "\ntls_listen = 127.0.0.1:" + std::to_string(tls_port_) +
                           "\ntls_cert = " + pki_.broken_cert().string() + "\ntls_key = " +
                           pki_.first().key.string() + "\n[redis]\naddress = " + redis().address() +
                           "\n[log]\ntarget = stderr\n");
  const CommandResult result = run_gpsrelayd({"-c", config.string()}, scratch.path());
  ASSERT_TRUE(result.status.has_value()) << "still running with a broken certificate";
  EXPECT_TRUE(result.status->exited_with(1)) << *result.status << result.err;
  EXPECT_NE(result.err.find("http.tls_cert"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace gpsrelay::testing
