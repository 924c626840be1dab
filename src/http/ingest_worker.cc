// Event-loop thread of the HTTP server (see ingest_worker.h).
#include "http/ingest_worker.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>

#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/callback_guard.h"
#include "core/json_handle.h"
#include "core/log.h"
#include "core/thread.h"
#include "http/request_checks.h"
#include "http/routes.h"
#include "http/status_pages.h"
#include "queue/stream_groups.h"

namespace gpsrelay::http {
namespace {

// A module's late 503 (Redis or MySQL unavailable) tells the client when to
// come back, as the worker's own 503s do, unless the module said already.
void add_retry_after_to_503(evhttp_request* request, int status) {
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  if (status == 503 && evhttp_find_header(headers, "Retry-After") == nullptr) {
    evhttp_add_header(headers, "Retry-After", "1");
  }
}

constexpr std::chrono::milliseconds kHeartbeatInterval{100};
constexpr std::chrono::milliseconds kDrainPollInterval{10};
// SIGTERM must end within 10 s (contract); in-flight XADDs get 5 of them.
constexpr std::chrono::milliseconds kDrainDeadline{5000};
constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 409:
      return "Conflict";
    case 415:
      return "Unsupported Media Type";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

// The `token` query parameter, decoded; empty when there is none.
std::string token_in_query(evhttp_request* request) {
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* query = uri != nullptr ? evhttp_uri_get_query(uri) : nullptr;
  if (query == nullptr) return {};
  evkeyvalq params{};
  if (evhttp_parse_query_str(query, &params) != 0) return {};
  const char* token = evhttp_find_header(&params, "token");
  std::string found = token != nullptr ? token : "";
  evhttp_clear_headers(&params);
  return found;
}

Method to_method(evhttp_cmd_type command) {
  switch (command) {
    case EVHTTP_REQ_GET:
      return Method::kGet;
    case EVHTTP_REQ_HEAD:
      return Method::kHead;
    case EVHTTP_REQ_POST:
      return Method::kPost;
    case EVHTTP_REQ_PUT:
      return Method::kPut;
    case EVHTTP_REQ_PATCH:
      return Method::kPatch;
    case EVHTTP_REQ_DELETE:
      return Method::kDelete;
    case EVHTTP_REQ_OPTIONS:
      return Method::kOptions;
    case EVHTTP_REQ_TRACE:
    case EVHTTP_REQ_CONNECT:
      break;
  }
  return Method::kOther;  // also the methods evhttp does not know
}

// evhttp keeps every header line and frames the body by the first
// Content-Length; the rest are ours to check.
bool has_conflicting_content_lengths(const evkeyvalq* headers) {
  const auto is_content_length = [](const evkeyval* header) {
    return evutil_ascii_strcasecmp(header->key, "Content-Length") == 0;
  };
  std::size_t count = 0;
  for (const evkeyval* h = headers->tqh_first; h != nullptr; h = h->next.tqe_next) {
    if (is_content_length(h)) ++count;
  }
  if (count < 2) return false;  // the common case costs no allocation
  std::vector<std::string_view> values;
  for (const evkeyval* h = headers->tqh_first; h != nullptr; h = h->next.tqe_next) {
    if (is_content_length(h)) values.emplace_back(h->value);
  }
  return !content_lengths_agree(values);
}

bool is_known_method(evhttp_cmd_type command) {
  switch (command) {
    case EVHTTP_REQ_GET:
    case EVHTTP_REQ_POST:
    case EVHTTP_REQ_HEAD:
    case EVHTTP_REQ_PUT:
    case EVHTTP_REQ_DELETE:
    case EVHTTP_REQ_OPTIONS:
    case EVHTTP_REQ_TRACE:
    case EVHTTP_REQ_CONNECT:
    case EVHTTP_REQ_PATCH:
      return true;
  }
  return false;
}

std::int64_t steady_ns(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

queue::ReportQueue::Options queue_options(const core::Config& config) {
  queue::ReportQueue::Options options;
  options.connection = queue::RedisConnection::Options::from(config.redis);
  options.stream = config.redis.stream;
  options.groups = queue::enabled_groups(config);
  options.max_queue_length = config.redis.max_queue_length;
  options.command_timeout = config.redis.command_timeout;
  options.idempotency_ttl = config.redis.idempotency_ttl;
  options.min_replicas_acked = config.redis.min_replicas_acked;
  options.replica_ack_timeout = config.redis.replica_ack_timeout;
  return options;
}

}  // namespace

IngestWorker::IngestWorker(const core::Config& config, std::size_t index, WorkerContext context)
    : index_(index),
      max_body_bytes_(config.http.max_body_bytes),
      context_(context),
      metrics_(context.metrics.worker(index)),
      request_ids_(std::random_device{}() ^ (static_cast<std::uint64_t>(index) << 32)),
      base_(core::make_event_base()),
      http_(evhttp_new(base_.get())),
      body_(evbuffer_new()),
      queue_(base_.get(), queue_options(config), *this),
      heartbeat_timer_(
          base_.get(),
          [this] {
            heartbeat_ns_.store(steady_ns(std::chrono::steady_clock::now()));
            metrics_.queue_length.store(queue_.queue_length(), std::memory_order_relaxed);
            metrics_.redis_reconnects.store(queue_.reconnects(), std::memory_order_relaxed);
            publish_write_errors();
          }),
      drain_timer_(base_.get(), [this] { check_drained(); }),
      stop_trigger_(base_.get(), [this] { begin_drain(); }),
      refresh_trigger_(base_.get(), [this] { take_snapshots(); }) {
  take_snapshots();
  if (!http_ || !body_) throw std::runtime_error("libevent: cannot create the HTTP server");
  add_core_routes(router_);
  configure(http_.get(), config);
  connections_ = std::make_unique<ClientConnections>(
      base_.get(), http_.get(),
      ClientConnections::Limits{config.http.request_timeout, context_.budgets.plain_connections,
                                context_.budgets.inflight_bytes},
      metrics_, request_ids_, [](event_base* base) {
        // No BEV_OPT_CLOSE_ON_FREE: evhttp closes the socket itself, as with
        // the bufferevents it makes.
        return bufferevent_socket_new(base, -1, 0);
      });
  bound_socket_ = serve_on(http_.get(), config.http.listen);
  accept_guard_ = std::make_unique<AcceptGuard>(base_.get(), bound_socket_, metrics_);
  if (context_.tls != nullptr && config.http.tls_listen) {
    tls_http_.reset(evhttp_new(base_.get()));
    if (!tls_http_) throw std::runtime_error("libevent: cannot create the HTTPS server");
    configure(tls_http_.get(), config);
    tls_connections_ = std::make_unique<ClientConnections>(
        base_.get(), tls_http_.get(),
        ClientConnections::Limits{config.http.request_timeout, context_.budgets.tls_connections,
                                  context_.budgets.inflight_bytes},
        metrics_, request_ids_, [this](event_base* base) { return make_tls_bufferevent(base); });
    tls_bound_socket_ = serve_on(tls_http_.get(), *config.http.tls_listen);
    tls_accept_guard_ = std::make_unique<AcceptGuard>(base_.get(), tls_bound_socket_, metrics_);
  }
  for (std::size_t i = 0; i < context_.modules.size(); ++i) {
    add_module(i, *context_.modules[i], config);
  }
}

void IngestWorker::add_module(std::size_t index, HandlerFactory& module,
                              const core::Config& config) {
  const int first_id = static_cast<int>(index + 1) * RouteTable::kMaxRoutes;
  RouteTable routes(router_, route_kinds_, first_id);
  module.add_routes(routes);
  handlers_.push_back(module.make_handler(WorkerServices{base_.get(), index_}));
  for (const ExtraListener& listener : module.extra_listeners()) {
    auto server = std::make_unique<ExtraServer>();
    server->worker = this;
    server->route = first_id + listener.route;
    if (route_kinds_.size() <= static_cast<std::size_t>(server->route)) {
      route_kinds_.resize(static_cast<std::size_t>(server->route) + 1, RouteKind::kOperator);
    }
    route_kinds_[static_cast<std::size_t>(server->route)] = listener.kind;
    server->http.reset(evhttp_new(base_.get()));
    if (!server->http) throw std::runtime_error("libevent: cannot create an HTTP server");
    configure(server->http.get(), config);
    evhttp_set_gencb(server->http.get(), &IngestWorker::on_extra_request, server.get());
    server->connections = std::make_unique<ClientConnections>(
        base_.get(), server->http.get(),
        ClientConnections::Limits{config.http.request_timeout, *listener.connections,
                                  context_.budgets.inflight_bytes},
        metrics_, request_ids_,
        [](event_base* base) { return bufferevent_socket_new(base, -1, 0); });
    server->bound_socket = serve_on(server->http.get(), listener.address);
    server->accept_guard =
        std::make_unique<AcceptGuard>(base_.get(), server->bound_socket, metrics_);
    extra_servers_.push_back(std::move(server));
  }
}

void IngestWorker::configure(evhttp* http, const core::Config& config) {
  evhttp_set_gencb(http, &IngestWorker::on_request, this);
  // Every bit, so that we, not libevent, answer 405 with Allow — also for
  // methods libevent does not know: it gives them the type 1 << 15 and
  // would answer 501 when that bit is not allowed.
  evhttp_set_allowed_methods(http, 0xffff);
  // libevent stops reading at this size and answers 413 itself, so an
  // oversized body is never buffered; lingering close lets the client read
  // that answer instead of a reset.
  evhttp_set_max_body_size(http, static_cast<ev_ssize_t>(max_body_bytes_));
  evhttp_set_max_headers_size(http, kMaxHeaderBytes);
  // evhttp's timer restarts with every read, so it is the keep-alive idle
  // limit; the deadline of a request is ClientConnections'.
  const timeval timeout = core::to_timeval(config.http.keepalive_timeout);
  evhttp_set_timeout_tv(http, &timeout);
  evhttp_set_flags(http, EVHTTP_SERVER_LINGERING_CLOSE);
}

evhttp_bound_socket* IngestWorker::serve_on(evhttp* http, const core::Endpoint& address) {
  UniqueFd listener = bind_listener(address);
  evhttp_bound_socket* bound = evhttp_accept_socket_with_handle(http, listener.get());
  if (bound == nullptr) throw std::runtime_error("cannot serve HTTP on " + address.to_string());
  listener.release();  // evhttp closes it now
  return bound;
}

bufferevent* IngestWorker::make_tls_bufferevent(event_base* base) {
  // This thread's snapshot: a reload affects new connections.
  SSL* ssl = SSL_new(tls_snapshot_.get());
  if (ssl == nullptr) return nullptr;  // the connection is refused
  // With BEV_OPT_CLOSE_ON_FREE the bufferevent owns the SSL (and the socket
  // evhttp assigns to it).
  bufferevent* bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                    BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) {
    SSL_free(ssl);
    return nullptr;
  }
  // Devices often just drop the connection instead of sending close_notify.
  bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  return bev;
}

IngestWorker::~IngestWorker() { join(); }

void IngestWorker::start() {
  heartbeat_ns_.store(steady_ns(std::chrono::steady_clock::now()));
  thread_ = core::start_loop_thread("http-" + std::to_string(index_), [this] {
    queue_.start();
    for (auto& handler : handlers_) {
      if (handler) handler->start();
    }
    heartbeat_timer_.start_periodic(kHeartbeatInterval);
    event_base_dispatch(base_.get());
  });
}

void IngestWorker::request_stop() { stop_trigger_.trigger(); }

void IngestWorker::refresh_snapshots() { refresh_trigger_.trigger(); }

void IngestWorker::take_snapshots() {
  if (context_.tls != nullptr) tls_snapshot_ = context_.tls->current();
  if (context_.tokens != nullptr) tokens_snapshot_ = context_.tokens->current();
  if (context_.read_tokens != nullptr) read_tokens_snapshot_ = context_.read_tokens->current();
}

void IngestWorker::join() {
  if (thread_.joinable()) thread_.join();
}

std::chrono::steady_clock::time_point IngestWorker::last_heartbeat() const {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(heartbeat_ns_.load()));
}

