// Per-connection limits for evhttp (see client_connections.h).
#include "http/client_connections.h"

#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>

#include "core/callback_guard.h"
#include "core/log.h"

namespace gpsrelay::http {
namespace {

// How long an answer from here (408, 503) may take to leave before the
// connection is closed anyway.
constexpr std::chrono::milliseconds kAnswerGrace{1000};
// The most a bufferevent reads from a socket at once (libevent's default).
constexpr std::uint64_t kOneRead = 16384;
// How often paused reads look for room that other threads gave back.
constexpr std::chrono::milliseconds kResumeCheckInterval{20};

// Whether a request's first bytes are a GET or HEAD request line.
bool starts_as_a_read(evbuffer* input) {
  char first[5] = {};
  const ev_ssize_t got = evbuffer_copyout(input, first, sizeof first);
  const std::string_view line(first, got > 0 ? static_cast<std::size_t>(got) : 0);
  return line.starts_with("GET ") || line.starts_with("HEAD ");
}

const char* reason_of(int status) {
  return status == 408 ? "Request Timeout" : "Service Unavailable";
}

}  // namespace

struct ClientConnections::Connection {
  enum class State {
    kIdle,        // between requests: evhttp's keep-alive timer applies
    kReading,     // bytes of a request arrived; the deadline runs
    kPaused,      // reading, but not read from until the budget has room
    kHandling,    // complete, with the request handler
    kOverBudget,  // a new request while the budget was spent; answered 503 soon
    kAnswering,   // our own answer is being written; then closed
    kUpgraded,    // handed over after a 101 (a WebSocket): none of ours
  };

  ClientConnections* owner;
  bufferevent* bev;
  evhttp_connection* evcon = nullptr;
  evbuffer_cb_entry* input_watch = nullptr;
  core::EventPtr deadline;
  // While paused nothing reads the socket, so a client that hangs up would
  // go unnoticed until the deadline; this watches for exactly that.
  core::EventPtr hang_up_watch;
  // Set while an open-ended answer (a stream) is being written.
  std::function<void()> stream_gone;
  Upgraded* upgraded = nullptr;  // set in kUpgraded, told when the connection goes
  State state = State::kIdle;
  std::uint64_t charged_bytes = 0;  // drawn from the in-flight budget
};

// The connection after a 101 (see UpgradedConnection). evhttp keeps its
// evhttp_connection, with the upgrade request unanswered on it, and never
// hears of it again: its callbacks are replaced by these, and freeing the
// evhttp_connection is how the socket is closed (evhttp_free does it too,
// should the server stop first).
class ClientConnections::Upgraded final : public UpgradedConnection {
 public:
  Upgraded(evhttp_connection* evcon, bufferevent* bev, Events& events)
      : evcon_(evcon), bev_(bev), events_(&events) {}
  ~Upgraded() override {
    events_ = nullptr;  // no on_gone for the owner tearing us down
    close();
  }
  Upgraded(const Upgraded&) = delete;
  Upgraded& operator=(const Upgraded&) = delete;

  evbuffer* input() override { return bufferevent_get_input(bev_); }
  evbuffer* output() override { return bufferevent_get_output(bev_); }
  bool open() const override { return evcon_ != nullptr; }
  void close() override {
    // Calls on_close, which calls lost().
    if (evcon_ != nullptr) evhttp_connection_free(evcon_);
  }

  // The connection went (ClientConnections' close callback).
  void lost() {
    evcon_ = nullptr;
    bev_ = nullptr;
    if (events_ != nullptr)
      core::guarded("upgraded connection end", [this] { events_->on_gone(); });
  }

  static void on_read(bufferevent* /*bev*/, void* self) {
    auto& upgraded = *static_cast<Upgraded*>(self);
    core::guarded("upgraded connection read", [&] { upgraded.events_->on_readable(); });
  }
  static void on_write(bufferevent* /*bev*/, void* self) {
    auto& upgraded = *static_cast<Upgraded*>(self);
    core::guarded("upgraded connection write", [&] { upgraded.events_->on_flushed(); });
  }
  static void on_event(bufferevent* /*bev*/, short /*what*/, void* self) {
    // End of file, an error: inside the bufferevent's own callback, which
    // holds a reference on it, so freeing it here is safe.
    static_cast<Upgraded*>(self)->close();
  }

