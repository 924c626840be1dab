// IngestWorker: one event-loop thread of the HTTP server. It owns its own
// event_base, its own evhttp on its own SO_REUSEPORT socket and its own
// Redis connection (ReportQueue), so a request is handled start to finish
// on one thread with no lock: checks, XADD, answer after Redis acknowledged.
//
// The endpoints are the modules' (report ingest, locations: one
// RequestHandler each per worker, see request_handler.h); the worker
// routes to them, applies the checks of the route's kind (rate limit,
// tokens, draining), implements their Exchange over evhttp and answers
// the operator endpoints itself. Policy lives in the pure classes next to
// it (router, request checks, rate limiter); this file wires evhttp to
// them, to the handlers and to the queue.
#pragma once

#include <event2/http.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "auth/token_store.h"
#include "core/config.h"
#include "core/event_loop.h"
#include "core/metrics.h"
#include "core/shared_slot.h"
#include "http/accept_guard.h"
#include "http/client_connections.h"
#include "http/listener.h"
#include "http/rate_limiter.h"
#include "http/request_handler.h"
#include "http/request_id.h"
#include "http/router.h"
#include "http/status_pages.h"
#include "http/tls_context.h"
#include "queue/report_queue.h"

namespace gpsrelay::http {

// State shared by all workers and owned by the daemon. Workers only read it
// (the metrics registry hands each worker its own slot to write).
struct WorkerContext {
  core::MetricsRegistry& metrics;
  ClientRateLimiter* rate_limiter;   // nullptr when http.rate_limit = 0
  const std::atomic<bool>& serving;  // READY reached and not stopping
  const TlsContextSlot* tls;         // nullptr when http.tls_listen is not set
  // nullptr when auth.mode = none; else every ingest request needs a token.
  const core::SharedSlot<const auth::TokenStore>* tokens;
  // nullptr when auth.read_tokens_file is empty; else every read needs one.
  const core::SharedSlot<const auth::TokenStore>* read_tokens;
  EdgeBudgets& budgets;
  // The daemon's state for /health and /ready; called on the worker's thread.
  std::function<HealthSnapshot()> health;
  // The enabled modules' routes and handlers, in a fixed order.
  std::vector<HandlerFactory*> modules;
};

class IngestWorker : private queue::ReportQueueListener, private RequestOwner {
 public:
  // Binds the listener right away so address errors surface before start.
  IngestWorker(const core::Config& config, std::size_t index, WorkerContext context);
  ~IngestWorker() override;
  IngestWorker(const IngestWorker&) = delete;
  IngestWorker& operator=(const IngestWorker&) = delete;

  // Runs the event loop on a new thread.
  void start();
  // From any thread: stop accepting, answer what is in flight (up to the
  // drain deadline), then leave the loop.
  void request_stop();
  // From any thread, after the daemon replaced the TLS context or the
  // tokens: the worker takes its own reference to the new ones on its loop.
  void refresh_snapshots();
  void join();

  // Thread-safe views for the daemon's supervisor.
  bool queue_ready() const { return queue_ready_.load(std::memory_order_relaxed); }
  std::chrono::steady_clock::time_point last_heartbeat() const;

 private:
  class ExchangeImpl;
  class StreamImpl;
  struct PendingReply {
    evhttp_request* request;
    std::string request_id;
    std::chrono::steady_clock::time_point started;
    AcceptedAnswer answer;
  };
  // A module's extra listener (ExtraListener) on this worker.
  struct ExtraServer {
    IngestWorker* worker;
    int route;  // global handler id
    // Outlives the server, whose freeing closes the connections it counts.
    std::unique_ptr<ClientConnections> connections;
    core::EvhttpPtr http;
    evhttp_bound_socket* bound_socket = nullptr;  // owned by http
    std::unique_ptr<AcceptGuard> accept_guard;    // gone before the socket it watches
  };

  // The settings both listeners (plain and TLS) share.
  void configure(evhttp* http, const core::Config& config);
  static evhttp_bound_socket* serve_on(evhttp* http, const core::Endpoint& address);
  bufferevent* make_tls_bufferevent(event_base* base);
  static void on_request(evhttp_request* request, void* self);
  static void on_extra_request(evhttp_request* request, void* extra_server);
  // Runs `body` under the catch boundary: a throw answers 500 unless
  // something answered or holds the request.
  template <typename Body>
  void serve_guarded(evhttp_request* request, Body&& body);
  void add_module(std::size_t index, HandlerFactory& module, const core::Config& config);

 protected:
  // Every request, under on_request's catch boundary. Virtual only so that
  // tests can inject a fault at this depth.
  virtual void handle(evhttp_request* request);

