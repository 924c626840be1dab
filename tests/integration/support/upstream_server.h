// UpstreamServer: a small real HTTP server standing in for an upstream
// target in forwarding tests. It runs evhttp on its own thread and loopback
// port, records every request it receives, and answers with a status the
// test chooses (a fixed one, or a script consumed one request at a time),
// and can serve a health endpoint apart from the recorded deliveries.
// It can be stopped and started again on the same port to play an outage.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gpsrelay::testing {

struct ReceivedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::chrono::system_clock::time_point received_at;
};

// A certificate and key (PEM files) to serve HTTPS with.
struct UpstreamTls {
  std::string cert;
  std::string key;
};

class UpstreamServer {
 public:
  // port 0 picks a free one. With `tls`, it speaks HTTPS and url() says so.
  explicit UpstreamServer(std::uint16_t port = 0, std::optional<UpstreamTls> tls = std::nullopt);
  ~UpstreamServer();
  UpstreamServer(const UpstreamServer&) = delete;
  UpstreamServer& operator=(const UpstreamServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/ingest") const;

  // The status for requests with no scripted answer left (default 200).
  void set_default_status(int status);
  // Answers the next requests with these statuses, in order.
  void script(std::vector<int> statuses);
  // Answers requests for `path` with `status` at once, outside the script
  // and the recorded requests (a health endpoint).
  void serve_health(std::string path, int status);
  std::size_t health_check_count() const;

  // Delays every answer (to play a slow upstream).
  void set_delay(std::chrono::milliseconds delay);

  // Closes the listener and every connection; start() reopens the port.
  void stop();
  void start();

  std::vector<ReceivedRequest> requests() const;
  std::size_t request_count() const;

 private:
  class Loop;
  friend class Loop;
  int next_status();

  std::uint16_t port_;
  const std::optional<UpstreamTls> tls_;
  mutable std::mutex mutex_;
  std::vector<ReceivedRequest> requests_;
  std::deque<int> script_;
  int default_status_ = 200;
  std::chrono::milliseconds delay_{0};
  std::string health_path_;
  int health_status_ = 200;
  std::size_t health_checks_ = 0;
  std::unique_ptr<Loop> loop_;
};

}  // namespace gpsrelay::testing
