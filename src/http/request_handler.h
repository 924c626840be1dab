// What a module of the daemon (locations, later topics and events) sees of
// the HTTP server: it registers its routes on a RouteTable, gets one
// RequestHandler per event-loop thread, and handles each matched request
// through an Exchange. The worker (ingest_worker.h) owns the sockets, the
// edge limits, request ids, rate limits and tokens and applies them by the
// route's kind before a handler runs; a handler only does its endpoint.
//
// Exchange is an interface so that handlers are unit-tested without
// sockets; the worker implements it over evhttp.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "http/router.h"
#include "http/upgraded_connection.h"

namespace gpsrelay::http {

class SharedBudget;

// A body to answer once Redis has the report: `before_id` + the stream id
// + `after_id`, or only `before_id` when `with_id` is false. Kept by value
// until then; the texts it points to must be static (literals).
struct AcceptedAnswer {
  int status;
  const char* content_type;
  std::string_view before_id;
  std::string_view after_id;
  bool with_id;
};

class RequestOwner;

// A request a handler answers later (after a Redis or MySQL reply), on the
// same worker thread. Answers 500 when dropped unanswered, so no request
// is ever left hanging by a forgotten path.
class HeldRequest {
 public:
  HeldRequest() = default;
  HeldRequest(RequestOwner* owner, void* request, std::string request_id,
              std::chrono::steady_clock::time_point started)
      : owner_(owner), request_(request), request_id_(std::move(request_id)), started_(started) {}
  HeldRequest(HeldRequest&& other) noexcept;
  HeldRequest& operator=(HeldRequest&& other) noexcept;
  HeldRequest(const HeldRequest&) = delete;
  HeldRequest& operator=(const HeldRequest&) = delete;
  ~HeldRequest();

  void reply(int status, std::string_view body, const char* content_type = "application/json");
  void reply_error(int status, std::string_view message);
  bool answered() const { return request_ == nullptr; }
  // Forgets the request without answering, for when its worker is gone
  // (its server frees the request with the connection).
  void abandon() { request_ = nullptr; }

 private:
  RequestOwner* owner_ = nullptr;
  void* request_ = nullptr;  // the server's request; null once answered
  std::string request_id_;
  std::chrono::steady_clock::time_point started_{};
};

// A response written piece by piece for as long as the client stays
// (Server-Sent Events), on the worker's thread. Destroying it ends the
// response if the client is still there.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Queues `chunk` for the client; false once the client is gone.
  virtual bool send(std::string_view chunk) = 0;
  // Bytes queued for the client and not yet taken by its socket.
  virtual std::size_t buffered() const = 0;
  virtual bool open() const = 0;
};

// One matched request, during the handler's call.
class Exchange {
 public:
  virtual ~Exchange() = default;

  virtual Method method() const = 0;
  virtual const RouteMatch& route() const = 0;
  // The query string without '?', still percent-encoded; empty when none.
  virtual std::string_view query() const = 0;
  virtual std::string_view body() = 0;
  virtual std::optional<std::string_view> header(const char* name) const = 0;
  virtual const std::string& request_id() const = 0;
  virtual std::int64_t received_at_ms() const = 0;

  virtual void add_header(const char* name, const char* value) = 0;
  virtual void reply(int status, std::string_view body,
                     const char* content_type = "application/json") = 0;
  // {"error": message, "request_id": …}; `message` is escaped here.
  virtual void reply_error(int status, std::string_view message) = 0;
  // Appends `payload` to redis.stream (with `source` naming the device
  // format) and answers `answer` once Redis acknowledged it; 503 when it
  // cannot be stored. Honours Idempotency-Key.
  virtual void enqueue(std::string_view payload, std::string_view source,
                       const AcceptedAnswer& answer) = 0;
  // Keeps the request open after the handler returns.
  virtual HeldRequest hold() = 0;
  // Answers 200 with `content_type` and keeps the response open: its body
  // is what the stream sends. `gone` is called once, on this thread, when
  // the client goes (hang-up, error, timeout, shutdown) — possibly from
  // inside one of the stream's own sends, so it must not destroy the
  // stream there and then (defer that to the next loop turn).
  virtual std::unique_ptr<ResponseStream> start_stream(const char* content_type,
                                                       std::function<void()> gone) = 0;
  // Answers 101 Switching Protocols with `headers` ("Name: value\r\n"
  // lines) and hands the connection to `events` for good (a WebSocket);
  // nullptr when the client is gone already.
  virtual std::unique_ptr<UpgradedConnection> upgrade(std::string_view headers,
                                                      UpgradedConnection::Events& events) = 0;
};

// What a worker gives a module's handler: its loop (for timers, Redis
// connections and CrossThreadTriggers of its own) and its index.
struct WorkerServices {
  event_base* base;
  std::size_t index;
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // On the worker's thread, before it serves (connect what it needs).
  virtual void start() {}
  virtual void handle(int route, Exchange& exchange) = 0;
  // The worker is draining (SIGTERM): end open-ended answers (streams) so
  // that the drain does not wait for them.
  virtual void drain() {}
};

// An extra listener a module serves on every worker, each of whose
// requests, whatever the path, goes to one of its routes (OsmAnd devices
// post to the root of their own port).
struct ExtraListener {
  core::Endpoint address;
  int route;
  RouteKind kind;
  SharedBudget* connections;  // the module's, shared by every worker's socket
};

// What a module gives the HTTP server.
class HandlerFactory {
 public:
  virtual ~HandlerFactory() = default;
  virtual void add_routes(RouteTable& routes) const = 0;
  virtual std::vector<ExtraListener> extra_listeners() const { return {}; }
  // Called once per worker, on the daemon's thread, before it starts.
  // nullptr for a module without routes (forwarding).
  virtual std::unique_ptr<RequestHandler> make_handler(const WorkerServices& services) = 0;
};

// Implemented by the worker: how a HeldRequest answers.
class RequestOwner {
 public:
  virtual void answer(void* request, int status, std::string_view body, const char* content_type,
                      std::string_view request_id,
                      std::chrono::steady_clock::time_point started) = 0;
  virtual void answer_error(void* request, int status, std::string_view message,
                            std::string_view request_id,
                            std::chrono::steady_clock::time_point started) = 0;

 protected:
  ~RequestOwner() = default;
};

}  // namespace gpsrelay::http
