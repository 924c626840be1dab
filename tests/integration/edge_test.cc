// The HTTP edge against hostile clients, with a real gpsrelayd and
// redis-server: a request trickled byte by byte meets its deadline; idle
// kept-alive connections are closed after keepalive_timeout (and only
// then); connections beyond max_connections are closed at once; request
// bytes beyond max_inflight_bytes get 503; running out of file descriptors
// neither spins a core nor floods the log; and the request-smuggling and
// unknown-method shapes are answered as the contract says.
//
// Timings use bounds several times the configured values: they tell a
// mechanism that works from one that does not, never fast from slow.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.h"
#include "support/gpsrelay_fixture.h"
#include "support/http_client.h"
#include "support/prometheus.h"
#include "support/temp_dir.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class EdgeTest : public GpsrelayTest {};

constexpr std::string_view kReport = R"({"device":"truck-7","lat":52.5,"lon":13.4})";

std::string post_head(std::size_t content_length, std::string_view extra_headers = "") {
  return "POST /api/gps/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(content_length) + "\r\n" + std::string(extra_headers) + "\r\n";
}

std::string full_post(std::string_view body, std::string_view extra_headers = "") {
  return post_head(body.size(), extra_headers) + std::string(body);
}

// User plus system CPU time the process has used, from /proc/PID/stat.
milliseconds cpu_time(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start past ')'.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  long long ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stoll(field);  // utime, stime
  }
  return milliseconds(ticks * 1000 / sysconf(_SC_CLK_TCK));
}

TEST_F(EdgeTest, TrickledRequestMeetsItsDeadlineWith408) {
  // evhttp's own timer restarts with every byte; a byte every 200 ms would
  // keep the connection forever under keepalive_timeout alone.
  start_daemon({{"http", "request_timeout", "1s"}, {"http", "keepalive_timeout", "30s"}});
  RawConnection slow(daemon().port());
  const std::string request = full_post(kReport);
  const auto started = Clock::now();
  std::size_t sent = 0;
  while (sent < request.size() && Clock::now() - started < seconds(6)) {
    if (!slow.send(request.substr(sent, 1))) break;
    ++sent;
    std::this_thread::sleep_for(milliseconds(200));
  }
  const HttpResponse response = parse_http_response(slow.read_response(seconds(2)));
  const auto elapsed = Clock::now() - started;
  EXPECT_TRUE(is_json_error(response, 408)) << response;
  EXPECT_EQ(response.header("Connection"), "close");
  EXPECT_TRUE(slow.wait_for_peer_close(seconds(2)));
  EXPECT_LT(elapsed, seconds(4)) << "the deadline is 1 s from the first byte";
  EXPECT_LT(sent, request.size());
  EXPECT_EQ(stream_length(), 0);
  EXPECT_GE(scrape_metrics().sum("gpsrelay_http_requests_timed_out_total").value_or(0), 1);
  EXPECT_TRUE(is_accepted(post_report(std::string(kReport))));
}

TEST_F(EdgeTest, KeptAliveConnectionMayIdleLongerThanTheRequestDeadline) {
  start_daemon({{"http", "request_timeout", "500ms"}, {"http", "keepalive_timeout", "30s"}});
  RawConnection connection(daemon().port());
  ASSERT_TRUE(connection.send(full_post(kReport)));
  EXPECT_EQ(parse_http_response(connection.read_response(seconds(5))).status, 200);
  // Idle between requests is keepalive_timeout's business, not the deadline's.
  std::this_thread::sleep_for(milliseconds(1500));
  ASSERT_TRUE(connection.send(full_post(kReport)));
  const HttpResponse second = parse_http_response(connection.read_response(seconds(5)));
  EXPECT_TRUE(is_accepted(second)) << second;
  EXPECT_EQ(stream_length(), 2);
}

TEST_F(EdgeTest, IdleKeptAliveConnectionIsClosedAfterKeepaliveTimeout) {
  // The request deadline is far longer, so only keepalive_timeout can be
  // what closes the connection within the bound below.
  start_daemon({{"http", "request_timeout", "20s"}, {"http", "keepalive_timeout", "1s"}});
  RawConnection connection(daemon().port());
  ASSERT_TRUE(connection.send(full_post(kReport)));
  EXPECT_EQ(parse_http_response(connection.read_response(seconds(5))).status, 200);
  const auto idle_since = Clock::now();
  EXPECT_TRUE(connection.wait_for_peer_close(seconds(5)));
  const auto idle = Clock::now() - idle_since;
  EXPECT_GE(idle, milliseconds(800));
  EXPECT_LT(idle, seconds(4));
}