 private:
  // Both listeners' requests and the extra ones (`extra` set).
  void handle_request(evhttp_request* request, ExtraServer* extra);
  void handle_module(evhttp_request* request, ClientConnections& connections,
                     const RouteMatch& route, std::string request_id,
                     std::chrono::steady_clock::time_point started);
  // Appends to the stream and answers `answer` when Redis has it.
  void enqueue(evhttp_request* request, std::string_view payload, std::string_view source,
               const AcceptedAnswer& answer, std::string request_id,
               std::chrono::steady_clock::time_point started);
  // The per-client rate limit; answers 429 itself and returns false when
  // the request may not go on.
  bool admit(evhttp_request* request, const std::string& request_id,
             std::chrono::steady_clock::time_point started);
  // A token check against `tokens` (`what`: "device" or "read"; a route
  // of `kind` kRead also takes ?token=); answers 401 itself and returns
  // false when the request may not go on.
  bool authenticate(evhttp_request* request, const auth::TokenStore& tokens, RouteKind kind,
                    const char* what, const std::string& request_id,
                    std::chrono::steady_clock::time_point started);
  void reply(evhttp_request* request, int status, std::string_view body,
             std::string_view request_id, std::chrono::steady_clock::time_point started,
             const char* content_type = "application/json");
  void reply_error(evhttp_request* request, int status, std::string_view message,
                   std::string_view request_id, std::chrono::steady_clock::time_point started);

  // RequestOwner: held requests answer through these.
  void answer(void* request, int status, std::string_view body, const char* content_type,
              std::string_view request_id, std::chrono::steady_clock::time_point started) override;
  void answer_error(void* request, int status, std::string_view message,
                    std::string_view request_id,
                    std::chrono::steady_clock::time_point started) override;

  // queue::ReportQueueListener
  void on_report_stored(std::string_view message_id, bool replayed) override;
  void on_report_failed(std::string_view reason) override;
  void on_queue_ready_changed(bool ready) override;

  // This thread's references to the shared TLS context and tokens: read on
  // every accept and request without touching the shared slot (whose atomic
  // shared_ptr takes a lock and a shared refcount), as Envoy's thread-local
  // slots do. Replaced on the loop by refresh_snapshots().
  void take_snapshots();
  // Copies the queue's view of refused writes into this worker's metrics.
  void publish_write_errors();
  void begin_drain();
  void check_drained();

  const std::size_t index_;
  const std::uint64_t max_body_bytes_;
  WorkerContext context_;
  core::WorkerMetrics& metrics_;
  RequestIdGenerator request_ids_;
  Router router_;
  std::vector<RouteKind> route_kinds_;  // by handler id, for the modules' routes

  // Destruction runs bottom-up: the queue (whose lost replies still answer
  // their requests) goes before evhttp, and both before the event_base.
  core::EventBasePtr base_;
  // Outlive the evhttp servers: freeing a server closes its connections,
  // which these count.
  std::unique_ptr<ClientConnections> connections_;
  std::unique_ptr<ClientConnections> tls_connections_;
  core::EvhttpPtr http_;
  evhttp_bound_socket* bound_socket_ = nullptr;  // owned by http_
  core::EvhttpPtr tls_http_;                     // null without http.tls_listen
  evhttp_bound_socket* tls_bound_socket_ = nullptr;
  // Gone before their bound sockets (they hold the listeners).
  std::unique_ptr<AcceptGuard> accept_guard_;
  std::unique_ptr<AcceptGuard> tls_accept_guard_;
  core::EvbufferPtr body_;  // reused for every response
  std::vector<std::unique_ptr<ExtraServer>> extra_servers_;
  std::deque<PendingReply> pending_;
  queue::ReportQueue queue_;
  // Before the queue and the servers go: their connections' lost replies
  // answer held requests.
  std::vector<std::unique_ptr<RequestHandler>> handlers_;
  core::Timer heartbeat_timer_;
  core::Timer drain_timer_;
  core::CrossThreadTrigger stop_trigger_;
  core::CrossThreadTrigger refresh_trigger_;
  SslContextPtr tls_snapshot_;                                    // null without TLS
  std::shared_ptr<const auth::TokenStore> tokens_snapshot_;       // null without tokens
  std::shared_ptr<const auth::TokenStore> read_tokens_snapshot_;  // null when reads are open

  // The request being handled until something answers or keeps it; what
  // the catch boundary answers 500 when the handler throws.
  evhttp_request* unanswered_ = nullptr;
  bool stopping_ = false;
  std::size_t held_ = 0;  // HeldRequests not answered yet
  std::chrono::steady_clock::time_point drain_deadline_;
  std::atomic<bool> queue_ready_{false};
  std::atomic<std::int64_t> heartbeat_ns_{0};
  std::thread thread_;
};

}  // namespace gpsrelay::http
