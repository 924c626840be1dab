// ws_load: the load client for the live-updates benchmark (scripts/bench.sh
// live). On one libevent loop it opens many WebSocket subscribers to
// gpsrelayd (a few hundred handshakes at a time), then posts driver locations
// at a fixed rate over a few keep-alive HTTP connections and measures, for
// every frame a subscriber receives, the time since the POST that caused it.
// The POST's "accuracy" field carries a per-driver sequence number, which
// comes back in the pushed record and identifies the POST.
//
//   ws_load --mode orders --subscribers 10000 --rate 2000 --duration 60s --port P
//     subscriber i follows /api/v1/orders/o<i>/driver-location; POSTs go
//     round-robin to /api/v1/drivers/d<i>/location with order_id o<i>.
//   ws_load --mode fanout --subscribers 1000 --rate 50 --duration 60s --port P
//     every subscriber follows /api/v1/drivers/busy/location; POSTs go to busy.
//
// It prints "key: value" lines (see print_report). Frames whose sequence was
// not posted yet when they arrived (the current record the server sends on
// connect) are counted apart, not measured. Framing is wslay's; HTTP is
// libevent's evhttp client. It is a measuring tool, not a conformance test.
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/c_handle.h"
#include "load_common.h"

namespace {

using gpsrelay::load::cpu_seconds_of;
using gpsrelay::load::own_cpu_seconds;
using gpsrelay::load::parse_seconds;
using gpsrelay::load::percentiles;
using gpsrelay::load::rss_mib;

// Each C handle freed by its library's own function (the daemon's CHandle).
using EventBasePtr = gpsrelay::core::CHandle<event_base, event_base_free>;
using EventPtr = gpsrelay::core::CHandle<event, event_free>;
using BuffereventPtr = gpsrelay::core::CHandle<bufferevent, bufferevent_free>;
using WslayPtr = gpsrelay::core::CHandle<wslay_event_context, wslay_event_context_free>;
using EvhttpConnectionPtr = gpsrelay::core::CHandle<evhttp_connection, evhttp_connection_free>;

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start, Clock::time_point now = Clock::now()) {
  return std::chrono::duration<double, std::milli>(now - start).count();
}

// ---------------------------------------------------------------- options

struct Options {
  std::string mode = "orders";
  std::string host = "127.0.0.1";
  int port = 0;
  int subscribers = 1000;
  double rate_per_s = 100;
  double duration_s = 60;
  int connect_batch = 200;        // handshakes in flight at once
  int post_connections = 4;       // keep-alive HTTP connections for the POSTs
  double settle_s = 1;            // after connecting, before posting: current-state frames
  double drain_s = 5;             // after the last POST, for frames still on the way
  double connect_timeout_s = 10;  // per subscriber handshake
  int server_pid = 0;             // for the server's VmRSS and CPU time, when given
  std::string query;              // appended to WebSocket paths, e.g. "token=x"
};

void usage() {
  std::fprintf(stderr,
               "usage: ws_load --mode orders|fanout --port P [--host H] [--subscribers N]\n"
               "         [--rate R/s] [--duration 60s] [--connect-batch 200]\n"
               "         [--post-connections 4] [--settle 1s] [--drain 5s]\n"
               "         [--connect-timeout 10s] [--server-pid PID] [--query token=...]\n");
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
    if (flag == "--mode")
      o.mode = value;
    else if (flag == "--host")
      o.host = value;
    else if (flag == "--port")
      o.port = std::stoi(value);
    else if (flag == "--subscribers")
      o.subscribers = std::stoi(value);
    else if (flag == "--rate")
      o.rate_per_s = std::stod(value);
    else if (flag == "--duration")
      o.duration_s = parse_seconds(value);
    else if (flag == "--connect-batch")
      o.connect_batch = std::stoi(value);
    else if (flag == "--post-connections")
      o.post_connections = std::stoi(value);
    else if (flag == "--settle")
      o.settle_s = parse_seconds(value);
    else if (flag == "--drain")
      o.drain_s = parse_seconds(value);
    else if (flag == "--connect-timeout")
      o.connect_timeout_s = parse_seconds(value);
    else if (flag == "--server-pid")
      o.server_pid = std::stoi(value);
    else if (flag == "--query")
      o.query = value;
    else
      throw std::invalid_argument("unknown option " + flag);
  }
  if (o.mode != "orders" && o.mode != "fanout") throw std::invalid_argument("--mode orders|fanout");
  if (o.port <= 0) throw std::invalid_argument("--port is required");
  if (o.subscribers <= 0 || o.rate_per_s <= 0 || o.connect_batch <= 0 || o.post_connections <= 0) {
    throw std::invalid_argument("--subscribers, --rate, --connect-batch, --post-connections > 0");
  }
  return o;
}