template <typename Body>
void IngestWorker::serve_guarded(evhttp_request* request, Body&& body) {
  const auto started = std::chrono::steady_clock::now();
  unanswered_ = request;
  if (!core::guarded("HTTP request", body) && unanswered_ == request) {
    // Nothing answered it and nothing holds it: answer for the handler.
    // (A request already waiting for Redis is answered by the queue.)
    core::guarded("HTTP 500 answer", [&] {
      evhttp_add_header(evhttp_request_get_output_headers(request), "Connection", "close");
      reply_error(request, 500, "internal error", request_ids_.next(), started);
    });
  }
  unanswered_ = nullptr;
}

void IngestWorker::on_request(evhttp_request* request, void* self) {
  auto& worker = *static_cast<IngestWorker*>(self);
  worker.serve_guarded(request, [&] { worker.handle(request); });
}

void IngestWorker::on_extra_request(evhttp_request* request, void* extra_server) {
  auto& server = *static_cast<ExtraServer*>(extra_server);
  IngestWorker& worker = *server.worker;
  worker.serve_guarded(request, [&] { worker.handle_request(request, &server); });
}

void IngestWorker::handle(evhttp_request* request) { handle_request(request, nullptr); }

void IngestWorker::handle_request(evhttp_request* request, ExtraServer* extra) {
  const auto started = std::chrono::steady_clock::now();
  evkeyvalq* headers = evhttp_request_get_input_headers(request);
  const char* client_id = evhttp_find_header(headers, "X-Request-ID");
  std::string request_id = client_id != nullptr ? sanitize_request_id(client_id) : std::string();
  if (request_id.empty()) request_id = request_ids_.next();

  evkeyvalq* output_headers = evhttp_request_get_output_headers(request);
  evhttp_connection* connection = evhttp_request_get_connection(request);
  ClientConnections& connections =
      extra != nullptr ? *extra->connections
      : tls_http_ && evhttp_connection_get_server(connection) == tls_http_.get() ? *tls_connections_
                                                                                 : *connections_;
  if (!connections.on_request_complete(request)) {
    core::bump(metrics_.requests_over_budget);
    evhttp_add_header(output_headers, "Retry-After", "1");
    evhttp_add_header(output_headers, "Connection", "close");
    reply_error(request, 503, "too many request bytes in flight", request_id, started);
    return;
  }
  if (has_conflicting_content_lengths(headers)) {
    // evhttp framed the body by the first one; where the next request
    // starts is unknowable, so the connection goes too.
    evhttp_add_header(output_headers, "Connection", "close");
    reply_error(request, 400, "conflicting Content-Length headers", request_id, started);
    return;
  }

  const evhttp_cmd_type command = evhttp_request_get_command(request);
  if (!is_known_method(command)) {
    // evhttp did not read the body of a method it does not know; what
    // follows on the connection cannot be parsed.
    evhttp_add_header(output_headers, "Connection", "close");
  }
  RouteMatch route;
  if (extra != nullptr) {
    // Every path of an extra listener is its one route, for GET and POST.
    const Method method = to_method(command);
    route.allow = "GET, HEAD, POST";
    route.result = method == Method::kGet || method == Method::kHead || method == Method::kPost
                       ? RouteMatch::Result::kFound
                       : RouteMatch::Result::kMethodNotAllowed;
    route.handler = extra->route;
  } else {
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
    const char* path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
    route = router_.match(to_method(command), path != nullptr ? path : "");
  }
  if (route.result == RouteMatch::Result::kNotFound) {
    reply_error(request, 404, "no such endpoint", request_id, started);
    return;
  }
  if (route.result == RouteMatch::Result::kMethodNotAllowed) {
    const std::string allow(route.allow);
    evhttp_add_header(output_headers, "Allow", allow.c_str());
    reply_error(request, 405, "method not allowed", request_id, started);
    return;
  }
  if (route.handler >= RouteTable::kMaxRoutes) {
    handle_module(request, connections, route, std::move(request_id), started);
    return;
  }

  switch (static_cast<CoreRoute>(route.handler)) {
    case CoreRoute::kMetrics:
      reply(request, 200, context_.metrics.render_prometheus(), request_id, started,
            "text/plain; version=0.0.4; charset=utf-8");
      return;
    case CoreRoute::kHealth:
    case CoreRoute::kReady: {
      HealthSnapshot snapshot = context_.health();
      snapshot.serving = snapshot.serving && !stopping_;
      const StatusPage page = route.handler == static_cast<int>(CoreRoute::kHealth)
                                  ? render_health(snapshot)
                                  : render_ready(snapshot);
      reply(request, page.status_code, page.json, request_id, started);
      return;
    }
  }
}

