// HTTP clients for the tests, all speaking to 127.0.0.1 only:
//  - http_request / http_get: one blocking request through a libcurl easy
//    handle;
//  - http_concurrently / http_post_concurrently: many requests through one
//    curl multi handle over a bounded number of connections;
//  - LoadGenerator: keeps POSTs in flight on a background thread until told
//    to stop, for shutdown-under-load tests;
//  - RawConnection: a plain TCP socket for bytes no HTTP client would send.
// None of them retries or follows redirects: the test sees what the server did.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/unique_fd.h"

namespace gpsrelay::testing {

struct HttpResponse {
  long status = 0;  // 0 when no response arrived
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string error;                           // curl's error when the transfer failed
  std::chrono::milliseconds elapsed{0};

  bool completed() const { return error.empty() && status != 0; }
  // The value of header `name` (any case), or "" when absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

// "HTTP 400 (12 ms) X-Request-ID: ... body: ..." for assertion messages.
std::ostream& operator<<(std::ostream& out, const HttpResponse& response);

// Header lines as curl takes them: "Name: value"; "Name:" removes a header
// curl would add by itself (e.g. "Content-Type:").
using HeaderList = std::vector<std::string>;

inline const HeaderList kJsonContentType = {"Content-Type: application/json"};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::string body;  // sent for every method except GET and HEAD
  HeaderList headers;
  std::chrono::milliseconds timeout{10000};
  // Source address, e.g. "127.0.0.2", to appear as another client on
  // loopback; empty lets the kernel choose (127.0.0.1).
  std::string local_address;
  // For https:// URLs: the CA bundle the server's chain must verify against.
  std::string ca_file;
};

// A POST of `body` to `url`, the other fields at their defaults.
HttpRequest make_post(std::string url, std::string body, HeaderList headers = kJsonContentType);

// Performs one request. Transport failures are reported in
// HttpResponse::error, never thrown. "Expect: 100-continue" is suppressed
// unless `headers` sets Expect.
HttpResponse http_request(const HttpRequest& request);
HttpResponse http_request(std::string method, std::string url, std::string body = {},
                          HeaderList headers = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));
HttpResponse http_get(std::string url,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Performs all `requests` with at most `max_connections` in flight (and open)
// at once, reusing connections. Returns the responses in request order.
// Requests not finished within `overall_timeout` are aborted and carry an
// error.
std::vector<HttpResponse> http_concurrently(
    const std::vector<HttpRequest>& requests, size_t max_connections,
    std::chrono::milliseconds overall_timeout = std::chrono::seconds(120));

// POSTs each body to `url`.
std::vector<HttpResponse> http_post_concurrently(
    const std::string& url, const std::vector<std::string>& bodies, size_t max_connections,
    const HeaderList& headers = kJsonContentType,
    std::chrono::milliseconds overall_timeout = std::chrono::seconds(120));

// POSTs JSON reports {"seq":N,...} to `url` over `connections` parallel
// connections, each starting its next request as soon as one finishes,
// until stop(). After 20 transport errors in a row (the server is gone) it
// stops issuing requests on its own.
class LoadGenerator {
 public:
  // The body of the request with sequence number `sequence` (0, 1, ...).
  using BodyMaker = std::function<std::string(size_t sequence)>;

  // Posts a small GPS report (the default body) over `connections`
  // connections until stopped.
  LoadGenerator(std::string url, size_t connections, HeaderList headers = kJsonContentType,
                BodyMaker make_body = nullptr);
  // Calls stop().
  ~LoadGenerator();

  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Issues no more requests, aborts those in flight, joins the thread.
  // Idempotent.
  void stop();

  size_t ok_count() const { return ok_count_.load(); }
  size_t finished_count() const { return finished_count_.load(); }
  // Every finished (or aborted) request's response so far.
  std::vector<HttpResponse> results() const;

 private:
  void run();

  const std::string url_;
  const size_t connections_;
  const HeaderList headers_;
  const BodyMaker make_body_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> ok_count_{0};
  std::atomic<size_t> finished_count_{0};
  mutable std::mutex mutex_;
  std::vector<HttpResponse> results_;
  std::thread thread_;
};

// Parses a response read by RawConnection: status line, headers (names
// lower-cased), and everything after the header block as the body (chunked
// bodies are not decoded). status is 0 when `raw` is not an HTTP response.
HttpResponse parse_http_response(std::string_view raw);

// A TCP connection to 127.0.0.1 that sends exactly the bytes it is given.
class RawConnection {
 public:
  // Connects; throws std::system_error.
  explicit RawConnection(int port);

  // Sends all of `bytes`. False when the peer closed or reset first.
  bool send(std::string_view bytes);

  // Reads one HTTP response: until the header block and Content-Length bytes
  // of body have arrived, the peer closes, or `timeout`. Returns what arrived
  // (empty when the peer closed without answering).
  std::string read_response(std::chrono::milliseconds timeout);

  // True once a read saw the peer close or reset the connection.
  bool peer_closed() const { return peer_closed_; }

  // Waits up to `timeout` for the peer to close; discards data.
  bool wait_for_peer_close(std::chrono::milliseconds timeout);

  // Closes with an RST (SO_LINGER 0), like a device losing its link
  // mid-request, rather than an orderly FIN.
  void reset();
  void close() { fd_.reset(); }

 private:
  UniqueFd fd_;
  bool peer_closed_ = false;
};

}  // namespace gpsrelay::testing