// ---------------------------------------------------------------- helpers

std::string base64(const unsigned char* data, std::size_t length) {
  std::string out(4 * ((length + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(length));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// The same computation as the test client's websocket_accept
// (tests/integration/support/ws_client.cc); this program links no test code.
std::string websocket_accept(const std::string& key) {
  const std::string input = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64(digest, sizeof(digest));
}

// Ten thousand sockets need more than the usual 1024 descriptors.
void raise_nofile_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) std::perror("ws_load: setrlimit(RLIMIT_NOFILE)");
}

long nofile_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  return static_cast<long>(limit.rlim_cur);
}

// The string value of "key":"..." in compact JSON (the server's records), or
// empty. A scan, not a parser: the load client must stay cheap per frame.
std::string_view json_string_field(std::string_view json, std::string_view quoted_key) {
  auto at = json.find(quoted_key);
  if (at == std::string_view::npos) return {};
  at = json.find('"', at + quoted_key.size());
  if (at == std::string_view::npos) return {};
  const auto end = json.find('"', at + 1);
  if (end == std::string_view::npos) return {};
  return json.substr(at + 1, end - at - 1);
}

std::optional<double> json_number_field(std::string_view json, std::string_view quoted_key) {
  auto at = json.find(quoted_key);
  if (at == std::string_view::npos) return std::nullopt;
  at = json.find(':', at + quoted_key.size());
  if (at == std::string_view::npos) return std::nullopt;
  const std::string number(json.substr(at + 1, 32));
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end == number.c_str()) return std::nullopt;
  return value;
}

// ---------------------------------------------------------------- model

struct Post {
  double sent_ms = -1;         // since the run's start; -1 until dispatched
  std::uint32_t expected = 0;  // subscribers following the driver when it was sent
  std::uint32_t received = 0;
  bool accepted = false;  // answered 202
};

struct Driver {
  std::string id;
  std::string order_id;     // empty in fanout mode
  std::vector<Post> posts;  // posts[seq - 1]
  std::uint32_t open_subscribers = 0;
};

class LoadRun;

// One WebSocket: connect, handshake, then frames through wslay.
struct Subscriber {
  LoadRun* run = nullptr;
  std::size_t driver = 0;  // index of the driver it follows
  std::string path;
  std::string key;
  BuffereventPtr bev;
  WslayPtr wslay;
  enum class State { kIdle, kHandshake, kOpen, kDone } state = State::kIdle;
};

class LoadRun {
 public:
  explicit LoadRun(Options options);
  int run();

 private:
  // Subscribers
  void start_connecting();
  void connect_next();
  void connect(Subscriber& s);
  void handshake_read(Subscriber& s);
  void on_opened(Subscriber& s);
  void on_failed(Subscriber& s, const std::string& why);
  void on_disconnected(Subscriber& s);
  void framed_read(Subscriber& s);
  void on_frame(std::string_view text);
  void connection_phase_done();

  static void bev_read(bufferevent* bev, void* user);
  static void bev_event(bufferevent* bev, short what, void* user);
  static ssize_t wslay_recv(wslay_event_context* context, std::uint8_t* buffer, std::size_t length,
                            int flags, void* user);
  static ssize_t wslay_send(wslay_event_context* context, const std::uint8_t* data,
                            std::size_t length, int flags, void* user);
  static int wslay_genmask(wslay_event_context* context, std::uint8_t* buffer, std::size_t length,
                           void* user);
  static void wslay_message(wslay_event_context* context, const wslay_event_on_msg_recv_arg* arg,
                            void* user);