// An open-ended answer (see ResponseStream): evhttp's chunked reply,
// ended when it is destroyed or when ClientConnections says the client
// went. In the second case evhttp may have detached the request from its
// connection (then it is ours to free) or will free it with the connection.
class IngestWorker::StreamImpl final : public ResponseStream {
 public:
  StreamImpl(ClientConnections& connections, evhttp_request* request)
      : connections_(connections), request_(request), chunk_(evbuffer_new()) {}
  ~StreamImpl() override {
    if (request_ == nullptr) return;
    connections_.unwatch_stream(evhttp_request_get_connection(request_));
    evhttp_send_reply_end(request_);
  }
  StreamImpl(const StreamImpl&) = delete;
  StreamImpl& operator=(const StreamImpl&) = delete;

  bool send(std::string_view chunk) override {
    if (request_ == nullptr || evhttp_request_get_connection(request_) == nullptr) return false;
    evbuffer_add(chunk_.get(), chunk.data(), chunk.size());
    evhttp_send_reply_chunk(request_, chunk_.get());
    evbuffer_drain(chunk_.get(), evbuffer_get_length(chunk_.get()));
    return true;
  }
  std::size_t buffered() const override {
    evhttp_connection* connection =
        request_ != nullptr ? evhttp_request_get_connection(request_) : nullptr;
    if (connection == nullptr) return 0;
    return evbuffer_get_length(
        bufferevent_get_output(evhttp_connection_get_bufferevent(connection)));
  }
  bool open() const override { return request_ != nullptr; }

