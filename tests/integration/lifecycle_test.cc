// Lifecycle of gpsrelayd as systemd runs it: sd_notify READY/STOPPING/
// RELOADING/WATCHDOG, SIGTERM (idle and under load, without losing an
// acknowledged report), a Redis crash and its return, a daemon started before
// Redis, and the command line (--check-config, --version, bad config).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/gpsrelay_fixture.h"
#include "support/http_client.h"
#include "support/ports.h"
#include "support/temp_dir.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kReport = R"({"device":"truck-7","lat":52.520008,"lon":13.404954})";

class LifecycleTest : public GpsrelayTest {};

TEST_F(LifecycleTest, NotifiesReadyThenStoppingAndExitsZeroOnSigterm) {
  DaemonProcess& gpsrelayd = start_daemon();
  const auto ready = gpsrelayd.notify().wait_for("READY=1", milliseconds(0));
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(http_get(gpsrelayd.url("/ready")).status, 200);

  const DaemonProcess::StopResult stopped = gpsrelayd.stop();
  ASSERT_TRUE(stopped.status.has_value()) << "still running 15 s after SIGTERM";
  EXPECT_TRUE(stopped.status->exited_with(0)) << *stopped.status;
  EXPECT_LT(stopped.elapsed, seconds(10));
  // Sent before the exit; the reader thread may pick it up a moment later.
  EXPECT_TRUE(gpsrelayd.notify().wait_for("STOPPING=1", seconds(2), *ready + 1).has_value())
      << gpsrelayd.notify().describe();
}

TEST_F(LifecycleTest, SigtermUnderLoadKeepsEveryAcknowledgedReport) {
  DaemonProcess& gpsrelayd = start_daemon();
  LoadGenerator load(gpsrelayd.ingest_url(), 8);
  ASSERT_TRUE(eventually([&] { return load.ok_count() >= 200; }, seconds(20)))
      << "load never got going: " << load.ok_count() << " accepted";

  const DaemonProcess::StopResult stopped = gpsrelayd.stop();
  load.stop();
  ASSERT_TRUE(stopped.status.has_value()) << "still running 15 s after SIGTERM";
  EXPECT_TRUE(stopped.status->exited_with(0)) << *stopped.status;
  EXPECT_LT(stopped.elapsed, seconds(10));

  std::set<std::string> stored;
  for (const auto& entry : stream_entries()) stored.insert(entry.id);
  size_t acknowledged = 0;
  size_t lost = 0;
  for (const auto& response : load.results()) {
    if (response.status == 200) {
      ++acknowledged;
      if (!stored.contains(message_id_of(response)) && ++lost <= 5) {
        ADD_FAILURE() << "acknowledged but not in the stream: " << response;
      }
    } else if (response.status != 0) {
      // While stopping, a request may be refused (503) but never fail (500).
      EXPECT_EQ(response.status, 503) << response;
    }
  }
  EXPECT_EQ(lost, 0u) << "of " << acknowledged << " acknowledged reports";
  // An XADD may have landed for a request whose answer was cut off, so the
  // stream can hold more than was acknowledged, never less.
  EXPECT_GE(stored.size(), acknowledged);
}

