// curl multi on libevent (see http_sender.h). The shape follows curl's
// docs/examples/hiperfifo.c: a socket callback that keeps one event per
// socket in step with what curl wants, a timer callback for curl's single
// timeout, and a drain of curl_multi_info_read after every action.
#include "forward/http_sender.h"

#include <stdexcept>

#include "core/callback_guard.h"
#include "core/log.h"

namespace gpsrelay::forward {

using SlistPtr = core::CHandle<curl_slist, curl_slist_free_all>;
using EasyPtr = core::CHandle<CURL, curl_easy_cleanup>;

struct HttpSender::Transfer {
  EasyPtr easy;
  SlistPtr headers;
  std::string body;
  std::string ca_file;
  char error[CURL_ERROR_SIZE] = {};
  Callback callback;
};

struct HttpSender::Socket {
  core::EventPtr event;
  int what = -1;  // the CURL_POLL_* interest the event was made for; -1: none yet
};

namespace {

// Discards response bodies: the status is all a delivery needs.
size_t discard_body(char*, size_t size, size_t count, void*) { return size * count; }

// Sets options on an easy handle and keeps the first one curl refused. Any
// refusal fails the attempt: a request whose CA file or protocol limit did
// not take must not go out with curl's defaults instead.
class EasyOptions {
 public:
  explicit EasyOptions(CURL* easy) : easy_(easy) {}

  template <typename Value>
  void set(CURLoption option, Value value) {
    if (!error_.empty()) return;
    const CURLcode rc = curl_easy_setopt(easy_, option, value);
    if (rc != CURLE_OK) error_ = describe(option, rc);
  }
  // Empty when every option took.
  const std::string& error() const { return error_; }

 private:
  static std::string describe(CURLoption option, CURLcode rc) {
    std::string name = "option " + std::to_string(static_cast<int>(option));
#if LIBCURL_VERSION_NUM >= 0x074900
    if (const curl_easyoption* known = curl_easy_option_by_id(option)) {
      name = std::string("CURLOPT_") + known->name;
    }
#endif
    return "curl_easy_setopt " + name + ": " + curl_easy_strerror(rc);
  }

  CURL* easy_;
  std::string error_;
};

// Appends to a header list that stays owned by `list` whatever happens:
// curl_slist_append returns NULL on failure and leaves the list as it was.
bool append_header(SlistPtr& list, const char* header) {
  curl_slist* grown = curl_slist_append(list.get(), header);
  if (grown == nullptr) return false;
  static_cast<void>(list.release());  // the same list, or a new head when it was empty
  list.reset(grown);
  return true;
}

// Where HTTP/2 may be spoken, a transfer waits for the connection being
// set up to say whether it multiplexes, instead of opening one connection
// per transfer in the first burst: many deliveries share one connection.
void set_http_version(EasyOptions& options, const SendRequest& request) {
  using Http2 = core::ForwardConfig::Http2;
  const bool tls = request.url.starts_with("https://");
  switch (request.http2) {
    case Http2::kOff:
      options.set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
      return;
    case Http2::kAuto:
      options.set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
      options.set(CURLOPT_PIPEWAIT, tls ? 1L : 0L);
      return;
    case Http2::kPriorKnowledge:
      // Over TLS, ALPN still decides: curl offers h2 first.
      options.set(
          CURLOPT_HTTP_VERSION,
          static_cast<long>(tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE));
      options.set(CURLOPT_PIPEWAIT, 1L);
      return;
  }
}

void set_multi_option(CURLM* multi, CURLMoption option, auto value) {
  const CURLMcode rc = curl_multi_setopt(multi, option, value);
  if (rc != CURLM_OK) {
    throw std::runtime_error(std::string("curl_multi_setopt: ") + curl_multi_strerror(rc));
  }
}

}  // namespace

CurlFacts this_process_curl() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  CurlFacts facts;
  facts.version_num = info->version_num;
  facts.version = info->version;
  facts.http2 = (info->features & CURL_VERSION_HTTP2) != 0;
  return facts;
}