  // The client went (ClientConnections' close callback).
  void lost() {
    evhttp_request* request = std::exchange(request_, nullptr);
    // Detached by evhttp after an EOF or timeout: nobody else frees it.
    if (request != nullptr && evhttp_request_get_connection(request) == nullptr) {
      evhttp_send_reply_end(request);
    }
  }

 private:
  ClientConnections& connections_;
  evhttp_request* request_;
  core::EvbufferPtr chunk_;
};

// The module's view of one request (see request_handler.h).
class IngestWorker::ExchangeImpl final : public Exchange {
 public:
  ExchangeImpl(IngestWorker& worker, ClientConnections& connections, evhttp_request* request,
               const RouteMatch& route, std::string request_id,
               std::chrono::steady_clock::time_point started)
      : worker_(worker),
        connections_(connections),
        request_(request),
        route_(route),
        request_id_(std::move(request_id)),
        started_(started),
        received_at_ms_(unix_ms_now()) {}

  Method method() const override { return to_method(evhttp_request_get_command(request_)); }
  const RouteMatch& route() const override { return route_; }
  std::string_view query() const override {
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request_);
    const char* query = uri != nullptr ? evhttp_uri_get_query(uri) : nullptr;
    return query != nullptr ? std::string_view(query) : std::string_view();
  }
  std::string_view body() override {
    evbuffer* input = evhttp_request_get_input_buffer(request_);
    const std::size_t length = evbuffer_get_length(input);
    if (length == 0) return {};
    return {reinterpret_cast<const char*>(evbuffer_pullup(input, -1)), length};
  }
  std::optional<std::string_view> header(const char* name) const override {
    const char* value = evhttp_find_header(evhttp_request_get_input_headers(request_), name);
    return value != nullptr ? std::optional<std::string_view>(value) : std::nullopt;
  }
  const std::string& request_id() const override { return request_id_; }
  std::int64_t received_at_ms() const override { return received_at_ms_; }

  void add_header(const char* name, const char* value) override {
    evhttp_add_header(evhttp_request_get_output_headers(request_), name, value);
  }
  void reply(int status, std::string_view body, const char* content_type) override {
    worker_.reply(request_, status, body, request_id_, started_, content_type);
  }
  void reply_error(int status, std::string_view message) override {
    worker_.reply_error(request_, status, message, request_id_, started_);
  }
  void enqueue(std::string_view payload, std::string_view source,
               const AcceptedAnswer& answer) override {
    worker_.enqueue(request_, payload, source, answer, request_id_, started_);
  }
  HeldRequest hold() override {
    if (worker_.unanswered_ == request_) worker_.unanswered_ = nullptr;
    ++worker_.held_;  // until answered; the drain waits for it
    return HeldRequest(&worker_, request_, request_id_, started_);
  }
  std::unique_ptr<ResponseStream> start_stream(const char* content_type,
                                               std::function<void()> gone) override {
    evkeyvalq* headers = evhttp_request_get_output_headers(request_);
    evhttp_add_header(headers, "Content-Type", content_type);
    evhttp_add_header(headers, "Cache-Control", "no-cache");
    evhttp_add_header(headers, "X-Request-ID", request_id_.c_str());
    if (worker_.unanswered_ == request_) worker_.unanswered_ = nullptr;
    auto stream = std::make_unique<StreamImpl>(connections_, request_);
    StreamImpl* raw = stream.get();
    connections_.watch_stream(request_, [raw, gone = std::move(gone)] {
      raw->lost();
      gone();
    });
    evhttp_send_reply_start(request_, 200, "OK");
    worker_.metrics_.count_request(200, std::chrono::steady_clock::now() - started_);
    return stream;
  }
  std::unique_ptr<UpgradedConnection> upgrade(std::string_view headers,
                                              UpgradedConnection::Events& events) override {
    if (worker_.unanswered_ == request_) worker_.unanswered_ = nullptr;
    std::string head = "HTTP/1.1 101 Switching Protocols\r\n";
    head += headers;
    head += "X-Request-ID: " + request_id_ + "\r\n\r\n";
    auto upgraded = connections_.upgrade(request_, head, events);
    if (upgraded) {
      worker_.metrics_.count_request(101, std::chrono::steady_clock::now() - started_);
    } else {
      // Not one of ours (cannot happen for a request evhttp handed us):
      // answered rather than left hanging.
      reply_error(500, "the connection cannot be upgraded");
    }
    return upgraded;
  }

 private:
  IngestWorker& worker_;
  ClientConnections& connections_;
  evhttp_request* request_;
  const RouteMatch& route_;
  std::string request_id_;
  std::chrono::steady_clock::time_point started_;
  std::int64_t received_at_ms_;
};

