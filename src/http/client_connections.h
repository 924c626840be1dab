// ClientConnections: the open connections of one evhttp server (one
// listener socket of one worker thread), and the limits that libevent 2.1's
// evhttp does not enforce by itself:
//
//  - http.max_connections: a connection beyond it is closed at once;
//  - http.request_timeout as a deadline for headers + body counted from the
//    request's first byte (evhttp only has an idle timer, which a client
//    sending one byte a second never trips); evhttp's own timer is left as
//    the keep-alive idle timeout between requests;
//  - http.max_inflight_bytes: bytes of requests being received or handled,
//    across the process. A new request while it is spent gets 503; a
//    request under way whose bytes reach past it is not read from until
//    others give room back (or its deadline ends it).
//
// evhttp 2.1 has no hook per connection, so this hooks in where it can:
// evhttp_set_bevcb (we create each connection's bufferevent, so we see every
// accept), the connection's close callback (set right after evhttp set the
// connection up), and an evbuffer callback on the input (bytes as they
// arrive). A request is answered from here (408, 503) only while evhttp
// is still reading it; once complete it belongs to the request handler.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config.h"
#include "core/event_loop.h"
#include "core/log_throttle.h"
#include "core/metrics.h"
#include "http/request_id.h"
#include "http/shared_budget.h"
#include "http/upgraded_connection.h"

namespace gpsrelay::http {

// The limits every worker draws from, owned by the daemon.
struct EdgeBudgets {
  explicit EdgeBudgets(const core::HttpConfig& http)
      : plain_connections(http.max_connections),
        tls_connections(http.max_connections),
        inflight_bytes(http.max_inflight_bytes) {}

  SharedBudget plain_connections;  // http.listen, over all workers' sockets
  SharedBudget tls_connections;    // http.tls_listen, likewise
  SharedBudget inflight_bytes;     // request bytes held, whole process
};

class ClientConnections {
 public:
  struct Limits {
    std::chrono::milliseconds request_timeout;
    SharedBudget& connections;     // this listener's, shared by its sockets on every worker
    SharedBudget& inflight_bytes;  // the whole process's
  };
  // Makes the bufferevent of a new connection (plain or TLS); nullptr when
  // it cannot, and the connection is then closed.
  using BuffereventFactory = std::function<bufferevent*(event_base*)>;

  // Installs itself as `http`'s bufferevent callback. Must be destroyed
  // after `http` is freed: evhttp_free closes the connections it tracks.
  // `request_ids` names the answers given from here (the worker's own).
  ClientConnections(event_base* base, evhttp* http, Limits limits, core::WorkerMetrics& metrics,
                    RequestIdGenerator& request_ids, BuffereventFactory make_bufferevent);
  ~ClientConnections();
  ClientConnections(const ClientConnections&) = delete;
  ClientConnections& operator=(const ClientConnections&) = delete;

  // Called by the request handler when evhttp hands it a complete request:
  // stops the request's deadline. Returns false when the request arrived
  // over the in-flight budget; the handler answers it with 503.
  bool on_request_complete(evhttp_request* request);
  // The request's answer stays open (a stream): watch for the client
  // hanging up, which nothing would notice while nothing reads, and call
  // `gone` once when the connection goes for any reason. False when the
  // connection is not one of ours.
  bool watch_stream(evhttp_request* request, std::function<void()> gone);
  // Connections whose request is with a handler or whose answer is still
  // being written: the drain waits for them to reach the client.
  std::size_t busy() const;
  // The stream ends on our side: no more watching, no call.
  void unwatch_stream(evhttp_connection* connection);
  // Writes `head` (a 101 answer) and hands the connection to `events`
  // for good (a WebSocket); nullptr when the connection is not one of ours.
  std::unique_ptr<UpgradedConnection> upgrade(evhttp_request* request, std::string_view head,
                                              UpgradedConnection::Events& events);

 private:
  struct Connection;
  class Upgraded;

  static bufferevent* on_accept(event_base* base, void* self);
  static void on_input(evbuffer* buffer, const evbuffer_cb_info* info, void* connection);
  static void on_close(evhttp_connection* evcon, void* connection);
  static void on_response_sent(evhttp_request* request, void* connection);
  static void on_deadline(evutil_socket_t, short, void* connection);
  static void on_hang_up(evutil_socket_t, short, void* connection);
  static void on_answer_flushed(bufferevent* bev, void* connection);
  static void on_answer_event(bufferevent* bev, short what, void* connection);

  // Makes and registers a new connection's bufferevent; nullptr if it cannot.
  bufferevent* track(event_base* base);
  bufferevent* refuse(event_base* base);
  // Starts (or restarts) the connection's one timer; false if libevent refused.
  bool arm(Connection& connection, std::chrono::milliseconds delay);
  void expire(Connection& connection);
  // Stops reading a request under way while the budget is spent, and
  // starts again (oldest first) when there is room.
  void pause(Connection& connection);
  void resume_paused();
  void finish_setup();
  void start_request(Connection& connection);
  void answer_and_close(Connection& connection, int status, std::string_view message);
  void forget(Connection& connection);
  // Counts bytes of `connection`'s request against the in-flight budget;
  // false when the total is past it.
  bool charge(Connection& connection, std::uint64_t bytes);
  void discharge(Connection& connection);

  event_base* base_;
  Limits limits_;
  core::WorkerMetrics& metrics_;
  RequestIdGenerator& request_ids_;
  BuffereventFactory make_bufferevent_;
  // Accepted this loop iteration; evhttp finishes setting them up after
  // the accept callback returns, so their close callback is set next.
  std::vector<std::unique_ptr<Connection>> awaiting_setup_;
  std::unordered_map<evhttp_connection*, std::unique_ptr<Connection>> by_connection_;
  core::CrossThreadTrigger setup_trigger_;
  std::deque<Connection*> paused_;
  core::Timer resume_timer_;  // runs while paused_ is not empty
  core::ThrottledLog timer_errors_;
};

}  // namespace gpsrelay::http