TEST_F(EdgeTest, ConnectionsBeyondMaxConnectionsAreClosedAtOnce) {
  start_daemon({{"http", "max_connections", "4"}, {"http", "threads", "2"}});
  // Held open (kept alive after one report each), so that they are known
  // to be accepted before the extra ones come.
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawConnection>(daemon().port()));
    ASSERT_TRUE(held.back()->send(full_post(kReport)));
    ASSERT_EQ(parse_http_response(held.back()->read_response(seconds(5))).status, 200);
  }
  // The limit is per listener across both threads' sockets.
  for (int i = 0; i < 3; ++i) {
    RawConnection extra(daemon().port());
    extra.send(full_post(kReport));
    const auto started = Clock::now();
    EXPECT_TRUE(extra.wait_for_peer_close(seconds(2)));
    EXPECT_LT(Clock::now() - started, seconds(1));
  }
  EXPECT_EQ(stream_length(), 4);
  held.pop_back();
  EXPECT_TRUE(eventually(
      [&] {
        RawConnection next(daemon().port());
        next.send(full_post(kReport));
        return parse_http_response(next.read_response(seconds(2))).status == 200;
      },
      seconds(5)));
  held.clear();
  // The held connections' closes reach the daemon's loops a moment later;
  // until then a scrape's own connection may still count as one too many.
  const auto rejected = [&] {
    const HttpResponse response = http_get(daemon().url("/metrics"));
    return response.status == 200 ? parse_metrics(response.body)
                                        .sum("gpsrelay_http_connections_rejected_total")
                                        .value_or(0)
                                  : -1.0;
  };
  double count = -1;
  EXPECT_TRUE(eventually([&] { return (count = rejected()) >= 0; }, seconds(5)));
  EXPECT_GE(count, 3);
}

TEST_F(EdgeTest, InflightBudgetPausesRequestsUnderWayAndRefusesNewOnes) {
  // One thread, so the order in which bytes arrive is the order sent.
  start_daemon({{"http", "max_body_size", "128k"},
                {"http", "max_inflight_bytes", "128k"},
                {"http", "request_timeout", "20s"},
                {"http", "threads", "1"}});
  const auto inflight = [&] {
    return scrape_metrics().sum("gpsrelay_http_inflight_bytes").value_or(0);
  };
  const std::string body(70 * 1024, ' ');
  const std::string upload = post_head(body.size() + 2) + "[" + body;
  RawConnection first(daemon().port());
  ASSERT_TRUE(first.send(upload));
  ASSERT_TRUE(
      eventually([&] { return inflight() > static_cast<double>(upload.size()); }, seconds(5)));
  // Begun with room left, so admitted; its bytes reach past the budget, so
  // it is not read from for now — not refused.
  RawConnection second(daemon().port());
  ASSERT_TRUE(second.send(upload));
  ASSERT_TRUE(eventually(
      [&] { return scrape_metrics().sum("gpsrelay_http_reads_paused_total").value_or(0) >= 1; },
      seconds(5)));
  // A request that begins while the budget is spent is refused.
  RawConnection third(daemon().port());
  third.send(full_post(kReport));
  const HttpResponse refused = parse_http_response(third.read_response(seconds(5)));
  EXPECT_TRUE(is_json_error(refused, 503)) << refused;
  EXPECT_TRUE(is_delay_seconds(refused.header("Retry-After"))) << refused;
  EXPECT_TRUE(third.wait_for_peer_close(seconds(2)));
  EXPECT_EQ(stream_length(), 0);

  // The first completes and gives its bytes back; the second goes on.
  ASSERT_TRUE(first.send("]"));
  EXPECT_TRUE(is_accepted(parse_http_response(first.read_response(seconds(5)))));
  ASSERT_TRUE(second.send("]"));
  const HttpResponse resumed = parse_http_response(second.read_response(seconds(5)));
  EXPECT_TRUE(is_accepted(resumed)) << resumed;
  EXPECT_EQ(stream_length(), 2);
  EXPECT_EQ(scrape_metrics().sum("gpsrelay_http_requests_over_budget_total"), 1);
  // Everything given back (the scrape's own request is in flight).
  EXPECT_TRUE(eventually([&] { return inflight() < 1024; }, seconds(5)));
  EXPECT_TRUE(is_accepted(post_report(std::string(kReport))));
}

