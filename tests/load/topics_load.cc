// topics_load: the load client for the topics benchmark (scripts/bench.sh
// topics, issue 13). On one libevent loop it keeps N keep-alive evhttp
// connections to gpsrelayd busy in a closed loop (a connection sends its next
// request as soon as the previous one is answered) and measures each
// request's latency.
//
//   topics_load --mode publish --connections 64 --duration 30s --size 1024
//     POST /v1/topics/{t}/publish {"value":"<size bytes>"}, one message each.
//   topics_load --mode batch --connections 8 --batch 50 --size 1024 [--total N]
//     POST /v1/topics/{t}/batch {"messages":[…batch…]}; stops after --total
//     messages were sent or --duration passed, whichever comes first.
//   topics_load --mode consume --connections 8 --max 500 --wait 1s
//     each connection joins group {g} for topic {t}, then polls up to --max
//     messages and acks all of them, until a poll comes back empty after
//     --wait (the topic is drained) or --duration passed.
//
// It prints "key: value" lines: throughput, latency percentiles in ms
// (p50 p90 p99 p99.9 max), errors, its own CPU (getrusage) and, for every
// --watch NAME=PID, that process's CPU over the measured window, so the
// split between client, daemon and Redis on a small machine is visible.
// Answers are parsed with jansson (poll answers by a checked scan, see
// scan_polled); the bodies sent are built once (publish,
// batch) or with plain string appends (ack): the client shares the cores
// with what it measures and must stay cheap. A measuring tool, not a test.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/c_handle.h"
#include "load_common.h"

namespace {

using gpsrelay::load::cpu_seconds_of;
using gpsrelay::load::own_cpu_seconds;
using gpsrelay::load::parse_seconds;
using gpsrelay::load::percentiles;

// In consume mode with --parse scan, every this many poll answers are also
// parsed with jansson and compared with the scan.
constexpr std::uint64_t kCheckEvery = 64;

// Each C handle freed by its library's own function (the daemon's CHandle).
using EventBasePtr = gpsrelay::core::CHandle<event_base, event_base_free>;
using EventPtr = gpsrelay::core::CHandle<event, event_free>;
using EvhttpConnectionPtr = gpsrelay::core::CHandle<evhttp_connection, evhttp_connection_free>;
using JsonPtr = gpsrelay::core::CHandle<json_t, json_decref>;

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// ---------------------------------------------------------------- options

struct Watched {
  std::string name;
  int pid = 0;
  double cpu_start_s = 0;
};

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string topic = "bench";
  std::string group = "bench";
  int connections = 0;  // 0: the mode's default
  double duration_s = 30;
  double warmup_s = 0;  // publish/batch: run, but do not measure, this long first
  std::size_t size_bytes = 1024;
  int batch = 50;
  std::uint64_t total = 0;  // batch: stop after this many messages; 0 = duration only
  int max = 500;
  std::string wait = "1s";
  std::string parse = "scan";  // consume: how poll answers are read (scan or json)
  std::vector<Watched> watched;
};