TEST_F(LifecycleTest, SigtermExitsInTimeDespiteIdleAndStalledClients) {
  DaemonProcess& gpsrelayd = start_daemon();
  RawConnection idle(gpsrelayd.port());
  RawConnection stalled(gpsrelayd.port());
  stalled.send(
      "POST /api/gps/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"lat\":");
  const DaemonProcess::StopResult stopped = gpsrelayd.stop();
  ASSERT_TRUE(stopped.status.has_value()) << "still running 15 s after SIGTERM";
  EXPECT_TRUE(stopped.status->exited_with(0)) << *stopped.status;
  EXPECT_LT(stopped.elapsed, seconds(10));
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(LifecycleTest, RedisOutageAnswers503FastThenRecoversWithoutRestart) {
  // With everysec, Redis may hold an acknowledged write in memory for up to
  // two seconds when a background fsync is slow (a busy disk), and lose it
  // to the kill below; the promise checked here is gpsrelayd's, not that.
  redis().client().command({"CONFIG", "SET", "appendfsync", "always"});
  DaemonProcess& gpsrelayd = start_daemon();
  const HttpResponse before = post_report(std::string(kReport));
  ASSERT_TRUE(is_accepted(before));

  redis().kill();
  const auto killed_at = Clock::now();
  for (int i = 0; i < 3; ++i) {
    const HttpResponse response = http_request("POST", gpsrelayd.ingest_url(), std::string(kReport),
                                               kJsonContentType, seconds(5));
    EXPECT_TRUE(is_json_error(response, 503)) << "request " << i;
    EXPECT_TRUE(is_delay_seconds(response.header("Retry-After"))) << response;
  }
  EXPECT_LE(elapsed_since(killed_at), seconds(2)) << "503s must come fast, not after a hang";

  const HttpResponse health = http_get(gpsrelayd.url("/health"));
  EXPECT_EQ(health.status, 503) << health;
  EXPECT_NE(health_state(health.body, "redis"), "up") << health;
  EXPECT_TRUE(
      eventually([&] { return scrape_metrics().sum("gpsrelay_redis_up") == 0; }, seconds(2)));

  redis().restart();
  HttpResponse after;
  EXPECT_TRUE(eventually(
      [&] {
        after = http_request("POST", gpsrelayd.ingest_url(), std::string(kReport), kJsonContentType,
                             seconds(2));
        return after.status == 200;
      },
      seconds(15), milliseconds(100)))
      << "not accepting again 15 s after Redis came back; last answer: " << after;
  ASSERT_TRUE(is_accepted(after));
  EXPECT_TRUE(gpsrelayd.running());

  EXPECT_TRUE(eventually(
      [&] {
        const MetricsPage page = scrape_metrics();
        return page.sum("gpsrelay_redis_up") == 1 &&
               page.sum("gpsrelay_redis_reconnects_total").value_or(0) >= 1;
      },
      seconds(2)));
  EXPECT_TRUE(
      eventually([&] { return http_get(gpsrelayd.url("/health")).status == 200; }, seconds(2)));

  // The report from before the crash survived in the append-only file, the
  // new one joined it, and none of the refused ones was written late.
  std::set<std::string> stored;
  for (const auto& entry : stream_entries()) stored.insert(entry.id);
  EXPECT_TRUE(stored.contains(message_id_of(before)));
  EXPECT_TRUE(stored.contains(message_id_of(after)));
  EXPECT_EQ(stored.size(), 2u);
}

TEST_F(LifecycleTest, SendsWatchdogPingsWhenWatchdogUsecIsSet) {
  DaemonProcess& gpsrelayd = start_daemon({}, {{"WATCHDOG_USEC", "500000"}});
  const auto first = gpsrelayd.wait_for_notification("WATCHDOG=1", seconds(2));
  ASSERT_TRUE(first.has_value()) << gpsrelayd.notify().describe();
  // Not a one-off: a second ping well within the 500 ms interval's reach.
  EXPECT_TRUE(gpsrelayd.wait_for_notification("WATCHDOG=1", seconds(2), *first + 1).has_value())
      << gpsrelayd.notify().describe();
}

TEST_F(LifecycleTest, SighupReloadsAndKeepsServing) {
  DaemonProcess& gpsrelayd = start_daemon();
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("SIGHUP #" + std::to_string(round + 1));
    const size_t from = gpsrelayd.notify().size();
    gpsrelayd.send_signal(SIGHUP);
    const auto reloading = gpsrelayd.wait_for_notification("RELOADING=1", seconds(5), from);
    ASSERT_TRUE(reloading.has_value()) << gpsrelayd.notify().describe();
    EXPECT_TRUE(gpsrelayd.wait_for_notification("READY=1", seconds(5), *reloading).has_value())
        << gpsrelayd.notify().describe();
    EXPECT_TRUE(gpsrelayd.running());
    EXPECT_TRUE(is_accepted(post_report(std::string(kReport))));
    EXPECT_EQ(http_get(gpsrelayd.url("/ready")).status, 200);
  }
  EXPECT_EQ(stream_length(), 2);
}

TEST_F(LifecycleTest, EnvironmentVariableOverridesAConfigKey) {
  start_daemon({{"redis", "stream", "from:file"}}, {{"GPSRELAY_REDIS_STREAM", "from:env"}});
  ASSERT_TRUE(is_accepted(post_report(std::string(kReport))));
  EXPECT_EQ(stream_length("from:env"), 1);
  EXPECT_EQ(stream_length("from:file"), 0);
}

TEST_F(LifecycleTest, WaitsForRedisBeforeReady) {
  const int redis_port = pick_free_port();  // nothing listens there yet
  DaemonOptions options;
  options.wait_for_ready = false;
  DaemonProcess gpsrelayd("127.0.0.1:" + std::to_string(redis_port), options);

  // Absence can only be checked for a while: 1.5 s covers several
  // reconnect attempts.
  EXPECT_FALSE(gpsrelayd.wait_for_notification("READY=1", milliseconds(1500)).has_value());
  ASSERT_TRUE(gpsrelayd.running()) << "gave up instead of waiting for Redis";
  EXPECT_NE(http_get(gpsrelayd.url("/ready"), seconds(2)).status, 200);

  RedisServerOptions late_options;
  late_options.port = redis_port;
  RedisServer late_redis(late_options);
  ASSERT_TRUE(gpsrelayd.wait_for_notification("READY=1", seconds(15)).has_value())
      << "no READY=1 within 15 s of Redis starting";
  const HttpResponse response =
      http_request("POST", gpsrelayd.ingest_url(), std::string(kReport), kJsonContentType);
  EXPECT_TRUE(is_accepted(response));
  EXPECT_EQ(late_redis.client().xlen(kDefaultStream), 1);
}

