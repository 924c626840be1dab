// Device tokens (auth.mode = token): 401 with WWW-Authenticate and nothing
// stored without a valid token; clear and sha256: lines, both headers;
// tokens file reloaded by SIGHUP; operator endpoints stay open; failures
// counted by reason and rate-limited like any request.
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "support/daemon_process.h"
#include "support/gpsrelay_fixture.h"
#include "support/http_client.h"
#include "support/ports.h"
#include "support/temp_dir.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

constexpr std::string_view kReport = R"({"device":"truck-3","lat":50.1109,"lon":8.6821})";

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  for (const unsigned char byte : digest) {
    char pair[3];
    std::snprintf(pair, sizeof pair, "%02x", byte);
    hex += pair;
  }
  return hex;
}

class AuthTest : public GpsrelayTest {
 protected:
  DaemonProcess& start_with_tokens(const std::string& tokens, DaemonConfig extra = {}) {
    files_.write_file("tokens", tokens);
    DaemonConfig config{{"auth", "mode", "token"},
                        {"auth", "tokens_file", files_.file("tokens").string()}};
    return start_daemon(config.merge(extra));
  }

  HttpResponse post_with(const std::string& header) {
    return post_report(std::string(kReport), {"Content-Type: application/json", header});
  }

  void reload() {
    const size_t from = daemon().notify().size();
    daemon().send_signal(SIGHUP);
    const auto reloading = daemon().wait_for_notification("RELOADING=1", seconds(5), from);
    ASSERT_TRUE(reloading.has_value());
    ASSERT_TRUE(daemon().wait_for_notification("READY=1", seconds(5), *reloading).has_value());
  }

  TempDir files_{"gpsrelay-auth"};
};

TEST_F(AuthTest, NoTokenIs401WithChallengeAndNothingStored) {
  start_with_tokens("# devices\ntoken-alpha\n");
  const HttpResponse response = post_report(std::string(kReport));
  EXPECT_TRUE(is_json_error(response, 401)) << response;
  EXPECT_EQ(response.header("WWW-Authenticate"), "Bearer realm=\"gpsrelay\"");
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(AuthTest, WrongOrMalformedTokenIs401) {
  start_with_tokens("token-alpha\n");
  for (const char* header : {"Authorization: Bearer token-beta", "X-API-Key: token-alph",
                             "Authorization: Basic dXNlcjpwYXNz", "Authorization: Bearer"}) {
    const HttpResponse response = post_with(header);
    EXPECT_TRUE(is_json_error(response, 401)) << header << "\n" << response;
    EXPECT_NE(response.header("WWW-Authenticate").find("invalid_token"), std::string::npos)
        << header;
  }
  EXPECT_EQ(stream_length(), 0);
  const MetricsPage metrics = scrape_metrics();
  EXPECT_EQ(metrics.sum("gpsrelay_auth_failures_total", {{"reason", "unknown"}}), 2);
  EXPECT_EQ(metrics.sum("gpsrelay_auth_failures_total", {{"reason", "malformed"}}), 2);
}

TEST_F(AuthTest, ValidTokenInEitherHeaderClearOrHashedIsAccepted) {
  start_with_tokens("token-alpha\nsha256:" + sha256_hex("token-hashed") + "\n");
  EXPECT_TRUE(is_accepted(post_with("Authorization: Bearer token-alpha")));
  EXPECT_TRUE(is_accepted(post_with("X-API-Key: token-alpha")));
  EXPECT_TRUE(is_accepted(post_with("Authorization: bearer token-hashed")));
  EXPECT_TRUE(is_accepted(post_with("X-API-Key: token-hashed")));
  EXPECT_EQ(stream_length(), 4);
}

TEST_F(AuthTest, OperatorEndpointsNeedNoToken) {
  start_with_tokens("token-alpha\n");
  EXPECT_EQ(http_get(daemon().url("/health")).status, 200);
  EXPECT_EQ(http_get(daemon().url("/ready")).status, 200);
  EXPECT_EQ(http_get(daemon().url("/metrics")).status, 200);
}

TEST_F(AuthTest, SighupReloadsTheTokensFile) {
  start_with_tokens("token-old\n");
  ASSERT_TRUE(is_accepted(post_with("Authorization: Bearer token-old")));
  files_.write_file("tokens", "token-new\n");
  reload();
  EXPECT_TRUE(is_json_error(post_with("Authorization: Bearer token-old"), 401));
  EXPECT_TRUE(is_accepted(post_with("Authorization: Bearer token-new")));
}

TEST_F(AuthTest, BrokenTokensFileOnSighupKeepsTheCurrentTokens) {
  start_with_tokens("token-alpha\n");
  files_.write_file("tokens", "sha256:not-hex\n");
  reload();
  EXPECT_TRUE(is_accepted(post_with("Authorization: Bearer token-alpha")));
  EXPECT_NE(daemon().log().find("tokens reload failed"), std::string::npos) << daemon().log();
}

TEST_F(AuthTest, BurstOfBadTokensFromOneClientIsRateLimited) {
  start_with_tokens("token-alpha\n", {{"http", "rate_limit", "5"}, {"http", "rate_burst", "5"}});
  int unauthorized = 0;
  int limited = 0;
  for (int i = 0; i < 20; ++i) {
    const long status = post_with("Authorization: Bearer guess-" + std::to_string(i)).status;
    unauthorized += status == 401;
    limited += status == 429;
  }
  EXPECT_LE(unauthorized, 7);
  EXPECT_GE(limited, 13);
}

TEST_F(AuthTest, CheckConfigNamesTheBadLineOfTheTokensFile) {
  files_.write_file("tokens", "good-token\nsha256:abc\n");
  const auto config = files_.write_file(
      "gpsrelay.conf",
      "[http]\nlisten = 127.0.0.1:" + std::to_string(pick_free_port()) +
          "\n[auth]\nmode = token\ntokens_file = " + files_.file("tokens").string() + "\n");
  const CommandResult result =
      run_gpsrelayd({"--check-config", "-c", config.string()}, files_.path());
  ASSERT_TRUE(result.status.has_value());
  EXPECT_TRUE(result.status->exited_with(1)) << *result.status << result.err;
  EXPECT_NE(result.err.find(files_.file("tokens").string() + ":2:"), std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace gpsrelay::testing