void usage() {
  std::fprintf(stderr,
               "usage: topics_load --mode publish|batch|consume --port P [--host H]\n"
               "         [--topic bench] [--group bench] [--connections N] [--duration 30s]\n"
               "         [--warmup 0s] [--size 1024] [--batch 50] [--total N]\n"
               "         [--max 500] [--wait 1s] [--parse scan|json] [--watch NAME=PID]...\n");
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage();
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--mode") {
      o.mode = value;
    } else if (flag == "--host") {
      o.host = value;
    } else if (flag == "--port") {
      o.port = std::stoi(value);
    } else if (flag == "--topic") {
      o.topic = value;
    } else if (flag == "--group") {
      o.group = value;
    } else if (flag == "--connections") {
      o.connections = std::stoi(value);
    } else if (flag == "--duration") {
      o.duration_s = parse_seconds(value);
    } else if (flag == "--warmup") {
      o.warmup_s = parse_seconds(value);
    } else if (flag == "--size") {
      o.size_bytes = std::stoul(value);
    } else if (flag == "--batch") {
      o.batch = std::stoi(value);
    } else if (flag == "--total") {
      o.total = std::stoull(value);
    } else if (flag == "--max") {
      o.max = std::stoi(value);
    } else if (flag == "--wait") {
      o.wait = value;
      parse_seconds(value);  // rejects a bad value here, not in the server's 400
    } else if (flag == "--parse") {
      if (value != "scan" && value != "json") throw std::invalid_argument("--parse scan|json");
      o.parse = value;
    } else if (flag == "--watch") {
      const auto equals = value.find('=');
      if (equals == std::string::npos) throw std::invalid_argument("--watch NAME=PID");
      o.watched.push_back({value.substr(0, equals), std::stoi(value.substr(equals + 1)), 0});
    } else {
      throw std::invalid_argument("unknown option " + flag);
    }
  }
  if (o.mode != "publish" && o.mode != "batch" && o.mode != "consume") {
    throw std::invalid_argument("--mode publish|batch|consume");
  }
  if (o.port <= 0) throw std::invalid_argument("--port is required");
  if (o.connections == 0) o.connections = o.mode == "publish" ? 64 : 8;
  if (o.connections < 0 || o.batch <= 0 || o.max <= 0 || o.duration_s <= 0) {
    throw std::invalid_argument("--connections, --batch, --max, --duration must be > 0");
  }
  return o;
}

// ---------------------------------------------------------------- helpers

// The answer's body as JSON, or null when it is none.
JsonPtr body_json(evhttp_request* request) {
  evbuffer* input = evhttp_request_get_input_buffer(request);
  const auto length = evbuffer_get_length(input);
  if (length == 0) return nullptr;
  const auto* data = reinterpret_cast<const char*>(evbuffer_pullup(input, -1));
  return JsonPtr(json_loadb(data, length, 0, nullptr));
}

// What the client needs of one polled message to acknowledge it.
struct Polled {
  std::string topic;
  long long partition = 0;
  std::string id;
  long long deliveries = 0;
  bool operator==(const Polled&) const = default;
};

// The messages of a poll answer, parsed with jansson; false if it is none.
bool parse_polled_json(std::string_view body, std::vector<Polled>& out) {
  const JsonPtr answer(json_loadb(body.data(), body.size(), 0, nullptr));
  json_t* messages = answer ? json_object_get(answer.get(), "messages") : nullptr;
  if (!json_is_array(messages)) return false;
  for (std::size_t i = 0; i < json_array_size(messages); ++i) {
    json_t* m = json_array_get(messages, i);
    const char* topic = json_string_value(json_object_get(m, "topic"));
    const char* id = json_string_value(json_object_get(m, "id"));
    if (topic == nullptr || id == nullptr) return false;
    out.push_back({topic, json_integer_value(json_object_get(m, "partition")), id,
                   json_integer_value(json_object_get(m, "deliveries"))});
  }
  return true;
}

// The same from a scan of the answer, for the consume loop: jansson costs
// about 9 us per 1 KB message here (it copies and checks every value), which
// made the client the largest CPU user of the machine. The scan relies on
// gpsrelayd's field order ({"topic","partition","id",…,"deliveries"}) and on
// values holding no object with those keys (the benchmark's values are
// strings); every kCheckEvery-th answer is parsed both ways and compared.
bool scan_polled(std::string_view body, std::vector<Polled>& out) {
  if (body.rfind("{\"messages\":[", 0) != 0) return false;
  constexpr std::string_view kTopic = "{\"topic\":\"";
  constexpr std::string_view kPartition = ",\"partition\":";
  constexpr std::string_view kId = ",\"id\":\"";
  constexpr std::string_view kDeliveries = ",\"deliveries\":";
  std::size_t at = 0;
  while ((at = body.find(kTopic, at)) != std::string_view::npos) {
    Polled m;
    at += kTopic.size();
    const std::size_t topic_end = body.find('"', at);
    if (topic_end == std::string_view::npos) return false;
    m.topic = body.substr(at, topic_end - at);
    at = topic_end + 1;
    if (body.compare(at, kPartition.size(), kPartition) != 0) return false;
    m.partition = std::strtoll(body.data() + at + kPartition.size(), nullptr, 10);
    at = body.find(kId, at);
    if (at == std::string_view::npos) return false;
    at += kId.size();
    const std::size_t id_end = body.find('"', at);
    if (id_end == std::string_view::npos) return false;
    m.id = body.substr(at, id_end - at);
    at = body.find(kDeliveries, id_end);
    if (at == std::string_view::npos) return false;
    at += kDeliveries.size();
    m.deliveries = std::strtoll(body.data() + at, nullptr, 10);
    out.push_back(std::move(m));
  }
  return true;
}