HttpSender::HttpSender(event_base* base, long max_connections)
    : base_(base),
      multi_(curl_multi_init()),
      timer_(base, [this] { socket_action(CURL_SOCKET_TIMEOUT, 0); }),
      failed_timer_(base, [this] { report_failed(); }) {
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
  CURLM* multi = multi_.get();
  set_multi_option(multi, CURLMOPT_SOCKETFUNCTION, &HttpSender::on_socket);
  set_multi_option(multi, CURLMOPT_SOCKETDATA, this);
  set_multi_option(multi, CURLMOPT_TIMERFUNCTION, &HttpSender::on_timer);
  set_multi_option(multi, CURLMOPT_TIMERDATA, this);
  set_multi_option(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_connections);
  set_multi_option(multi, CURLMOPT_MAXCONNECTS, max_connections);
  // curl's default since 7.62, said here because HTTP/2 delivery relies on it.
  set_multi_option(multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
}

HttpSender::~HttpSender() {
  timer_.stop();
  failed_timer_.stop();
  // Remove every easy handle before the multi handle goes; curl may call
  // on_socket for their sockets while we do, so sockets_ is cleared last.
  for (auto& [easy, transfer] : transfers_) curl_multi_remove_handle(multi_.get(), easy);
  transfers_.clear();
  failed_.clear();
  idle_.clear();
  multi_.reset();
  sockets_.clear();
}

void HttpSender::send(SendRequest request, Callback callback) {
  auto transfer = std::make_unique<Transfer>();
  transfer->callback = std::move(callback);
  std::string error = prepare(*transfer, request);
  if (error.empty()) {
    CURL* easy = transfer->easy.get();
    // Tracked before curl knows the handle, so that no failure below can
    // leave curl with a handle whose Transfer is gone.
    const auto slot = transfers_.emplace(easy, std::move(transfer)).first;
    const CURLMcode rc = curl_multi_add_handle(multi_.get(), easy);
    if (rc == CURLM_OK) return;
    transfer = std::move(slot->second);
    transfers_.erase(slot);
    error = std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc);
  }
  // Reported like a transport error (status 0, not_sent): the caller
  // retries it as it would a refused connection. Later, from the loop, as
  // promised.
  failed_.push_back({std::move(transfer), std::move(error)});
  if (!failed_timer_.pending()) failed_timer_.start_once(std::chrono::milliseconds(0));
}

std::string HttpSender::prepare(Transfer& transfer, SendRequest& request) {
  // A finished handle is reused: curl_easy_init allocates and zeroes a
  // large struct, which at thousands of deliveries a second shows up.
  if (!idle_.empty()) {
    transfer.easy = std::move(idle_.back());
    idle_.pop_back();
    curl_easy_reset(transfer.easy.get());
  } else {
    transfer.easy.reset(curl_easy_init());
  }
  if (!transfer.easy) return "curl_easy_init failed";
  transfer.body = std::move(request.body);
  transfer.ca_file = std::move(request.ca_file);
  for (const std::string& header : request.headers) {
    if (!append_header(transfer.headers, header.c_str())) return "curl_slist_append failed";
  }
  // An empty "Expect:" stops curl from waiting for 100-continue on larger bodies.
  if (!append_header(transfer.headers, "Expect:")) return "curl_slist_append failed";

  EasyOptions options(transfer.easy.get());
  options.set(CURLOPT_URL, request.url.c_str());
  if (request.method == SendRequest::Method::kPost) {
    options.set(CURLOPT_POST, 1L);
    options.set(CURLOPT_POSTFIELDS, transfer.body.data());
    options.set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(transfer.body.size()));
  } else {
    options.set(CURLOPT_HTTPGET, 1L);
  }
  options.set(CURLOPT_HTTPHEADER, transfer.headers.get());
  options.set(CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  options.set(CURLOPT_NOSIGNAL, 1L);
  options.set(CURLOPT_WRITEFUNCTION, &discard_body);
  options.set(CURLOPT_ERRORBUFFER, transfer.error);
#if LIBCURL_VERSION_NUM >= 0x075500
  options.set(CURLOPT_PROTOCOLS_STR, "http,https");
#else
  options.set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  options.set(CURLOPT_FOLLOWLOCATION, 0L);
  set_http_version(options, request);
  if (!transfer.ca_file.empty()) options.set(CURLOPT_CAINFO, transfer.ca_file.c_str());
  options.set(CURLOPT_PRIVATE, &transfer);
  return options.error();
}

void HttpSender::report_failed() {
  std::vector<FailedSend> failed;
  failed.swap(failed_);
  for (FailedSend& f : failed) {
    SendResult result;
    result.error = std::move(f.error);
    result.not_sent = true;
    finish(*f.transfer, result);
  }
}