  // Posts
  struct HttpConnection {
    LoadRun* run = nullptr;
    EvhttpConnectionPtr connection;
    bool busy = false;
    std::size_t driver = 0;
    std::uint32_t seq = 0;
    Clock::time_point sent;
  };
  void start_posting();
  void post_tick();
  void dispatch(HttpConnection& c, std::size_t driver);
  static void on_post_done(evhttp_request* request, void* user);
  void stop_posting_when_idle();
  void drain_tick();
  void finish();
  void print_report();

  Options options_;
  EventBasePtr base_;
  Clock::time_point start_ = Clock::now();
  std::vector<Driver> drivers_;
  std::unordered_map<std::string, std::size_t> driver_index_;
  std::vector<Subscriber> subscribers_;
  std::vector<HttpConnection> http_;

  // Connection phase
  std::size_t next_to_connect_ = 0;
  std::size_t handshakes_in_flight_ = 0;
  std::size_t opened_ = 0;
  std::size_t failed_ = 0;
  std::size_t disconnected_ = 0;  // opened, then closed by the server
  std::unordered_map<std::string, std::size_t> failure_reasons_;
  double connect_seconds_ = 0;
  long server_rss_connected_mib_ = -1;

  // Posting phase
  EventPtr post_timer_;
  EventPtr drain_timer_;
  EventPtr settle_timer_;
  Clock::time_point posting_started_;
  bool posting_ = false;
  std::uint64_t posts_due_issued_ = 0;  // scheduled so far
  std::size_t round_robin_ = 0;
  std::deque<std::size_t> backlog_;  // drivers whose POST waits for a free connection
  std::size_t backlog_max_ = 0;
  std::uint64_t posts_sent_ = 0;
  std::uint64_t posts_202_ = 0;
  std::uint64_t posts_other_status_ = 0;
  std::uint64_t posts_transport_errors_ = 0;
  std::vector<float> post_latency_ms_;
  double posting_seconds_ = 0;
  Clock::time_point drain_started_;
  double server_cpu_at_post_start_ = -1;
  double server_cpu_at_post_end_ = -1;
  double own_cpu_at_post_start_ = 0;
  double own_cpu_at_post_end_ = 0;

  // Frames
  std::uint64_t frames_ = 0;
  std::uint64_t frames_not_posted_ = 0;  // current state, or a previous run's
  std::uint64_t frames_unknown_ = 0;     // no driver_id/accuracy we can match
  std::uint64_t frames_duplicate_ = 0;   // more copies than subscribers following
  std::vector<float> latency_ms_;
};

LoadRun::LoadRun(Options options) : options_(std::move(options)), base_(event_base_new()) {
  if (!base_) throw std::runtime_error("event_base_new failed");
  const bool fanout = options_.mode == "fanout";
  const std::size_t n = static_cast<std::size_t>(options_.subscribers);
  if (fanout) {
    drivers_.push_back(Driver{"busy", "", {}, 0});
  } else {
    drivers_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      drivers_.push_back(Driver{"d" + std::to_string(i), "o" + std::to_string(i), {}, 0});
    }
  }
  for (std::size_t i = 0; i < drivers_.size(); ++i) driver_index_.emplace(drivers_[i].id, i);
  subscribers_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    Subscriber& s = subscribers_[i];
    s.run = this;
    s.driver = fanout ? 0 : i;
    s.path = fanout ? "/api/v1/drivers/busy/location"
                    : "/api/v1/orders/" + drivers_[i].order_id + "/driver-location";
    if (!options_.query.empty()) s.path += "?" + options_.query;
  }
  http_.resize(static_cast<std::size_t>(options_.post_connections));
  latency_ms_.reserve(static_cast<std::size_t>(options_.rate_per_s * options_.duration_s *
                                               (fanout ? options_.subscribers : 1)) +
                      1024);
}

int LoadRun::run() {
  start_connecting();
  event_base_dispatch(base_.get());
  print_report();
  return 0;
}

// ---------------------------------------------------------------- subscribers

void LoadRun::start_connecting() {
  while (handshakes_in_flight_ < static_cast<std::size_t>(options_.connect_batch) &&
         next_to_connect_ < subscribers_.size()) {
    connect_next();
  }
}