// One message's JSON: a string value of `size` bytes (printable, no escapes,
// so the body is exactly what the server stores).
std::string message_json(std::size_t size) {
  std::string value(size, 'x');
  for (std::size_t i = 0; i < size; ++i) value[i] = static_cast<char>('a' + i % 26);
  return "{\"value\":\"" + value + "\"}";
}

// ---------------------------------------------------------------- the run

class LoadRun;

// One keep-alive connection and the request it has in flight (at most one:
// evhttp's client does not pipeline).
struct Connection {
  LoadRun* run = nullptr;
  EvhttpConnectionPtr http;
  Clock::time_point sent;
  std::string consumer_id;  // consume mode, after join
  std::string ack_body;     // consume mode: what the last poll delivered
  std::size_t to_ack = 0;
  evutil_socket_t nodelay_fd = -1;  // the socket TCP_NODELAY was last set on
  enum class Step { kIdle, kPublish, kJoin, kPoll, kAck } step = Step::kIdle;
  bool done = false;
};

class LoadRun {
 public:
  explicit LoadRun(Options options);
  int run();

 private:
  void send(Connection& c, Connection::Step step, evhttp_cmd_type method, const std::string& uri,
            const std::string* body);
  static void on_answer(evhttp_request* request, void* user);
  void answered(Connection& c, evhttp_request* request);
  void next(Connection& c);
  void publish_answered(Connection& c, int status, evhttp_request* request, double ms);
  void join_answered(Connection& c, int status, evhttp_request* request);
  void poll_answered(Connection& c, int status, evhttp_request* request, double ms);
  void ack_answered(Connection& c, int status, evhttp_request* request, double ms);
  void error(Connection& c, int status, const char* what);
  EventPtr start_timer(double seconds, event_callback_fn fire);
  void start_measuring();
  void stamp_cpu();
  void end_of_duration();
  void finish_if_idle();
  void print_report();

  bool measuring(Clock::time_point at) const { return measuring_ && at >= measure_start_; }

  Options options_;
  EventBasePtr base_;
  std::vector<Connection> connections_;
  std::string publish_body_;
  std::string batch_body_;
  std::string publish_uri_;
  std::string batch_uri_;
  std::string group_uri_;  // /v1/groups/{g}
  std::string poll_query_;
  std::string join_body_;
  EventPtr warmup_timer_;
  EventPtr duration_timer_;
  bool stopping_ = false;  // no new requests; finish what is in flight
  bool measuring_ = false;
  Clock::time_point measure_start_;
  Clock::time_point last_success_;  // end of the measured window
  double own_cpu_start_ = 0;
  double own_cpu_end_ = -1;
  Clock::time_point cpu_end_;
  std::vector<double> watched_cpu_end_;