void HttpSender::finish(Transfer& transfer, const SendResult& result) {
  // One callback's exception must not cost the other transfers finished in
  // the same pass their callbacks.
  core::guarded("send result callback", [&] { transfer.callback(result); });
  if (transfer.easy && idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(transfer.easy));
}

int HttpSender::on_socket(CURL*, curl_socket_t fd, int what, void* self_ptr, void*) {
  // -1 tells curl to fail every transfer in progress: each caller then gets
  // a transport error and retries, rather than a transfer that waits for a
  // socket nobody watches until its timeout.
  int rc = -1;
  core::guarded("curl socket callback",
                [&] { rc = static_cast<HttpSender*>(self_ptr)->watch_socket(fd, what); });
  return rc;
}

int HttpSender::watch_socket(curl_socket_t fd, int what) {
  if (what == CURL_POLL_REMOVE) {
    sockets_.erase(fd);
    return 0;
  }
  const short events =
      static_cast<short>(((what & CURL_POLL_IN) != 0 ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) != 0 ? EV_WRITE : 0) | EV_PERSIST);
  auto& socket = sockets_[fd];
  if (!socket) socket = std::make_unique<Socket>();
  // curl repeats its interest often; only a change costs an epoll_ctl.
  if (socket->event && socket->what == what) return 0;
  socket->what = -1;  // no CURL_POLL_* value: not watching until the event below is added
  if (socket->event) {
    event_del(socket->event.get());
    if (event_assign(socket->event.get(), base_, fd, events, &HttpSender::on_socket_event, this) !=
        0) {
      socket->event.reset();
    }
  } else {
    socket->event.reset(event_new(base_, fd, events, &HttpSender::on_socket_event, this));
  }
  if (!socket->event || event_add(socket->event.get(), nullptr) != 0) {
    core::log_error("libevent refused to watch a curl socket; failing the transfers in progress");
    return -1;
  }
  socket->what = what;
  return 0;
}

int HttpSender::on_timer(CURLM*, long timeout_ms, void* self_ptr) {
  auto* self = static_cast<HttpSender*>(self_ptr);
  // As in on_socket: without its timer curl's transfers would hang, so a
  // timer we cannot arm (start_once throws) fails them instead.
  const bool armed = core::guarded("curl timer callback", [&] {
    if (timeout_ms < 0) {
      self->timer_.stop();
    } else {
      // A zero timeout still goes through the loop: curl forbids calling
      // socket_action from inside its own callback.
      self->timer_.start_once(std::chrono::milliseconds(timeout_ms));
    }
  });
  return armed ? 0 : -1;
}

void HttpSender::on_socket_event(evutil_socket_t fd, short events, void* self_ptr) {
  const int action = ((events & EV_READ) != 0 ? CURL_CSELECT_IN : 0) |
                     ((events & EV_WRITE) != 0 ? CURL_CSELECT_OUT : 0);
  core::guarded("curl socket event",
                [&] { static_cast<HttpSender*>(self_ptr)->socket_action(fd, action); });
}

void HttpSender::socket_action(curl_socket_t fd, int events) {
  int running = 0;
  const CURLMcode rc = curl_multi_socket_action(multi_.get(), fd, events, &running);
  // Transfers curl failed on the way (e.g. after our callback returned -1)
  // are finished with an error below, so every caller still gets its result.
  if (rc != CURLM_OK) {
    core::log_error("curl_multi_socket_action failed", {{"ERROR", curl_multi_strerror(rc)}});
  }
  collect_finished();
  if (rc == CURLM_OK && running == 0) timer_.stop();
}

void HttpSender::collect_finished() {
  int remaining = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_.get(), &remaining)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    const CURLcode code = message->data.result;
    curl_multi_remove_handle(multi_.get(), easy);
    auto node = transfers_.extract(easy);
    if (node.empty()) continue;
    Transfer& transfer = *node.mapped();

    SendResult result;
    curl_off_t elapsed_us = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &elapsed_us);
    result.elapsed = std::chrono::microseconds(elapsed_us);
    if (code == CURLE_OK) {
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.status);
      long version = 0;
      curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
      result.http2 = version == CURL_HTTP_VERSION_2_0;
    } else {
      result.error = transfer.error[0] != '\0' ? transfer.error : curl_easy_strerror(code);
    }
    finish(transfer, result);
  }
}

}  // namespace gpsrelay::forward