// UBSan's vptr check reads an object's vtable only after asking the kernel
// whether the memory is readable, through a pipe(); with no descriptor left
// that probe fails and UBSan reports a bad vptr that is not there. This
// test takes the daemon to exactly that state, so under the sanitizers its
// daemon skips the vptr check (every other test keeps it).
std::map<std::string, std::string> sanitizer_env_without_fds(const TempDir& dir) {
  const char* ubsan = std::getenv("UBSAN_OPTIONS");
  if (ubsan == nullptr) return {};
  const auto suppressions = dir.write_file("ubsan.supp", "vptr_check:*\n");
  return {{"UBSAN_OPTIONS", std::string(ubsan) + ":suppressions=" + suppressions.string()}};
}

TEST_F(EdgeTest, OutOfFileDescriptorsNeitherSpinsNorFloodsTheLog) {
  const TempDir scratch("gpsrelay-emfile");
  start_daemon({{"http", "threads", "1"}}, sanitizer_env_without_fds(scratch));
  const pid_t pid = daemon().process().pid();
  // Room for what the daemon has open now plus a few connections.
  int open_now = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    (void)entry;
    ++open_now;
  }
  const rlimit limit{static_cast<rlim_t>(open_now + 4), static_cast<rlim_t>(open_now + 4)};
  ASSERT_EQ(prlimit(pid, RLIMIT_NOFILE, &limit, nullptr), 0);

  std::vector<std::unique_ptr<RawConnection>> connections;
  for (int i = 0; i < 40; ++i) {
    connections.push_back(std::make_unique<RawConnection>(daemon().port()));
    connections.back()->send(post_head(100));
  }
  const milliseconds cpu_before = cpu_time(pid);
  std::this_thread::sleep_for(seconds(2));
  const milliseconds cpu_used = cpu_time(pid) - cpu_before;
  // A listener retrying accept() in a loop burns the whole 2 s.
  EXPECT_LT(cpu_used, milliseconds(500));
  const std::string log = daemon().log();
  EXPECT_LT(count_occurrences(log, "Too many open files"), 10U);
  EXPECT_EQ(count_occurrences(log, "[warn]"), 0U) << "libevent wrote to stderr itself";

  connections.clear();
  EXPECT_TRUE(
      eventually([&] { return is_accepted(post_report(std::string(kReport))); }, seconds(5)));
  EXPECT_GE(scrape_metrics().sum("gpsrelay_http_accept_pauses_total").value_or(0), 1);
  EXPECT_TRUE(daemon().running());
}

TEST_F(EdgeTest, ConflictingContentLengthsAreRefused) {
  start_daemon();
  RawConnection conflicting(daemon().port());
  conflicting.send(
      "POST /api/gps/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}");
  const HttpResponse refused = parse_http_response(conflicting.read_response(seconds(5)));
  EXPECT_TRUE(is_json_error(refused, 400)) << refused;
  EXPECT_EQ(refused.header("Connection"), "close");
  EXPECT_TRUE(conflicting.wait_for_peer_close(seconds(2)));

  // The same length twice is one length (RFC 9112 6.3 allows accepting it).
  RawConnection repeated(daemon().port());
  repeated.send(
      "POST /api/gps/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_TRUE(is_accepted(parse_http_response(repeated.read_response(seconds(5)))));
  EXPECT_EQ(stream_length(), 1);
}

TEST_F(EdgeTest, ContentLengthWithTransferEncodingIsRefused) {
  start_daemon();
  RawConnection connection(daemon().port());
  connection.send(
      "POST /api/gps/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  const HttpResponse response = parse_http_response(connection.read_response(seconds(5)));
  EXPECT_EQ(response.status, 400) << response;
  EXPECT_EQ(stream_length(), 0);
}

TEST_F(EdgeTest, MethodLibeventDoesNotKnowGets405JsonWithAllow) {
  start_daemon();
  RawConnection connection(daemon().port());
  connection.send("BREW /api/gps/reports HTTP/1.1\r\nHost: x\r\n\r\n");
  const HttpResponse response = parse_http_response(connection.read_response(seconds(5)));
  EXPECT_TRUE(is_json_error(response, 405)) << response;
  EXPECT_NE(response.header("Allow").find("POST"), std::string::npos) << response;
  EXPECT_EQ(response.header("Connection"), "close");
}

}  // namespace
}  // namespace gpsrelay::testing