void LoadRun::connect_next() {
  Subscriber& s = subscribers_[next_to_connect_++];
  ++handshakes_in_flight_;
  connect(s);
}

void LoadRun::connect(Subscriber& s) {
  s.state = Subscriber::State::kHandshake;
  s.bev.reset(bufferevent_socket_new(base_.get(), -1, BEV_OPT_CLOSE_ON_FREE));
  if (!s.bev) {
    on_failed(s, "bufferevent_socket_new");
    return;
  }
  bufferevent_setcb(s.bev.get(), &LoadRun::bev_read, nullptr, &LoadRun::bev_event, &s);
  const timeval timeout{static_cast<time_t>(options_.connect_timeout_s),
                        static_cast<suseconds_t>(std::fmod(options_.connect_timeout_s, 1) * 1e6)};
  bufferevent_set_timeouts(s.bev.get(), &timeout, &timeout);
  bufferevent_enable(s.bev.get(), EV_READ | EV_WRITE);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(options_.port));
  if (inet_pton(AF_INET, options_.host.c_str(), &address.sin_addr) != 1) {
    throw std::invalid_argument("--host must be an IPv4 address");
  }
  if (bufferevent_socket_connect(s.bev.get(), reinterpret_cast<sockaddr*>(&address),
                                 sizeof(address)) != 0) {
    on_failed(s, std::string("connect: ") + std::strerror(errno));
    return;
  }
  unsigned char raw_key[16];
  RAND_bytes(raw_key, sizeof(raw_key));
  s.key = base64(raw_key, sizeof(raw_key));
  const std::string request = "GET " + s.path + " HTTP/1.1\r\nHost: " + options_.host + ":" +
                              std::to_string(options_.port) +
                              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
                              s.key + "\r\n\r\n";
  // Queued now, written by libevent once the connect completes.
  bufferevent_write(s.bev.get(), request.data(), request.size());
}

void LoadRun::bev_read(bufferevent* /*bev*/, void* user) {
  auto& s = *static_cast<Subscriber*>(user);
  if (s.state == Subscriber::State::kHandshake) {
    s.run->handshake_read(s);
  } else if (s.state == Subscriber::State::kOpen) {
    s.run->framed_read(s);
  }
}

void LoadRun::bev_event(bufferevent* /*bev*/, short what, void* user) {
  auto& s = *static_cast<Subscriber*>(user);
  if (what & BEV_EVENT_CONNECTED) {
    const int no_delay = 1;
    setsockopt(bufferevent_getfd(s.bev.get()), IPPROTO_TCP, TCP_NODELAY, &no_delay,
               sizeof(no_delay));
    return;
  }
  if (s.state == Subscriber::State::kHandshake) {
    std::string why =
        (what & BEV_EVENT_TIMEOUT) ? "handshake timeout"
        : (what & BEV_EVENT_EOF)
            ? "closed during handshake"
            : std::string("socket error: ") + evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
    s.run->on_failed(s, why);
  } else if (s.state == Subscriber::State::kOpen) {
    s.run->on_disconnected(s);
    s.wslay.reset();
    s.bev.reset();  // libevent allows freeing a bufferevent in its own callback
  }
}

void LoadRun::handshake_read(Subscriber& s) {
  evbuffer* input = bufferevent_get_input(s.bev.get());
  const evbuffer_ptr end = evbuffer_search(input, "\r\n\r\n", 4, nullptr);
  if (end.pos < 0) {
    if (evbuffer_get_length(input) > 64 * 1024) on_failed(s, "oversized handshake answer");
    return;
  }
  std::string head(static_cast<std::size_t>(end.pos), '\0');
  evbuffer_remove(input, head.data(), head.size());
  evbuffer_drain(input, 4);  // what stays in `input` are frames sent behind the 101
  if (head.rfind("HTTP/1.1 101", 0) != 0) {
    on_failed(s, "status " + head.substr(9, 3));
    return;
  }
  std::string lowered = head;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto field = lowered.find("\r\nsec-websocket-accept:");
  if (field == std::string::npos) {
    on_failed(s, "101 without Sec-WebSocket-Accept");
    return;
  }
  const auto value_start = head.find_first_not_of(' ', field + 23);
  const auto value_end = head.find("\r\n", value_start);
  const std::string accept = head.substr(value_start, value_end - value_start);
  if (accept != websocket_accept(s.key)) {
    on_failed(s, "wrong Sec-WebSocket-Accept");
    return;
  }
  on_opened(s);
  if (s.state == Subscriber::State::kOpen && evbuffer_get_length(input) > 0) framed_read(s);
}

