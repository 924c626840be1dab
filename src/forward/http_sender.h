// HttpSender: HTTP POSTs (and health-check GETs) to upstream servers through libcurl's multi
// interface, driven by one libevent loop (the "multi socket" API: curl
// says which sockets to watch and which single timeout to arm; the loop
// calls back into curl when they fire). No thread, no polling loop; many
// transfers in flight at once; the multi handle's connection cache keeps
// keep-alive connections to each target between deliveries.
//
// It does not decide anything about retries, targets or breakers: it
// sends one request and reports what happened.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/c_handle.h"
#include "core/config.h"
#include "core/event_loop.h"
#include "forward/http2_support.h"

namespace gpsrelay::forward {

struct SendRequest {
  enum class Method { kPost, kGet };  // GET for active health checks
  Method method = Method::kPost;
  std::string url;
  std::string body;                  // POST only
  std::vector<std::string> headers;  // "Name: value"
  std::chrono::milliseconds timeout{30000};
  std::string ca_file;  // empty: the system trust store
  core::ForwardConfig::Http2 http2 = core::ForwardConfig::Http2::kOff;  // forward.http2
};

struct SendResult {
  long status = 0;    // HTTP status; 0 when no response arrived
  std::string error;  // curl's explanation when status is 0
  // The request never left this process (curl refused to set it up or to
  // start it): nothing is known about the target.
  bool not_sent = false;
  bool http2 = false;  // the response came over HTTP/2
  std::chrono::microseconds elapsed{0};
};

// The libcurl loaded now (not the headers compiled against).
CurlFacts this_process_curl();

class HttpSender {
 public:
  using Callback = std::function<void(const SendResult&)>;

  // max_connections bounds open connections across all targets.
  HttpSender(event_base* base, long max_connections);
  ~HttpSender();
  HttpSender(const HttpSender&) = delete;
  HttpSender& operator=(const HttpSender&) = delete;

  // Starts a request; the callback runs exactly once on the loop thread, never
  // from inside send(). A request curl refuses to set up or start is
  // reported to the callback as a transport error (status 0), so the caller
  // retries it like any other; send() itself throws only when memory runs
  // out. An exception from the callback is logged and dropped. Transfers
  // still running at destruction are abandoned without their callback.
  void send(SendRequest request, Callback callback);
  std::size_t in_flight() const { return transfers_.size(); }

 private:
  struct Transfer;
  struct Socket;

  struct FailedSend {
    std::unique_ptr<Transfer> transfer;
    std::string error;
  };

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  static void on_socket_event(evutil_socket_t fd, short events, void* self);
  // Returns what went wrong, or an empty string when the handle is ready.
  std::string prepare(Transfer& transfer, SendRequest& request);
  int watch_socket(curl_socket_t fd, int what);
  void socket_action(curl_socket_t fd, int events);
  void collect_finished();
  void report_failed();
  void finish(Transfer& transfer, const SendResult& result);

  event_base* base_;
  core::CHandle<CURLM, curl_multi_cleanup> multi_;
  core::Timer timer_;
  core::Timer failed_timer_;        // reports failed_ from the loop
  std::vector<FailedSend> failed_;  // set up or start refused, not yet reported
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::unordered_map<curl_socket_t, std::unique_ptr<Socket>> sockets_;
  static constexpr std::size_t kMaxIdleHandles = 1024;
  std::vector<core::CHandle<CURL, curl_easy_cleanup>> idle_;  // finished, for reuse
};

}  // namespace gpsrelay::forward