  // Counted inside the measured window only.
  std::uint64_t requests_ok_ = 0;
  std::uint64_t messages_sent_ = 0;  // publish/batch: issued, for --total
  std::uint64_t messages_ok_ = 0;    // publish/batch: acknowledged; consume: polled
  std::uint64_t acked_ = 0;          // consume: the server's "acked" sum
  std::uint64_t polls_ = 0;
  std::uint64_t empty_polls_ = 0;
  std::uint64_t redelivered_ = 0;
  std::uint64_t parse_checks_ = 0;  // consume: answers read both ways
  std::uint64_t parse_mismatches_ =
      0;  // … where the scan differed from jansson  // consume: "deliveries" > 1
  std::uint64_t errors_ = 0;  // non-2xx and transport, whole run
  std::uint64_t transport_errors_ = 0;
  std::string last_error_;
  std::vector<float> latency_ms_;  // publish/batch requests, or polls
  std::vector<float> ack_latency_ms_;
};

LoadRun::LoadRun(Options options) : options_(std::move(options)), base_(event_base_new()) {
  if (!base_) throw std::runtime_error("event_base_new failed");
  publish_uri_ = "/v1/topics/" + options_.topic + "/publish";
  batch_uri_ = "/v1/topics/" + options_.topic + "/batch";
  group_uri_ = "/v1/groups/" + options_.group;
  const std::string one = message_json(options_.size_bytes);
  publish_body_ = one;
  batch_body_ = "{\"messages\":[";
  for (int i = 0; i < options_.batch; ++i) {
    if (i > 0) batch_body_ += ',';
    batch_body_ += one;
  }
  batch_body_ += "]}";
  join_body_ = "{\"topics\":[\"" + options_.topic + "\"]}";
  poll_query_ = "&max=" + std::to_string(options_.max) + "&wait=" + options_.wait;
  connections_.resize(static_cast<std::size_t>(options_.connections));
  latency_ms_.reserve(1 << 20);
}

int LoadRun::run() {
  for (Connection& c : connections_) {
    c.run = this;
    c.http.reset(evhttp_connection_base_new(base_.get(), nullptr, options_.host.c_str(),
                                            static_cast<ev_uint16_t>(options_.port)));
    if (!c.http) throw std::runtime_error("evhttp_connection_base_new failed");
    // A long-poll waits up to --wait on the server; give it room.
    evhttp_connection_set_timeout(c.http.get(),
                                  static_cast<int>(10 + std::ceil(parse_seconds(options_.wait))));
  }
  if (options_.warmup_s > 0 && options_.mode != "consume") {
    warmup_timer_ = start_timer(options_.warmup_s, [](evutil_socket_t, short, void* user) {
      static_cast<LoadRun*>(user)->start_measuring();
    });
  } else {
    start_measuring();
  }
  duration_timer_ = start_timer(
      options_.warmup_s + options_.duration_s,
      [](evutil_socket_t, short, void* user) { static_cast<LoadRun*>(user)->end_of_duration(); });
  for (Connection& c : connections_) next(c);
  event_base_dispatch(base_.get());
  print_report();
  return errors_ > 0 && requests_ok_ == 0 ? 1 : 0;
}

EventPtr LoadRun::start_timer(double seconds, event_callback_fn fire) {
  EventPtr timer(evtimer_new(base_.get(), fire, this));
  if (!timer) throw std::runtime_error("evtimer_new failed");
  const timeval after{static_cast<time_t>(seconds),
                      static_cast<suseconds_t>(std::fmod(seconds, 1) * 1e6)};
  evtimer_add(timer.get(), &after);
  return timer;
}

void LoadRun::start_measuring() {
  measuring_ = true;
  measure_start_ = Clock::now();
  last_success_ = measure_start_;
  own_cpu_start_ = own_cpu_seconds();
  for (Watched& w : options_.watched) w.cpu_start_s = cpu_seconds_of(w.pid);
}

void LoadRun::end_of_duration() {
  stopping_ = true;
  finish_if_idle();
}

void LoadRun::finish_if_idle() {
  for (const Connection& c : connections_) {
    if (c.step != Connection::Step::kIdle) return;
  }
  stamp_cpu();
  event_base_loopbreak(base_.get());
}