void LoadRun::on_opened(Subscriber& s) {
  static constexpr wslay_event_callbacks kCallbacks = {&LoadRun::wslay_recv,
                                                       &LoadRun::wslay_send,
                                                       &LoadRun::wslay_genmask,
                                                       nullptr,
                                                       nullptr,
                                                       nullptr,
                                                       &LoadRun::wslay_message};
  wslay_event_context* context = nullptr;
  if (wslay_event_context_client_init(&context, &kCallbacks, &s) != 0) {
    on_failed(s, "wslay_event_context_client_init");
    return;
  }
  s.wslay.reset(context);
  s.state = Subscriber::State::kOpen;
  // A subscriber may hear nothing for a long time: no read timeout now.
  bufferevent_set_timeouts(s.bev.get(), nullptr, nullptr);
  ++drivers_[s.driver].open_subscribers;
  ++opened_;
  --handshakes_in_flight_;
  if (next_to_connect_ < subscribers_.size()) connect_next();
  if (opened_ + failed_ == subscribers_.size()) connection_phase_done();
}

void LoadRun::on_failed(Subscriber& s, const std::string& why) {
  s.state = Subscriber::State::kDone;
  s.wslay.reset();
  s.bev.reset();
  ++failure_reasons_[why];
  ++failed_;
  --handshakes_in_flight_;
  if (next_to_connect_ < subscribers_.size()) connect_next();
  if (opened_ + failed_ == subscribers_.size()) connection_phase_done();
}

void LoadRun::on_disconnected(Subscriber& s) {
  s.state = Subscriber::State::kDone;
  --drivers_[s.driver].open_subscribers;
  ++disconnected_;
  // Not freed here: this may run inside a wslay or bufferevent callback of
  // this very subscriber; framed_read frees it when the call returns.
}

void LoadRun::framed_read(Subscriber& s) {
  if (wslay_event_recv(s.wslay.get()) == 0 && wslay_event_want_write(s.wslay.get())) {
    wslay_event_send(s.wslay.get());  // pongs, the answer to a close
  }
  if (s.state == Subscriber::State::kOpen && !wslay_event_want_read(s.wslay.get())) {
    on_disconnected(s);  // a close frame arrived (or a protocol error)
  }
  if (s.state == Subscriber::State::kDone) {
    s.wslay.reset();
    s.bev.reset();
  }
}

ssize_t LoadRun::wslay_recv(wslay_event_context* context, std::uint8_t* buffer, std::size_t length,
                            int /*flags*/, void* user) {
  auto& s = *static_cast<Subscriber*>(user);
  const int got = evbuffer_remove(bufferevent_get_input(s.bev.get()), buffer, length);
  if (got > 0) return got;
  wslay_event_set_error(context, WSLAY_ERR_WOULDBLOCK);
  return -1;
}