void IngestWorker::handle_module(evhttp_request* request, ClientConnections& connections,
                                 const RouteMatch& route, std::string request_id,
                                 std::chrono::steady_clock::time_point started) {
  const RouteKind kind = route_kinds_.at(static_cast<std::size_t>(route.handler));
  if (kind != RouteKind::kOperator && !admit(request, request_id, started)) return;
  if (kind == RouteKind::kIngest && tokens_snapshot_ &&
      !authenticate(request, *tokens_snapshot_, kind, "device", request_id, started)) {
    return;
  }
  if (kind == RouteKind::kRead && read_tokens_snapshot_ &&
      !authenticate(request, *read_tokens_snapshot_, kind, "read", request_id, started)) {
    return;
  }
  const auto module = static_cast<std::size_t>(route.handler / RouteTable::kMaxRoutes - 1);
  ExchangeImpl exchange(*this, connections, request, route, std::move(request_id), started);
  RequestHandler* handler = handlers_.at(module).get();
  if (handler == nullptr) throw std::logic_error("a route of a module without a handler");
  handler->handle(route.handler % RouteTable::kMaxRoutes, exchange);
}

void IngestWorker::answer(void* request, int status, std::string_view body,
                          const char* content_type, std::string_view request_id,
                          std::chrono::steady_clock::time_point started) {
  --held_;
  auto* evrequest = static_cast<evhttp_request*>(request);
  add_retry_after_to_503(evrequest, status);
  reply(evrequest, status, body, request_id, started, content_type);
}

