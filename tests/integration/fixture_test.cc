// Tests of the integration-test support library itself, against real
// processes (redis-server, /bin/sh) and a tiny in-process HTTP responder.
// They need no gpsrelayd, so a broken fixture shows up here rather than as a
// puzzling daemon failure.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

#include "support/child_process.h"
#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/http_client.h"
#include "support/notify_socket.h"
#include "support/ports.h"
#include "support/prometheus.h"
#include "support/redis_server.h"
#include "support/temp_dir.h"
#include "support/unique_fd.h"

namespace gpsrelay::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(TempDirTest, IsRemovedWithItsContents) {
  std::filesystem::path kept;
  {
    TempDir dir;
    kept = dir.path();
    dir.write_file("a.txt", "hello");
    std::filesystem::create_directories(dir.file("sub/deeper"));
    EXPECT_EQ(read_file(dir.file("a.txt")), "hello");
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}

TEST(PortsTest, NeverHandsOutTheSamePortTwice) {
  std::set<int> ports;
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(ports.insert(pick_free_port()).second);
}

TEST(ChildProcessTest, ReportsExitCodeAndCapturesOutputAndEnvironment) {
  TempDir dir;
  SpawnOptions options;
  options.argv = {"sh", "-c", "echo out:$FIXTURE_VALUE; echo err >&2; exit 3"};
  options.env = {{"FIXTURE_VALUE", "42"}};
  const CommandResult result = run_command(options, dir.path(), seconds(10));
  ASSERT_TRUE(result.status.has_value());
  EXPECT_TRUE(result.status->exited_with(3)) << *result.status;
  EXPECT_EQ(result.out, "out:42\n");
  EXPECT_EQ(result.err, "err\n");
}

TEST(ChildProcessTest, DropsInheritedVariablesByPrefix) {
  ::setenv("GPSRELAY_FIXTURE_LEAK", "leaked", 1);
  TempDir dir;
  SpawnOptions options;
  options.argv = {"sh", "-c", "echo \"[$GPSRELAY_FIXTURE_LEAK]\""};
  options.drop_env_prefixes = {"GPSRELAY_"};
  const CommandResult result = run_command(options, dir.path(), seconds(10));
  ::unsetenv("GPSRELAY_FIXTURE_LEAK");
  EXPECT_EQ(result.out, "[]\n");
}

TEST(ChildProcessTest, MissingBinaryThrows) {
  SpawnOptions options;
  options.argv = {"/nonexistent/gpsrelay-fixture-binary"};
  EXPECT_THROW(ChildProcess child(options), std::runtime_error);
}

TEST(ChildProcessTest, WaitTimesOutThenSignalEndsTheChild) {
  SpawnOptions options;
  options.argv = {"sleep", "30"};
  ChildProcess child(options);
  EXPECT_TRUE(child.running());
  EXPECT_FALSE(child.wait_for(milliseconds(100)).has_value());
  const auto start = Clock::now();
  child.send_signal(SIGTERM);
  const auto status = child.wait_for(seconds(5));
  ASSERT_TRUE(status.has_value());
  EXPECT_FALSE(status->exited);
  EXPECT_EQ(status->signal, SIGTERM);
  EXPECT_LT(elapsed_since(start), seconds(2));
}

TEST(ChildProcessTest, DestructorKillsTheWholeProcessGroup) {
  TempDir dir;
  pid_t grandchild = 0;
  {
    SpawnOptions options;
    // The shell starts a background sleep and reports its pid, like a server
    // forking a helper.
    options.argv = {"sh", "-c", "sleep 30 & echo $! > " + dir.file("pid").string() + "; wait"};
    ChildProcess child(options);
    ASSERT_TRUE(eventually([&] { return !read_file(dir.file("pid")).empty(); }, seconds(5)));
    grandchild = std::stoi(read_file(dir.file("pid")));
  }
  // The grandchild was reparented; its new parent may reap it late, so a
  // zombie counts as gone.
  const auto gone = [&] {
    const std::string stat = read_file("/proc/" + std::to_string(grandchild) + "/stat");
    const auto state = stat.rfind(") ");
    return stat.empty() || (state != std::string::npos && stat[state + 2] == 'Z');
  };
  EXPECT_TRUE(eventually(gone, seconds(5)));
}

TEST(NotifySocketTest, CollectsDatagramsAndWaitsForOne) {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  UniqueFd sender(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, notify.path().c_str());
  // More datagrams than the kernel queues by default (max_dgram_qlen 10):
  // the reader thread must keep up so the sender never blocks.
  for (int i = 0; i < 50; ++i) {
    const std::string message = i == 49 ? "READY=1\nSTATUS=up" : "WATCHDOG=1";
    ASSERT_EQ(::sendto(sender.get(), message.data(), message.size(), 0,
                       reinterpret_cast<const sockaddr*>(&address), sizeof(address)),
              static_cast<ssize_t>(message.size()));
  }
  const auto ready = notify.wait_for("READY=1", seconds(5));
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(*ready, 49u);
  EXPECT_EQ(notify.count("WATCHDOG=1"), 49u);
  EXPECT_FALSE(notify.wait_for("STOPPING=1", milliseconds(50)).has_value());
}

TEST(RedisServerTest, StoresStreamEntriesAndKeepsThemAcrossAKill) {
  RedisServer redis;
  RedisClient client = redis.client();
  const std::string payload = std::string("{\"k\":\"\xC3\xA9\"}\0tail", 15);
  const std::string id = client.xadd("gps:reports", {{"payload", payload}, {"request_id", "r1"}});
  EXPECT_EQ(client.xlen("gps:reports"), 1);

  redis.kill();
  EXPECT_FALSE(client.ping());
  redis.restart();

  const auto entries = client.xrange("gps:reports");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, id);
  EXPECT_EQ(entries[0].fields.at("payload"), payload);
  EXPECT_EQ(entries[0].fields.at("request_id"), "r1");
}

