// libFuzzer target for the HTTP request path: each input is sent as raw
// bytes over a loopback TCP connection to a real IngestWorker (evhttp's
// parser, our routing, header checks, body limits, JSON scan and response
// writing), running on its own thread as in the daemon. Redis is
// deliberately unreachable, so an ingest request that passes every check
// ends in 503: the fuzzer explores what comes before the XADD. A crash, a
// sanitizer report or a hang (the worker stops answering) fails the run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/config.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/ingest_worker.h"
#include "ingest/ingest_module.h"

namespace {

using gpsrelay::core::Config;

std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bind(fd, reinterpret_cast<sockaddr*>(&address), length);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

struct Server {
  Server() : metrics(1) {
    gpsrelay::core::log_init(gpsrelay::core::LogLevel::kError, gpsrelay::core::LogTarget::kStderr);
    gpsrelay::core::enable_libevent_threads();
    config.http.listen = {"127.0.0.1", free_port(), ""};
    config.http.threads = 1;
    config.http.max_body_bytes = 4096;
    config.http.request_timeout = std::chrono::milliseconds(2000);
    config.redis.address = {"127.0.0.1", 1, ""};  // nothing listens on port 1
    serving = true;
    budgets = std::make_unique<gpsrelay::http::EdgeBudgets>(config.http);
    ingest = std::make_unique<gpsrelay::ingest::IngestModule>(config.http);
    worker = std::make_unique<gpsrelay::http::IngestWorker>(
        config, 0,
        gpsrelay::http::WorkerContext{metrics,
                                      nullptr,
                                      serving,
                                      nullptr,
                                      nullptr,
                                      nullptr,
                                      *budgets,
                                      [] { return gpsrelay::http::HealthSnapshot{}; },
                                      {ingest.get()}});
    worker->start();
  }
  // At exit: drain and join the worker thread like the daemon does.
  ~Server() { worker->request_stop(); }

  Config config;
  std::unique_ptr<gpsrelay::http::EdgeBudgets> budgets;
  std::unique_ptr<gpsrelay::ingest::IngestModule> ingest;
  gpsrelay::core::MetricsRegistry metrics;
  std::atomic<bool> serving{false};
  std::unique_ptr<gpsrelay::http::IngestWorker> worker;
};

// Sends `data`, half-closes, and reads until the server closes. Returns
// false if the server neither answers nor closes within the deadline.
bool exchange(std::uint16_t port, const std::uint8_t* data, std::size_t size) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::perror("connect");
    std::abort();
  }
  std::size_t sent = 0;
  while (sent < size) {
    const ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (413, 400): fine
    sent += static_cast<std::size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  char buffer[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    closed = n <= 0;
  }
  close(fd);
  return closed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Server server;
  if (!exchange(server.config.http.listen.port, data, size)) {
    std::fprintf(stderr, "the worker neither answered nor closed within 5 s\n");
    std::abort();
  }
  return 0;
}