void IngestWorker::answer_error(void* request, int status, std::string_view message,
                                std::string_view request_id,
                                std::chrono::steady_clock::time_point started) {
  --held_;
  auto* evrequest = static_cast<evhttp_request*>(request);
  add_retry_after_to_503(evrequest, status);
  reply_error(evrequest, status, message, request_id, started);
}

bool IngestWorker::admit(evhttp_request* request, const std::string& request_id,
                         std::chrono::steady_clock::time_point started) {
  if (context_.rate_limiter == nullptr) return true;
  char* peer = nullptr;
  ev_uint16_t port = 0;
  evhttp_connection_get_peer(evhttp_request_get_connection(request), &peer, &port);
  const RateDecision decision =
      context_.rate_limiter->admit(peer != nullptr ? peer : "", steady_ns(started));
  if (decision.allowed) return true;
  const std::string retry_after = retry_after_seconds(decision.retry_after_ms);
  evhttp_add_header(evhttp_request_get_output_headers(request), "Retry-After", retry_after.c_str());
  reply_error(request, 429, "rate limit exceeded", request_id, started);
  return false;
}

void IngestWorker::enqueue(evhttp_request* request, std::string_view payload,
                           std::string_view source, const AcceptedAnswer& answer,
                           std::string request_id, std::chrono::steady_clock::time_point started) {
  evkeyvalq* output_headers = evhttp_request_get_output_headers(request);
  if (stopping_) {
    evhttp_add_header(output_headers, "Retry-After", "1");
    evhttp_add_header(output_headers, "Connection", "close");
    reply_error(request, 503, "shutting down", request_id, started);
    return;
  }
  const char* idempotency_key =
      evhttp_find_header(evhttp_request_get_input_headers(request), "Idempotency-Key");
  if (idempotency_key != nullptr && !is_valid_idempotency_key(idempotency_key)) {
    reply_error(request, 400, "Idempotency-Key must be 1 to 128 visible ASCII characters",
                request_id, started);
    return;
  }
  const queue::AppendStatus status =
      queue_.append({payload, unix_ms_now(), request_id,
                     idempotency_key != nullptr ? idempotency_key : "", source});
  switch (status) {
    case queue::AppendStatus::kSent:
      pending_.push_back({request, std::move(request_id), started, answer});
      if (unanswered_ == request) unanswered_ = nullptr;  // the queue answers it
      return;
    case queue::AppendStatus::kUnavailable:
      evhttp_add_header(output_headers, "Retry-After", "1");
      reply_error(request, 503, "queue unavailable", request_id, started);
      return;
    case queue::AppendStatus::kQueueFull:
      evhttp_add_header(output_headers, "Retry-After", "5");
      reply_error(request, 503, "queue full", request_id, started);
      return;
  }
}