TEST(RedisServerTest, PasswordIsRequiredWhenSet) {
  RedisServerOptions options;
  options.password = "s3cret";
  RedisServer redis(options);
  EXPECT_TRUE(redis.client().ping());
  RedisClient anonymous("127.0.0.1", redis.port());
  EXPECT_THROW(anonymous.xlen("gps:reports"), std::runtime_error);
}

// A keep-alive HTTP/1.1 responder: answers every request with 200, echoes the
// body, and reports the request's X-Request-ID and method back as headers.
class EchoServer {
 public:
  EchoServer() : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(listener_.get(), 128) != 0) {
      throw std::runtime_error("EchoServer: bind/listen failed");
    }
    socklen_t length = sizeof(address);
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~EchoServer() {
    stopping_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    acceptor_.join();
    for (auto& connection : connections_) connection.join();
  }
  int port() const { return port_; }
  int connections_accepted() const { return accepted_; }

 private:
  void accept_loop() {
    while (!stopping_) {
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      ++accepted_;
      connections_.emplace_back([this, fd] { serve(UniqueFd(fd)); });
    }
  }
  void serve(UniqueFd fd) {
    std::string buffer;
    char chunk[16384];
    while (true) {
      size_t end = buffer.find("\r\n\r\n");
      while (end == std::string::npos) {
        const ssize_t got = ::recv(fd.get(), chunk, sizeof(chunk), 0);
        if (got <= 0) return;
        buffer.append(chunk, static_cast<size_t>(got));
        end = buffer.find("\r\n\r\n");
      }
      const std::string head = buffer.substr(0, end);
      size_t length = 0;
      std::string request_id;
      for (const char* name : {"Content-Length: ", "content-length: "}) {
        if (auto at = head.find(name); at != std::string::npos) {
          length = std::stoul(head.substr(at + std::strlen(name)));
        }
      }
      if (auto at = head.find("X-Request-ID: "); at != std::string::npos) {
        request_id = head.substr(at + 14, head.find("\r\n", at) - at - 14);
      }
      while (buffer.size() < end + 4 + length) {
        const ssize_t got = ::recv(fd.get(), chunk, sizeof(chunk), 0);
        if (got <= 0) return;
        buffer.append(chunk, static_cast<size_t>(got));
      }
      const std::string body = buffer.substr(end + 4, length);
      buffer.erase(0, end + 4 + length);
      const std::string response =
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nX-Method: " + head.substr(0, head.find(' ')) + "\r\nX-Request-ID: " + request_id +
          "\r\n\r\n" + body;
      if (::send(fd.get(), response.data(), response.size(), MSG_NOSIGNAL) < 0) return;
    }
  }

  UniqueFd listener_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // joined in the destructor
};

TEST(HttpClientTest, SingleRequestReturnsStatusBodyAndLowerCasedHeaders) {
  EchoServer server;
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/x";
  const HttpResponse response =
      http_request("PUT", url, "{\"a\":1}", {"X-Request-ID: abc", "Content-Type:"});
  ASSERT_TRUE(response.completed()) << response;
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "{\"a\":1}");
  EXPECT_EQ(response.header("x-method"), "PUT");
  EXPECT_EQ(response.header("X-Request-Id"), "abc");
}