// The command-line modes need no Redis: a valid config is only parsed.
class CommandLineTest : public ::testing::Test {
 protected:
  // A config that is valid except for what a test adds.
  DaemonConfig valid_config() const {
    return DaemonProcess::default_config(8080, "127.0.0.1:6379");
  }

  TempDir dir_{"gpsrelay-cli"};
};

std::string describe(const CommandResult& result) {
  return "status: " + (result.status ? result.status->describe() : "timed out") + "\nstdout:\n" +
         result.out + "\nstderr:\n" + result.err;
}

TEST_F(CommandLineTest, CheckConfigAcceptsAValidFileAndMasksSecrets) {
  DaemonConfig config = valid_config();
  config.set("redis", "password", "s3cret");
  const auto path = dir_.write_file("gpsrelay.conf", config.render());
  const CommandResult result = run_gpsrelayd({"--check-config", "-c", path.string()}, dir_.path());
  ASSERT_TRUE(result.status.has_value()) << describe(result);
  EXPECT_TRUE(result.status->exited_with(0)) << describe(result);
  EXPECT_EQ(result.out.find("s3cret"), std::string::npos) << describe(result);
  EXPECT_EQ(result.err.find("s3cret"), std::string::npos) << describe(result);
  EXPECT_NE(result.out.find("********"), std::string::npos) << describe(result);
  // The effective configuration, not just "OK".
  EXPECT_NE(result.out.find("127.0.0.1:8080"), std::string::npos) << describe(result);
}

TEST_F(CommandLineTest, CheckConfigDoesNotPrintASecretReadFromAFile) {
  const auto secret = dir_.write_file("redis-password", "f1lesecret\n");
  DaemonConfig config = valid_config();
  config.set("redis", "password_file", secret.string());
  const auto path = dir_.write_file("gpsrelay.conf", config.render());
  const CommandResult result = run_gpsrelayd({"--check-config", "-c", path.string()}, dir_.path());
  ASSERT_TRUE(result.status.has_value()) << describe(result);
  EXPECT_TRUE(result.status->exited_with(0)) << describe(result);
  EXPECT_EQ((result.out + result.err).find("f1lesecret"), std::string::npos) << describe(result);
}

TEST_F(CommandLineTest, CheckConfigRejectsErrorsNamingFileAndLine) {
  struct Case {
    const char* what;
    std::string text;
    std::vector<int> lines;  // where the error may be reported
  };
  const std::string head =
      "[http]\n"                     // 1
      "listen = 127.0.0.1:8080\n"    // 2
      "[redis]\n"                    // 3
      "address = 127.0.0.1:6379\n";  // 4
  const std::vector<Case> cases = {
      {"unknown key", head + "retries = 3\n", {5}},
      // The section header, or the first key under it.
      {"unknown section", head + "# comment\n[nosuch]\nkey = 1\n", {6, 7}},
      {"malformed duration", "[http]\nrequest_timeout = 5 parsecs\n", {2}},
      {"malformed size", "[http]\nlisten = 127.0.0.1:8080\nmax_body_size = 1q\n", {3}},
      {"malformed number", "[http]\nthreads = many\n", {2}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const auto path = dir_.write_file("bad.conf", c.text);
    const CommandResult result =
        run_gpsrelayd({"--check-config", "-c", path.string()}, dir_.path());
    ASSERT_TRUE(result.status.has_value()) << describe(result);
    EXPECT_TRUE(result.status->exited_with(1)) << describe(result);
    bool located = false;
    for (int line : c.lines) {
      located |=
          result.err.find(path.string() + ":" + std::to_string(line) + ":") != std::string::npos;
    }
    EXPECT_TRUE(located) << "expected " << path.string() << ":" << c.lines.front()
                         << ": on stderr; " << describe(result);
  }
}

TEST_F(CommandLineTest, VersionExitsZero) {
  const CommandResult result = run_gpsrelayd({"--version"}, dir_.path());
  ASSERT_TRUE(result.status.has_value()) << describe(result);
  EXPECT_TRUE(result.status->exited_with(0)) << describe(result);
  EXPECT_FALSE(result.out.empty()) << describe(result);
}

TEST_F(CommandLineTest, DaemonWithBadConfigExitsWithStatus1) {
  DaemonOptions options;
  options.wait_for_ready = false;
  options.config.set("http", "no_such_key", "1");
  DaemonProcess gpsrelayd("127.0.0.1:6379", options);
  const auto status = gpsrelayd.wait_for_exit(seconds(5));
  ASSERT_TRUE(status.has_value()) << "still running with a bad config";
  EXPECT_TRUE(status->exited_with(1)) << *status;
  EXPECT_FALSE(gpsrelayd.notify().wait_for("READY=1", milliseconds(0)).has_value());
}

}  // namespace
}  // namespace gpsrelay::testing