bool IngestWorker::authenticate(evhttp_request* request, const auth::TokenStore& tokens,
                                RouteKind kind, const char* what, const std::string& request_id,
                                std::chrono::steady_clock::time_point started) {
  evkeyvalq* headers = evhttp_request_get_input_headers(request);
  const auto header = [&](const char* name) -> std::optional<std::string_view> {
    const char* value = evhttp_find_header(headers, name);
    return value != nullptr ? std::optional<std::string_view>(value) : std::nullopt;
  };
  std::optional<std::string_view> api_key = header("X-API-Key");
  // Browsers cannot set headers on a WebSocket or an EventSource: read
  // routes also take the token as ?token= (as an X-API-Key would be).
  std::string query_token;
  if (kind == RouteKind::kRead && !api_key && !header("Authorization")) {
    query_token = token_in_query(request);
    if (!query_token.empty()) api_key = query_token;
  }
  const auth::AuthResult result = auth::check(tokens, header("Authorization"), api_key);
  if (result == auth::AuthResult::kAccepted) return true;
  core::bump(metrics_.auth_failures[static_cast<std::size_t>(result) - 1]);
  // RFC 6750: no error code when no credentials came, invalid_token otherwise.
  evhttp_add_header(evhttp_request_get_output_headers(request), "WWW-Authenticate",
                    result == auth::AuthResult::kMissing
                        ? "Bearer realm=\"gpsrelay\""
                        : "Bearer realm=\"gpsrelay\", error=\"invalid_token\"");
  const std::string message = result == auth::AuthResult::kMissing
                                  ? "a " + std::string(what) + " token is required"
                                  : "the " + std::string(what) + " token is not valid";
  reply_error(request, 401, message, request_id, started);
  return false;
}

void IngestWorker::reply(evhttp_request* request, int status, std::string_view body,
                         std::string_view request_id, std::chrono::steady_clock::time_point started,
                         const char* content_type) {
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Content-Type", content_type);
  const std::string id(request_id);
  evhttp_add_header(headers, "X-Request-ID", id.c_str());
  evbuffer_add(body_.get(), body.data(), body.size());
  evhttp_connection* connection = evhttp_request_get_connection(request);
  if (request == unanswered_) unanswered_ = nullptr;
  evhttp_send_reply(request, status, reason_phrase(status), body_.get());
  evbuffer_drain(body_.get(), evbuffer_get_length(body_.get()));
  if (tls_http_ && connection != nullptr &&
      evhttp_connection_get_server(connection) == tls_http_.get()) {
    // The OpenSSL bufferevent writes one TLS record (and one send) per
    // buffer chunk; evhttp leaves the status line, headers and body in
    // separate chunks. Joined before the loop writes them, the response is
    // one record and one segment.
    evbuffer_pullup(bufferevent_get_output(evhttp_connection_get_bufferevent(connection)), -1);
  }
  metrics_.count_request(status, std::chrono::steady_clock::now() - started);
}