// Ends the CPU window (once): at the end of the run, or in consume mode at
// the first empty poll, so that the idle wait of the last long-polls does
// not dilute the percentages.
void LoadRun::stamp_cpu() {
  if (own_cpu_end_ >= 0) return;
  cpu_end_ = Clock::now();
  own_cpu_end_ = own_cpu_seconds();
  for (const Watched& w : options_.watched) watched_cpu_end_.push_back(cpu_seconds_of(w.pid));
}

void LoadRun::send(Connection& c, Connection::Step step, evhttp_cmd_type method,
                   const std::string& uri, const std::string* body) {
  evhttp_request* request = evhttp_request_new(&LoadRun::on_answer, &c);
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Host", options_.host.c_str());
  if (body != nullptr) {
    evhttp_add_header(headers, "Content-Type", "application/json");
    // The large bodies are built once; a reference saves copying them.
    evbuffer_add_reference(evhttp_request_get_output_buffer(request), body->data(), body->size(),
                           nullptr, nullptr);
  }
  c.step = step;
  c.sent = Clock::now();
  // On failure evhttp_make_request has freed the request and calls nothing.
  if (evhttp_make_request(c.http.get(), request, method, uri.c_str()) != 0) {
    c.step = Connection::Step::kIdle;
    ++errors_;
    ++transport_errors_;
    last_error_ = "evhttp_make_request failed";
    c.done = true;
    finish_if_idle();
    return;
  }
  // evhttp sends the headers and a large body in separate writes; with
  // Nagle on, the body's last segment waits for the ACK of the first, which
  // the server delays by 40 ms. Common clients (curl, Go, Java) set
  // TCP_NODELAY; so do we, on each new socket (evhttp makes a new one when it
  // reconnects, during evhttp_make_request).
  const evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(c.http.get()));
  if (fd >= 0 && fd != c.nodelay_fd) {
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c.nodelay_fd = fd;
  }
}

void LoadRun::on_answer(evhttp_request* request, void* user) {
  auto& c = *static_cast<Connection*>(user);
  c.run->answered(c, request);
}

void LoadRun::answered(Connection& c, evhttp_request* request) {
  const auto now = Clock::now();
  const double ms = ms_between(c.sent, now);
  const int status = request != nullptr ? evhttp_request_get_response_code(request) : 0;
  const Connection::Step step = c.step;
  c.step = Connection::Step::kIdle;
  switch (step) {
    case Connection::Step::kPublish:
      publish_answered(c, status, request, ms);
      break;
    case Connection::Step::kJoin:
      join_answered(c, status, request);
      break;
    case Connection::Step::kPoll:
      poll_answered(c, status, request, ms);
      break;
    case Connection::Step::kAck:
      ack_answered(c, status, request, ms);
      break;
    case Connection::Step::kIdle:
      break;
  }
  next(c);
}

// The connection's next request, or nothing once the run stops.
void LoadRun::next(Connection& c) {
  if (stopping_ || c.done || errors_ > 1000) {
    if (errors_ > 1000) stopping_ = true;  // the server is gone or refusing: stop
    finish_if_idle();
    return;
  }
  if (options_.mode == "publish") {
    messages_sent_ += measuring(Clock::now()) ? 1 : 0;
    send(c, Connection::Step::kPublish, EVHTTP_REQ_POST, publish_uri_, &publish_body_);
  } else if (options_.mode == "batch") {
    if (options_.total > 0 && messages_sent_ >= options_.total) {
      c.done = true;
      finish_if_idle();
      return;
    }
    messages_sent_ += static_cast<std::uint64_t>(options_.batch);
    send(c, Connection::Step::kPublish, EVHTTP_REQ_POST, batch_uri_, &batch_body_);
  } else if (c.consumer_id.empty()) {
    send(c, Connection::Step::kJoin, EVHTTP_REQ_POST, group_uri_ + "/join", &join_body_);
  } else if (c.to_ack > 0) {
    send(c, Connection::Step::kAck, EVHTTP_REQ_POST, group_uri_ + "/ack", &c.ack_body);
  } else {
    send(c, Connection::Step::kPoll, EVHTTP_REQ_GET,
         group_uri_ + "/poll?consumer_id=" + c.consumer_id + poll_query_, nullptr);
  }
}