ssize_t LoadRun::wslay_send(wslay_event_context* context, const std::uint8_t* data,
                            std::size_t length, int /*flags*/, void* user) {
  auto& s = *static_cast<Subscriber*>(user);
  if (bufferevent_write(s.bev.get(), data, length) != 0) {
    wslay_event_set_error(context, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  return static_cast<ssize_t>(length);
}

int LoadRun::wslay_genmask(wslay_event_context* /*context*/, std::uint8_t* buffer,
                           std::size_t length, void* /*user*/) {
  return RAND_bytes(buffer, static_cast<int>(length)) == 1 ? 0 : -1;
}

void LoadRun::wslay_message(wslay_event_context* /*context*/,
                            const wslay_event_on_msg_recv_arg* arg, void* user) {
  auto& s = *static_cast<Subscriber*>(user);
  if (arg->opcode == WSLAY_TEXT_FRAME) {
    s.run->on_frame(std::string_view(reinterpret_cast<const char*>(arg->msg), arg->msg_length));
  }
}

void LoadRun::on_frame(std::string_view text) {
  const auto now = Clock::now();
  ++frames_;
  const std::string_view driver_id = json_string_field(text, "\"driver_id\"");
  const std::optional<double> accuracy = json_number_field(text, "\"accuracy\"");
  const auto found = driver_index_.find(std::string(driver_id));
  if (found == driver_index_.end() || !accuracy || *accuracy < 1) {
    ++frames_unknown_;
    return;
  }
  Driver& driver = drivers_[found->second];
  const auto seq = static_cast<std::size_t>(std::llround(*accuracy));
  if (seq > driver.posts.size() || driver.posts[seq - 1].sent_ms < 0) {
    ++frames_not_posted_;
    return;
  }
  Post& post = driver.posts[seq - 1];
  if (++post.received > post.expected) {
    ++frames_duplicate_;
    return;
  }
  latency_ms_.push_back(static_cast<float>(ms_since(start_, now) - post.sent_ms));
}

void LoadRun::connection_phase_done() {
  connect_seconds_ = ms_since(start_) / 1000;
  if (options_.server_pid > 0) server_rss_connected_mib_ = rss_mib(options_.server_pid);
  std::fprintf(stderr, "ws_load: %zu connected, %zu failed in %.1f s; posting in %.1f s\n", opened_,
               failed_, connect_seconds_, options_.settle_s);
  // The current-state frames the server sends on connect arrive meanwhile.
  settle_timer_.reset(evtimer_new(
      base_.get(),
      [](evutil_socket_t, short, void* user) { static_cast<LoadRun*>(user)->start_posting(); },
      this));
  const timeval settle{static_cast<time_t>(options_.settle_s),
                       static_cast<suseconds_t>(std::fmod(options_.settle_s, 1) * 1e6)};
  evtimer_add(settle_timer_.get(), &settle);
}

// ---------------------------------------------------------------- posts

void LoadRun::start_posting() {
  for (auto& c : http_) {
    c.run = this;
    c.connection.reset(evhttp_connection_base_new(base_.get(), nullptr, options_.host.c_str(),
                                                  static_cast<ev_uint16_t>(options_.port)));
    if (!c.connection) throw std::runtime_error("evhttp_connection_base_new failed");
    evhttp_connection_set_timeout(c.connection.get(), 10);
  }
  posting_ = true;
  posting_started_ = Clock::now();
  own_cpu_at_post_start_ = own_cpu_seconds();
  if (options_.server_pid > 0) server_cpu_at_post_start_ = cpu_seconds_of(options_.server_pid);
  // Every millisecond, issue what the schedule says is due: at 2,000/s two
  // POSTs, spread over the second rather than in bursts.
  post_timer_.reset(event_new(
      base_.get(), -1, EV_PERSIST,
      [](evutil_socket_t, short, void* user) { static_cast<LoadRun*>(user)->post_tick(); }, this));
  const timeval every_ms{0, 1000};
  evtimer_add(post_timer_.get(), &every_ms);
}

void LoadRun::post_tick() {
  const double elapsed_s = std::min(ms_since(posting_started_) / 1000, options_.duration_s);
  const auto due = static_cast<std::uint64_t>(elapsed_s * options_.rate_per_s);
  for (; posts_due_issued_ < due; ++posts_due_issued_) {
    const std::size_t driver = round_robin_++ % drivers_.size();
    auto idle = std::find_if(http_.begin(), http_.end(), [](auto& c) { return !c.busy; });
    if (idle != http_.end()) {
      dispatch(*idle, driver);
    } else {
      backlog_.push_back(driver);
      backlog_max_ = std::max(backlog_max_, backlog_.size());
    }
  }
  if (elapsed_s >= options_.duration_s) {
    post_timer_.reset();  // frees the event this callback runs for: libevent allows that
    posting_seconds_ = ms_since(posting_started_) / 1000;
    posting_ = false;
    stop_posting_when_idle();
  }
}

void LoadRun::dispatch(HttpConnection& c, std::size_t driver_index) {
  Driver& driver = drivers_[driver_index];
  driver.posts.emplace_back();
  const auto seq = static_cast<std::uint32_t>(driver.posts.size());
  Post& post = driver.posts.back();
  const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  // Coordinates wander a little per seq; accuracy carries the seq back; the
  // timestamp (Unix ms) rises so no report is older than the state.
  char body[256];
  const double latitude = 52.5 + (static_cast<double>(driver_index % 1000) / 10000.0) + seq * 1e-5;
  // Rows of 1,000 drivers: the row number steps the longitude.
  const double longitude = 13.4 + std::floor(static_cast<double>(driver_index) / 1000) / 1000.0;
  int length;
  if (driver.order_id.empty()) {
    length = std::snprintf(body, sizeof(body),
                           R"({"latitude":%.6f,"longitude":%.6f,"accuracy":%u,"timestamp":%lld})",
                           latitude, longitude, seq, static_cast<long long>(wall_ms));
  } else {
    length = std::snprintf(
        body, sizeof(body),
        R"({"latitude":%.6f,"longitude":%.6f,"order_id":"%s","accuracy":%u,"timestamp":%lld})",
        latitude, longitude, driver.order_id.c_str(), seq, static_cast<long long>(wall_ms));
  }
  evhttp_request* request = evhttp_request_new(&LoadRun::on_post_done, &c);
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Host", options_.host.c_str());
  evhttp_add_header(headers, "Content-Type", "application/json");
  evbuffer_add(evhttp_request_get_output_buffer(request), body, static_cast<std::size_t>(length));
  const std::string uri = "/api/v1/drivers/" + driver.id + "/location";
  c.busy = true;
  c.driver = driver_index;
  c.seq = seq;
  c.sent = Clock::now();
  post.sent_ms = ms_since(start_, c.sent);
  post.expected = driver.open_subscribers;
  ++posts_sent_;
  // On failure evhttp_make_request has freed the request and calls nothing.
  if (evhttp_make_request(c.connection.get(), request, EVHTTP_REQ_POST, uri.c_str()) != 0) {
    c.busy = false;
    ++posts_transport_errors_;
  }
}

void LoadRun::on_post_done(evhttp_request* request, void* user) {
  auto& c = *static_cast<HttpConnection*>(user);
  LoadRun& run = *c.run;
  c.busy = false;
  const int status = request != nullptr ? evhttp_request_get_response_code(request) : 0;
  Post& post = run.drivers_[c.driver].posts[c.seq - 1];
  if (status == 202) {
    post.accepted = true;
    ++run.posts_202_;
    run.post_latency_ms_.push_back(static_cast<float>(ms_since(c.sent)));
  } else if (status == 0) {
    ++run.posts_transport_errors_;
  } else {
    ++run.posts_other_status_;
  }
  if (!run.backlog_.empty()) {
    const std::size_t driver = run.backlog_.front();
    run.backlog_.pop_front();
    run.dispatch(c, driver);
  } else if (!run.posting_) {
    run.stop_posting_when_idle();
  }
}

void LoadRun::stop_posting_when_idle() {
  if (posting_ || !backlog_.empty() ||
      std::any_of(http_.begin(), http_.end(), [](auto& c) { return c.busy; })) {
    return;
  }
  if (drain_timer_) return;  // already draining
  own_cpu_at_post_end_ = own_cpu_seconds();
  if (options_.server_pid > 0) server_cpu_at_post_end_ = cpu_seconds_of(options_.server_pid);
  drain_started_ = Clock::now();
  drain_timer_.reset(event_new(
      base_.get(), -1, EV_PERSIST,
      [](evutil_socket_t, short, void* user) { static_cast<LoadRun*>(user)->drain_tick(); }, this));
  const timeval every{0, 50 * 1000};
  evtimer_add(drain_timer_.get(), &every);
}

// Until every accepted POST reached every subscriber that followed its driver,
// or the drain time is up.
void LoadRun::drain_tick() {
  bool complete = true;
  for (const Driver& driver : drivers_) {
    for (const Post& post : driver.posts) {
      if (post.accepted && post.received < post.expected) {
        complete = false;
        break;
      }
    }
    if (!complete) break;
  }
  if (complete || ms_since(drain_started_) >= options_.drain_s * 1000) finish();
}

void LoadRun::finish() {
  drain_timer_.reset();
  event_base_loopbreak(base_.get());
}

// ---------------------------------------------------------------- report

void LoadRun::print_report() {
  std::uint64_t missing = 0;
  std::uint64_t expected = 0;
  for (const Driver& driver : drivers_) {
    for (const Post& post : driver.posts) {
      if (!post.accepted) continue;
      expected += post.expected;
      if (post.received < post.expected) missing += post.expected - post.received;
    }
  }
  double user = 0;
  double system = 0;
  const double cpu = own_cpu_seconds(&user, &system);
  std::printf("mode: %s\n", options_.mode.c_str());
  std::printf("subscribers: %d\n", options_.subscribers);
  std::printf("connected: %zu\n", opened_);
  std::printf("connect_failures: %zu\n", failed_);
  for (const auto& [why, count] : failure_reasons_) {
    std::printf("connect_failure: %zu %s\n", count, why.c_str());
  }
  std::printf("connect_seconds: %.2f\n", connect_seconds_);
  std::printf("disconnected_by_server: %zu\n", disconnected_);
  std::printf("server_rss_connected_mib: %ld\n", server_rss_connected_mib_);
  std::printf("rate_per_s: %.0f\n", options_.rate_per_s);
  std::printf("posting_seconds: %.2f\n", posting_seconds_);
  std::printf("posts: %llu\n", static_cast<unsigned long long>(posts_sent_));
  std::printf("posts_202: %llu\n", static_cast<unsigned long long>(posts_202_));
  std::printf("posts_other_status: %llu\n", static_cast<unsigned long long>(posts_other_status_));
  std::printf("posts_transport_errors: %llu\n",
              static_cast<unsigned long long>(posts_transport_errors_));
  std::printf("posts_backlog_max: %zu\n", backlog_max_);
  std::printf("post_latency_ms p50 p90 p99 p99.9 max: %s\n", percentiles(post_latency_ms_).c_str());
  std::printf("frames: %llu\n", static_cast<unsigned long long>(frames_));
  std::printf("frames_expected: %llu\n", static_cast<unsigned long long>(expected));
  std::printf("frames_measured: %zu\n", latency_ms_.size());
  std::printf("frames_not_posted: %llu\n", static_cast<unsigned long long>(frames_not_posted_));
  std::printf("frames_unknown: %llu\n", static_cast<unsigned long long>(frames_unknown_));
  std::printf("frames_duplicate: %llu\n", static_cast<unsigned long long>(frames_duplicate_));
  std::printf("missing: %llu\n", static_cast<unsigned long long>(missing));
  std::printf("latency_ms p50 p90 p99 p99.9 max: %s\n", percentiles(latency_ms_).c_str());
  std::printf("client_cpu_seconds: %.2f (user %.2f, system %.2f)\n", cpu, user, system);
  std::printf("client_cpu_while_posting_percent: %.1f\n",
              posting_seconds_ > 0
                  ? 100 * (own_cpu_at_post_end_ - own_cpu_at_post_start_) / posting_seconds_
                  : 0.0);
  if (options_.server_pid > 0) {
    std::printf("server_cpu_while_posting_percent: %.1f\n",
                posting_seconds_ > 0 && server_cpu_at_post_start_ >= 0
                    ? 100 * (server_cpu_at_post_end_ - server_cpu_at_post_start_) / posting_seconds_
                    : 0.0);
    std::printf("server_rss_end_mib: %ld\n", rss_mib(options_.server_pid));
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  try {
    const Options options = parse_options(argc, argv);
    raise_nofile_limit();
    const long needed = options.subscribers + options.post_connections + 64;
    if (nofile_limit() < needed) {
      std::fprintf(stderr, "ws_load: RLIMIT_NOFILE %ld < %ld needed; raise the hard limit\n",
                   nofile_limit(), needed);
      return 2;
    }
    LoadRun run(options);
    return run.run();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "ws_load: %s\n", error.what());
    usage();
    return 2;
  }
}