TEST(HttpClientTest, RefusedConnectionIsAnErrorNotAThrow) {
  const int port = pick_free_port();  // nothing listens there
  const HttpResponse response = http_get("http://127.0.0.1:" + std::to_string(port) + "/");
  EXPECT_FALSE(response.completed());
  EXPECT_EQ(response.status, 0);
  EXPECT_FALSE(response.error.empty());
}

TEST(HttpClientTest, ConcurrentPostsKeepOrderAndBoundConnections) {
  EchoServer server;
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  std::vector<std::string> bodies;
  for (int i = 0; i < 300; ++i) bodies.push_back("{\"seq\":" + std::to_string(i) + "}");
  const auto responses = http_post_concurrently(url, bodies, 10);
  ASSERT_EQ(responses.size(), bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) {
    ASSERT_EQ(responses[i].status, 200) << responses[i];
    EXPECT_EQ(responses[i].body, bodies[i]);
  }
  EXPECT_LE(server.connections_accepted(), 10);
}

TEST(HttpClientTest, LoadGeneratorRunsUntilStopped) {
  EchoServer server;
  LoadGenerator load("http://127.0.0.1:" + std::to_string(server.port()) + "/", 4);
  EXPECT_TRUE(eventually([&] { return load.ok_count() >= 100; }, seconds(10)));
  load.stop();
  const size_t finished = load.finished_count();
  EXPECT_EQ(load.results().size(), finished);
  EXPECT_GE(load.ok_count(), 100u);
}

TEST(HttpClientTest, RawConnectionReadsOneResponse) {
  EchoServer server;
  RawConnection raw(server.port());
  ASSERT_TRUE(raw.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
  const std::string response = raw.read_response(seconds(5));
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200")) << response;
  EXPECT_TRUE(response.ends_with("\r\n\r\n{}")) << response;
}

TEST(PrometheusTest, ParsesSamplesLabelsAndTypes) {
  const MetricsPage page = parse_metrics(
      "# HELP gpsrelay_http_requests_total Requests.\n"
      "# TYPE gpsrelay_http_requests_total counter\n"
      "gpsrelay_http_requests_total{code=\"200\",path=\"/a\"} 3\n"
      "gpsrelay_http_requests_total{code=\"200\",path=\"/b\"} 4 1700000000000\n"
      "gpsrelay_http_requests_total{code=\"400\"} 1\n"
      "# TYPE gpsrelay_http_request_duration_seconds histogram\n"
      "gpsrelay_http_request_duration_seconds_bucket{le=\"+Inf\"} 8\n"
      "gpsrelay_redis_up 1\n"
      "gpsrelay_odd{msg=\"a \\\"quoted\\\" , } value\"} NaN\n");
  EXPECT_TRUE(page.malformed_lines.empty());
  EXPECT_EQ(page.sum("gpsrelay_http_requests_total", {{"code", "200"}}), 7);
  EXPECT_EQ(page.sum("gpsrelay_http_requests_total"), 8);
  EXPECT_EQ(page.sum("gpsrelay_http_request_duration_seconds_bucket", {{"le", "+Inf"}}), 8);
  EXPECT_EQ(page.sum("gpsrelay_redis_up"), 1);
  EXPECT_FALSE(page.sum("gpsrelay_missing").has_value());
  EXPECT_EQ(page.types.at("gpsrelay_http_request_duration_seconds"), "histogram");
  ASSERT_EQ(page.find("gpsrelay_odd").size(), 1u);
  EXPECT_EQ(page.find("gpsrelay_odd")[0].labels.at("msg"), "a \"quoted\" , } value");
}

TEST(DaemonConfigTest, RendersSectionsInFirstSetOrderWithOverrides) {
  DaemonConfig config = DaemonProcess::default_config(8080, "127.0.0.1:6379");
  config.merge({{"http", "threads", "1"}, {"redis", "stream", "s"}});
  EXPECT_EQ(config.render(),
            "# written by the gpsrelay integration tests\n"
            "[http]\nlisten = 127.0.0.1:8080\nthreads = 1\n"
            "[redis]\naddress = 127.0.0.1:6379\nstream = s\n"
            "[log]\nlevel = debug\ntarget = stderr\n");
}

}  // namespace
}  // namespace gpsrelay::testing