void LoadRun::error(Connection& c, int status, const char* what) {
  ++errors_;
  if (status == 0) ++transport_errors_;
  last_error_ = std::string(what) + ": " + (status == 0 ? "no answer" : std::to_string(status));
  if (c.step == Connection::Step::kIdle && options_.mode == "consume" && c.consumer_id.empty()) {
    c.done = true;  // cannot join: nothing this connection can do
  }
}

void LoadRun::publish_answered(Connection& c, int status, evhttp_request* request, double ms) {
  if (status != 201) return error(c, status, "publish");
  const JsonPtr answer = body_json(request);
  // publish: {"partition","id"}; batch: {"results":[{"partition","id"}…]}.
  std::size_t messages = 0;
  if (options_.mode == "publish") {
    messages = answer && json_is_string(json_object_get(answer.get(), "id")) ? 1 : 0;
  } else if (answer) {
    messages = json_array_size(json_object_get(answer.get(), "results"));
  }
  if (messages == 0) return error(c, status, "publish answer without ids");
  const auto now = Clock::now();
  if (!measuring(c.sent)) return;
  ++requests_ok_;
  messages_ok_ += messages;
  latency_ms_.push_back(static_cast<float>(ms));
  last_success_ = now;
}

void LoadRun::join_answered(Connection& c, int status, evhttp_request* request) {
  if (status != 200) return error(c, status, "join");
  const JsonPtr answer = body_json(request);
  const char* id =
      answer ? json_string_value(json_object_get(answer.get(), "consumer_id")) : nullptr;
  if (id == nullptr) return error(c, status, "join answer without consumer_id");
  c.consumer_id = id;
}

void LoadRun::poll_answered(Connection& c, int status, evhttp_request* request, double ms) {
  if (status != 200) return error(c, status, "poll");
  evbuffer* input = evhttp_request_get_input_buffer(request);
  const std::string_view body(reinterpret_cast<const char*>(evbuffer_pullup(input, -1)),
                              evbuffer_get_length(input));
  std::vector<Polled> polled;
  const bool check = options_.parse == "json" || polls_ % kCheckEvery == 0;
  if (check && !parse_polled_json(body, polled)) {
    return error(c, status, "poll answer without messages");
  }
  if (options_.parse == "scan") {
    std::vector<Polled> scanned;
    if (!scan_polled(body, scanned)) return error(c, status, "poll answer without messages");
    if (check) {
      ++parse_checks_;
      if (scanned != polled) ++parse_mismatches_;
    }
    polled = std::move(scanned);
  }
  ++polls_;
  const std::size_t n = polled.size();
  // An empty poll is the long-poll's wait running out, not service time.
  if (n > 0) latency_ms_.push_back(static_cast<float>(ms));
  if (n == 0) {
    // Empty after the long-poll's wait: nothing left for this consumer.
    ++empty_polls_;
    c.done = true;
    stamp_cpu();
    return;
  }
  messages_ok_ += n;
  c.ack_body = "{\"consumer_id\":\"" + c.consumer_id + "\",\"messages\":[";
  for (std::size_t i = 0; i < n; ++i) {
    const Polled& m = polled[i];
    if (m.deliveries > 1) ++redelivered_;
    if (i > 0) c.ack_body += ',';
    // Topic names and stream ids need no JSON escaping (A-Z a-z 0-9 . _ -).
    c.ack_body += "{\"topic\":\"";
    c.ack_body += m.topic;
    c.ack_body += "\",\"partition\":";
    c.ack_body += std::to_string(m.partition);
    c.ack_body += ",\"id\":\"";
    c.ack_body += m.id;
    c.ack_body += "\"}";
  }
  c.ack_body += "]}";
  c.to_ack = n;
}