void IngestWorker::reply_error(evhttp_request* request, int status, std::string_view message,
                               std::string_view request_id,
                               std::chrono::steady_clock::time_point started) {
  // request_id comes from the sanitiser, which lets through no character
  // that needs escaping; a message may quote what a client sent.
  std::string body = "{\"error\":";
  body += core::json_quote(message);
  body += ",\"request_id\":\"";
  body += request_id;
  body += "\"}";
  // Per-request lines stay at debug: an outage or a flood must not flood the journal.
  core::log_debug(
      "request rejected",
      {{"REQUEST_ID", request_id}, {"STATUS", std::to_string(status)}, {"ERROR", message}});
  reply(request, status, body, request_id, started);
}

void IngestWorker::on_report_stored(std::string_view message_id, bool replayed) {
  PendingReply pending = std::move(pending_.front());
  pending_.pop_front();
  core::bump(replayed ? metrics_.idempotent_replays : metrics_.reports_accepted);
  metrics_.redis_append_ok_at_ns.store(steady_ns(pending.started), std::memory_order_relaxed);
  if (metrics_.redis_refusing.load(std::memory_order_relaxed) != 0) publish_write_errors();
  const AcceptedAnswer& answer = pending.answer;
  std::string body(answer.before_id);
  if (answer.with_id) {
    body += message_id;
    body += answer.after_id;
  }
  reply(pending.request, answer.status, body, pending.request_id, pending.started,
        answer.content_type);
}

void IngestWorker::on_report_failed(std::string_view /*reason: logged once by the queue*/) {
  publish_write_errors();
  PendingReply pending = std::move(pending_.front());
  pending_.pop_front();
  evhttp_add_header(evhttp_request_get_output_headers(pending.request), "Retry-After", "1");
  reply_error(pending.request, 503, "queue unavailable", pending.request_id, pending.started);
}

void IngestWorker::publish_write_errors() {
  const queue::WriteErrorCounts& counts = queue_.write_errors();
  for (std::size_t i = 0; i < counts.size(); ++i) {
    metrics_.redis_write_errors[i].store(counts[i], std::memory_order_relaxed);
  }
  metrics_.redis_replica_ack_failures.store(queue_.replica_ack_failures(),
                                            std::memory_order_relaxed);
  const auto& refusal = queue_.last_refusal();
  metrics_.redis_refusing.store(refusal ? static_cast<int>(refusal->kind) + 1 : 0,
                                std::memory_order_relaxed);
  metrics_.redis_refused_at_ns.store(refusal ? steady_ns(refusal->at) : 0,
                                     std::memory_order_relaxed);
}

void IngestWorker::on_queue_ready_changed(bool ready) {
  queue_ready_.store(ready);
  metrics_.redis_up.store(ready, std::memory_order_relaxed);
}

void IngestWorker::begin_drain() {
  if (stopping_) return;
  stopping_ = true;
  accept_guard_.reset();  // before the listeners it watches go
  tls_accept_guard_.reset();
  if (bound_socket_ != nullptr) {
    evhttp_del_accept_socket(http_.get(), bound_socket_);
    bound_socket_ = nullptr;
  }
  if (tls_bound_socket_ != nullptr) {
    evhttp_del_accept_socket(tls_http_.get(), tls_bound_socket_);
    tls_bound_socket_ = nullptr;
  }
  for (auto& server : extra_servers_) {
    server->accept_guard.reset();
    if (server->bound_socket != nullptr) {
      evhttp_del_accept_socket(server->http.get(), server->bound_socket);
      server->bound_socket = nullptr;
    }
  }
  for (auto& handler : handlers_) {
    if (handler) handler->drain();
  }
  drain_deadline_ = std::chrono::steady_clock::now() + kDrainDeadline;
  drain_timer_.start_periodic(kDrainPollInterval);
}

void IngestWorker::check_drained() {
  // Answered is not enough: an answer still in a socket buffer when the
  // loop ends would be cut off, so every answer must have been written.
  std::size_t busy = connections_->busy() + (tls_connections_ ? tls_connections_->busy() : 0);
  for (const auto& server : extra_servers_) busy += server->connections->busy();
  const bool drained = pending_.empty() && held_ == 0 && busy == 0;
  if (drained || std::chrono::steady_clock::now() >= drain_deadline_) {
    if (!drained) {
      core::log_warning(
          "drain deadline reached; aborting requests still waiting for Redis or MySQL",
          {{"COUNT", std::to_string(pending_.size() + held_)}});
    }
    event_base_loopexit(base_.get(), nullptr);
  }
}

}  // namespace gpsrelay::http