 private:
  evhttp_connection* evcon_;
  bufferevent* bev_;
  Events* events_;
};

ClientConnections::ClientConnections(event_base* base, evhttp* http, Limits limits,
                                     core::WorkerMetrics& metrics, RequestIdGenerator& request_ids,
                                     BuffereventFactory make_bufferevent)
    : base_(base),
      limits_(limits),
      metrics_(metrics),
      request_ids_(request_ids),
      make_bufferevent_(std::move(make_bufferevent)),
      setup_trigger_(base, [this] { finish_setup(); }),
      resume_timer_(base, [this] { resume_paused(); }) {
  evhttp_set_bevcb(http, &ClientConnections::on_accept, this);
}

ClientConnections::~ClientConnections() {
  // evhttp_free ran before (member order of the owner) and closed every
  // connection it had set up, each through on_close; what is left here
  // never got that far.
  finish_setup();
}

bufferevent* ClientConnections::on_accept(event_base* base, void* self) {
  auto& owner = *static_cast<ClientConnections*>(self);
  if (!owner.limits_.connections.try_acquire(1)) {
    core::bump(owner.metrics_.connections_rejected);
    return owner.refuse(base);
  }
  bufferevent* accepted = nullptr;
  core::guarded("HTTP accept", [&] { accepted = owner.track(base); });
  if (accepted != nullptr) return accepted;
  owner.limits_.connections.release(1);
  return owner.refuse(base);
}

bufferevent* ClientConnections::track(event_base* base) {
  auto connection = std::make_unique<Connection>();
  connection->owner = this;
  connection->deadline.reset(
      event_new(base, -1, 0, &ClientConnections::on_deadline, connection.get()));
  if (!connection->deadline) return nullptr;
  bufferevent* bev = make_bufferevent_(base);
  if (bev == nullptr) return nullptr;
  connection->bev = bev;
  connection->input_watch =
      evbuffer_add_cb(bufferevent_get_input(bev), &ClientConnections::on_input, connection.get());
  if (connection->input_watch == nullptr) {
    bufferevent_free(bev);
    return nullptr;
  }
  // Held until finish_setup(): should evhttp drop the connection before
  // then, the bufferevent must still be there to tell us.
  bufferevent_incref(bev);
  awaiting_setup_.push_back(std::move(connection));
  metrics_.open_connections.fetch_add(1, std::memory_order_relaxed);
  if (awaiting_setup_.size() == 1) setup_trigger_.trigger();
  return bev;
}

bufferevent* ClientConnections::refuse(event_base* base) {
  // evhttp cannot be told "no" from here: returning nullptr makes it create
  // a bufferevent of its own. A pair bufferevent takes no socket, so evhttp
  // fails to set the connection up and closes the socket at once (logging
  // one line through libevent's log, which our logger rate-limits).
  bufferevent* pair[2] = {nullptr, nullptr};
  if (bufferevent_pair_new(base, BEV_OPT_CLOSE_ON_FREE, pair) != 0) return nullptr;
  bufferevent_free(pair[1]);
  return pair[0];
}

void ClientConnections::finish_setup() {
  for (auto& connection : awaiting_setup_) {
    bufferevent_data_cb read_callback = nullptr;
    void* evcon = nullptr;
    bufferevent_getcb(connection->bev, &read_callback, nullptr, nullptr, &evcon);
    bufferevent* bev = connection->bev;
    if (read_callback == nullptr || evcon == nullptr) {
      // evhttp gave up on it already (bufferevent_free clears the callbacks).
      forget(*connection);
    } else {
      // evhttp passes its connection as the bufferevent's callback argument.
      auto* http_connection = static_cast<evhttp_connection*>(evcon);
      connection->evcon = http_connection;
      evhttp_connection_set_closecb(http_connection, &ClientConnections::on_close,
                                    connection.get());
      by_connection_.emplace(http_connection, std::move(connection));
    }
    bufferevent_decref(bev);
  }
  awaiting_setup_.clear();
}

void ClientConnections::on_input(evbuffer* buffer, const evbuffer_cb_info* info,
                                 void* connection_ptr) {
  if (info->n_added == 0) return;
  auto& connection = *static_cast<Connection*>(connection_ptr);
  ClientConnections& owner = *connection.owner;
  // Runs inside the bufferevent's read, before evhttp parses: nothing may
  // be freed here, only decided.
  const bool within_budget = owner.charge(connection, info->n_added);
  switch (connection.state) {
    case Connection::State::kIdle:
      if (within_budget || starts_as_a_read(buffer)) {
        // Operator reads (/metrics, /health) go on while uploads fill the
        // budget; should one carry a body, that stops being read below.
        owner.start_request(connection);
      } else {
        // A new request while the budget is spent: refused, at once (on
        // the next pass of the loop; if evhttp completes the request
        // before then, the handler answers the 503 instead).
        connection.state = Connection::State::kOverBudget;
        owner.arm(connection, std::chrono::milliseconds(0));
      }
      return;
    case Connection::State::kReading:
      // A request under way is not refused for others' bytes: it stops
      // being read until there is room again (its deadline still runs).
      if (!within_budget) owner.pause(connection);
      return;
    case Connection::State::kPaused:
    case Connection::State::kHandling:
    case Connection::State::kOverBudget:
    case Connection::State::kAnswering:
    case Connection::State::kUpgraded:
      return;
  }
}

void ClientConnections::pause(Connection& connection) {
  connection.state = Connection::State::kPaused;
  bufferevent_disable(connection.bev, EV_READ);
  connection.hang_up_watch.reset(event_new(base_, bufferevent_getfd(connection.bev), EV_CLOSED,
                                           &ClientConnections::on_hang_up, &connection));
  if (connection.hang_up_watch && event_add(connection.hang_up_watch.get(), nullptr) != 0) {
    connection.hang_up_watch.reset();  // then the deadline ends it
  }
  core::bump(metrics_.reads_paused);
  paused_.push_back(&connection);
  if (!resume_timer_.pending()) resume_timer_.start_periodic(kResumeCheckInterval);
}

void ClientConnections::resume_paused() {
  // Oldest first, as many as the room can take one read each: all of them
  // at once would overshoot the budget by a read per connection.
  const std::uint64_t used = limits_.inflight_bytes.used();
  const std::uint64_t limit = limits_.inflight_bytes.limit();
  std::uint64_t room = used < limit ? limit - used : 0;
  while (!paused_.empty() && room > 0) {
    room -= std::min(room, kOneRead);
    Connection& connection = *paused_.front();
    paused_.pop_front();
    connection.state = Connection::State::kReading;
    connection.hang_up_watch.reset();
    bufferevent_enable(connection.bev, EV_READ);
  }
  if (paused_.empty()) resume_timer_.stop();
}

void ClientConnections::on_hang_up(evutil_socket_t, short, void* connection_ptr) {
  auto& connection = *static_cast<Connection*>(connection_ptr);
  // Calls on_close, which forgets the connection and its bytes.
  evhttp_connection_free(connection.evcon);
}

void ClientConnections::start_request(Connection& connection) {
  connection.state = Connection::State::kReading;
  arm(connection, limits_.request_timeout);
}

bool ClientConnections::on_request_complete(evhttp_request* request) {
  const auto found = by_connection_.find(evhttp_request_get_connection(request));
  if (found == by_connection_.end()) return true;
  Connection& connection = *found->second;
  event_del(connection.deadline.get());
  if (connection.state == Connection::State::kPaused) {
    // Completed from bytes read before the pause; evhttp reads no more now.
    paused_.erase(std::find(paused_.begin(), paused_.end(), &connection));
    connection.hang_up_watch.reset();
  }
  const bool over_budget = connection.state == Connection::State::kOverBudget;
  connection.state = Connection::State::kHandling;
  evhttp_request_set_on_complete_cb(request, &ClientConnections::on_response_sent, &connection);
  return !over_budget;
}

bool ClientConnections::watch_stream(evhttp_request* request, std::function<void()> gone) {
  const auto found = by_connection_.find(evhttp_request_get_connection(request));
  if (found == by_connection_.end()) return false;
  Connection& connection = *found->second;
  connection.stream_gone = std::move(gone);
  connection.hang_up_watch.reset(event_new(base_, bufferevent_getfd(connection.bev), EV_CLOSED,
                                           &ClientConnections::on_hang_up, &connection));
  if (connection.hang_up_watch && event_add(connection.hang_up_watch.get(), nullptr) != 0) {
    connection.hang_up_watch.reset();  // then a failed write or evhttp's timeout ends it
  }
  return true;
}

std::size_t ClientConnections::busy() const {
  std::size_t count = 0;
  for (const auto& [evcon, connection] : by_connection_) {
    if (connection->state == Connection::State::kHandling ||
        connection->state == Connection::State::kAnswering) {
      ++count;
    }
  }
  return count;
}

void ClientConnections::unwatch_stream(evhttp_connection* evcon) {
  const auto found = by_connection_.find(evcon);
  if (found == by_connection_.end()) return;
  found->second->stream_gone = nullptr;
  found->second->hang_up_watch.reset();
}

std::unique_ptr<UpgradedConnection> ClientConnections::upgrade(evhttp_request* request,
                                                               std::string_view head,
                                                               UpgradedConnection::Events& events) {
  const auto found = by_connection_.find(evhttp_request_get_connection(request));
  if (found == by_connection_.end()) return nullptr;
  Connection& connection = *found->second;
  // No longer an HTTP request: its bytes are the protocol's to bound, and
  // it has no deadline (the protocol's keep-alive finds dead peers).
  if (connection.input_watch != nullptr) {
    evbuffer_remove_cb_entry(bufferevent_get_input(connection.bev), connection.input_watch);
    connection.input_watch = nullptr;
  }
  event_del(connection.deadline.get());
  discharge(connection);
  resume_paused();
  connection.state = Connection::State::kUpgraded;
  auto upgraded = std::make_unique<Upgraded>(connection.evcon, connection.bev, events);
  connection.upgraded = upgraded.get();
  bufferevent* bev = connection.bev;
  bufferevent_setcb(bev, &Upgraded::on_read, &Upgraded::on_write, &Upgraded::on_event,
                    upgraded.get());
  bufferevent_set_timeouts(bev, nullptr, nullptr);
  // Small frames leave at once rather than wait for the previous one's
  // acknowledgement (Nagle): live updates are about latency.
  const int on = 1;
  setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  if (bufferevent_write(bev, head.data(), head.size()) != 0 ||
      bufferevent_enable(bev, EV_READ | EV_WRITE) != 0) {
    upgraded->close();
    return nullptr;
  }
  return upgraded;
}

void ClientConnections::on_response_sent(evhttp_request* /*request*/, void* connection_ptr) {
  auto& connection = *static_cast<Connection*>(connection_ptr);
  ClientConnections& owner = *connection.owner;
  owner.discharge(connection);
  owner.resume_paused();
  connection.state = Connection::State::kIdle;
  // Bytes of a pipelined next request may be waiting already.
  const std::size_t waiting = evbuffer_get_length(bufferevent_get_input(connection.bev));
  if (waiting > 0) {
    owner.charge(connection, waiting);
    owner.start_request(connection);
  }
}

bool ClientConnections::arm(Connection& connection, std::chrono::milliseconds delay) {
  const timeval after = core::to_timeval(delay);
  if (event_add(connection.deadline.get(), &after) == 0) return true;
  // Only when libevent cannot allocate: the request then has no deadline of
  // its own, but evhttp's idle timer still ends a silent connection.
  timer_errors_.log(core::LogLevel::kError, "cannot arm a connection's deadline");
  return false;
}

void ClientConnections::on_deadline(evutil_socket_t, short, void* connection_ptr) {
  auto& connection = *static_cast<Connection*>(connection_ptr);
  core::guarded("HTTP request deadline", [&] { connection.owner->expire(connection); });
}

void ClientConnections::expire(Connection& connection) {
  switch (connection.state) {
    case Connection::State::kReading:
    case Connection::State::kPaused:
      core::bump(metrics_.requests_timed_out);
      answer_and_close(connection, 408, "request not received within http.request_timeout");
      return;
    case Connection::State::kOverBudget:
      core::bump(metrics_.requests_over_budget);
      answer_and_close(connection, 503, "too many request bytes in flight");
      return;
    case Connection::State::kAnswering:
      // The client does not read our answer: close without it.
      evhttp_connection_free(connection.evcon);  // calls on_close, which forgets it
      return;
    case Connection::State::kIdle:
    case Connection::State::kHandling:
    case Connection::State::kUpgraded:
      return;
  }
}

void ClientConnections::answer_and_close(Connection& connection, int status,
                                         std::string_view message) {
  if (connection.evcon == nullptr) return;
  connection.state = Connection::State::kAnswering;
  // evhttp is mid-request and has no call to answer it: take the
  // bufferevent back from it (its callbacks would misread our write as the
  // end of a response of its own), drop what the client sent, write the
  // answer, and let evhttp free the connection once it left.
  bufferevent* bev = connection.bev;
  bufferevent_setcb(bev, nullptr, &ClientConnections::on_answer_flushed,
                    &ClientConnections::on_answer_event, &connection);
  bufferevent_disable(bev, EV_READ);
  evbuffer* input = bufferevent_get_input(bev);
  evbuffer_drain(input, evbuffer_get_length(input));
  // Given back now, not when the connection is freed: a client that reads
  // this answer may at once send more on another connection, which must
  // not find the budget still spent.
  discharge(connection);
  resume_paused();
  // The request was never parsed, so the client's X-Request-ID is unknown:
  // a generated one, as for a request that sent none.
  const std::string request_id = request_ids_.next();
  std::string body = "{\"error\":\"";
  body += message;
  body += "\",\"request_id\":\"";
  body += request_id;
  body += "\"}";
  std::string head =
      "HTTP/1.1 " + std::to_string(status) + " " + reason_of(status) +
      "\r\nContent-Type: application/json\r\nConnection: close\r\nX-Request-ID: " + request_id +
      "\r\n";
  if (status == 503) head += "Retry-After: 1\r\n";
  head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  head += body;
  metrics_.count_request(status, std::chrono::nanoseconds(0));
  if (bufferevent_write(bev, head.data(), head.size()) != 0 ||
      bufferevent_enable(bev, EV_WRITE) != 0 || !arm(connection, kAnswerGrace)) {
    evhttp_connection_free(connection.evcon);  // without the answer, then
  }
}

void ClientConnections::on_answer_flushed(bufferevent* /*bev*/, void* connection_ptr) {
  auto& connection = *static_cast<Connection*>(connection_ptr);
  // Inside the bufferevent's own callback, which holds a reference on it:
  // freeing it here is safe (evhttp does the same after its responses).
  evhttp_connection_free(connection.evcon);
}

void ClientConnections::on_answer_event(bufferevent* /*bev*/, short /*what*/,
                                        void* connection_ptr) {
  auto& connection = *static_cast<Connection*>(connection_ptr);
  evhttp_connection_free(connection.evcon);
}

void ClientConnections::on_close(evhttp_connection* evcon, void* connection_ptr) {
  auto& connection = *static_cast<Connection*>(connection_ptr);
  ClientConnections& owner = *connection.owner;
  evhttp_connection_set_closecb(evcon, nullptr, nullptr);
  const auto found = owner.by_connection_.find(evcon);
  if (found == owner.by_connection_.end()) return;
  const std::unique_ptr<Connection> gone = std::move(found->second);
  owner.by_connection_.erase(found);
  owner.forget(*gone);
  if (gone->upgraded != nullptr) gone->upgraded->lost();
  if (gone->stream_gone) {
    // Last: the stream's owner may tear the stream down from in here.
    const std::function<void()> notify = std::move(gone->stream_gone);
    core::guarded("stream end", notify);
  }
}

void ClientConnections::forget(Connection& connection) {
  if (connection.state == Connection::State::kPaused) {
    paused_.erase(std::find(paused_.begin(), paused_.end(), &connection));
  }
  if (connection.input_watch != nullptr) {
    evbuffer_remove_cb_entry(bufferevent_get_input(connection.bev), connection.input_watch);
    connection.input_watch = nullptr;
  }
  event_del(connection.deadline.get());
  discharge(connection);
  limits_.connections.release(1);
  metrics_.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

bool ClientConnections::charge(Connection& connection, std::uint64_t bytes) {
  connection.charged_bytes += bytes;
  metrics_.inflight_bytes.fetch_add(static_cast<std::int64_t>(bytes), std::memory_order_relaxed);
  return limits_.inflight_bytes.acquire_anyway(bytes);
}

void ClientConnections::discharge(Connection& connection) {
  limits_.inflight_bytes.release(connection.charged_bytes);
  metrics_.inflight_bytes.fetch_sub(static_cast<std::int64_t>(connection.charged_bytes),
                                    std::memory_order_relaxed);
  connection.charged_bytes = 0;
}

}  // namespace gpsrelay::http