void LoadRun::ack_answered(Connection& c, int status, evhttp_request* request, double ms) {
  c.to_ack = 0;  // acked or not, poll again: unacked messages come back later
  if (status != 200) return error(c, status, "ack");
  const JsonPtr answer = body_json(request);
  json_t* acked = answer ? json_object_get(answer.get(), "acked") : nullptr;
  if (!json_is_integer(acked)) return error(c, status, "ack answer without acked");
  acked_ += static_cast<std::uint64_t>(json_integer_value(acked));
  ack_latency_ms_.push_back(static_cast<float>(ms));
  last_success_ = Clock::now();
}

void LoadRun::print_report() {
  // The window: from the start of measuring to the last successful answer
  // (in consume mode this leaves out the final empty long-poll's wait).
  const double seconds = std::max(1e-9, ms_between(measure_start_, last_success_) / 1000);
  double user = 0;
  double system = 0;
  own_cpu_seconds(&user, &system);
  const double own_window = own_cpu_end_ - own_cpu_start_;
  const double cpu_seconds = std::max(1e-9, ms_between(measure_start_, cpu_end_) / 1000);
  std::printf("mode: %s\n", options_.mode.c_str());
  std::printf("connections: %d\n", options_.connections);
  std::printf("seconds: %.2f\n", seconds);
  if (options_.mode == "consume") {
    std::printf("polls: %llu (empty %llu)\n", static_cast<unsigned long long>(polls_),
                static_cast<unsigned long long>(empty_polls_));
    std::printf("messages_polled: %llu\n", static_cast<unsigned long long>(messages_ok_));
    std::printf("parse: %s (checked against jansson: %llu answers, %llu differed)\n",
                options_.parse.c_str(), static_cast<unsigned long long>(parse_checks_),
                static_cast<unsigned long long>(parse_mismatches_));
    std::printf("messages_redelivered: %llu\n", static_cast<unsigned long long>(redelivered_));
    std::printf("messages_acked: %llu\n", static_cast<unsigned long long>(acked_));
    std::printf("msg_per_s: %.0f\n", static_cast<double>(acked_) / seconds);
    std::printf("poll_latency_ms (polls with messages) p50 p90 p99 p99.9 max: %s\n",
                percentiles(latency_ms_).c_str());
    std::printf("ack_latency_ms p50 p90 p99 p99.9 max: %s\n", percentiles(ack_latency_ms_).c_str());
  } else {
    std::printf("message_bytes: %zu\n", options_.size_bytes);
    if (options_.mode == "batch") std::printf("batch: %d\n", options_.batch);
    std::printf("requests: %llu\n", static_cast<unsigned long long>(requests_ok_));
    std::printf("messages: %llu\n", static_cast<unsigned long long>(messages_ok_));
    std::printf("requests_per_s: %.0f\n", static_cast<double>(requests_ok_) / seconds);
    std::printf("msg_per_s: %.0f\n", static_cast<double>(messages_ok_) / seconds);
    std::printf("latency_ms p50 p90 p99 p99.9 max: %s\n", percentiles(latency_ms_).c_str());
  }
  std::printf("errors: %llu (transport %llu)%s%s\n", static_cast<unsigned long long>(errors_),
              static_cast<unsigned long long>(transport_errors_),
              last_error_.empty() ? "" : "; last: ", last_error_.c_str());
  std::printf("client_cpu_seconds: %.2f (user %.2f, system %.2f)\n", user + system, user, system);
  std::printf("client_cpu_percent: %.1f\n", 100 * own_window / cpu_seconds);
  for (std::size_t i = 0; i < options_.watched.size() && i < watched_cpu_end_.size(); ++i) {
    const Watched& w = options_.watched[i];
    std::printf("cpu_percent_%s: %.1f\n", w.name.c_str(),
                100 * (watched_cpu_end_[i] - w.cpu_start_s) / cpu_seconds);
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  try {
    LoadRun run(parse_options(argc, argv));
    return run.run();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "topics_load: %s\n", error.what());
    usage();
    return 2;
  }
}
