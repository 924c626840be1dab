// curl multi on libevent (see http_sender.h). The shape follows curl's
// docs/examples/hiperfifo.c: a socket callback that keeps one event per
// socket in step with what curl wants, a timer callback for curl's single
// timeout, and a drain of curl_multi_info_read after every action.
#include "forward/http_sender.h"

#include <stdexcept>

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
  int what = 0;  // the CURL_POLL_* interest the event was made for
};

namespace {

// Discards response bodies: the status is all a delivery needs.
size_t discard_body(char*, size_t size, size_t count, void*) { return size * count; }

}  // namespace

HttpSender::HttpSender(event_base* base, long max_connections)
    : base_(base),
      multi_(curl_multi_init()),
      timer_(base, [this] { socket_action(CURL_SOCKET_TIMEOUT, 0); }) {
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
  curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETFUNCTION, &HttpSender::on_socket);
  curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_.get(), CURLMOPT_TIMERFUNCTION, &HttpSender::on_timer);
  curl_multi_setopt(multi_.get(), CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, max_connections);
  curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, max_connections);
}

HttpSender::~HttpSender() {
  timer_.stop();
  // Remove every easy handle before the multi handle goes; curl may call
  // on_socket for their sockets while we do, so sockets_ is cleared last.
  for (auto& [easy, transfer] : transfers_) curl_multi_remove_handle(multi_.get(), easy);
  transfers_.clear();
  idle_.clear();
  multi_.reset();
  sockets_.clear();
}

void HttpSender::send(SendRequest request, Callback callback) {
  auto transfer = std::make_unique<Transfer>();
  // A finished handle is reused: curl_easy_init allocates and zeroes a
  // large struct, which at thousands of deliveries a second shows up.
  if (!idle_.empty()) {
    transfer->easy = std::move(idle_.back());
    idle_.pop_back();
    curl_easy_reset(transfer->easy.get());
  } else {
    transfer->easy.reset(curl_easy_init());
  }
  if (!transfer->easy) throw std::runtime_error("curl_easy_init failed");
  transfer->body = std::move(request.body);
  transfer->ca_file = std::move(request.ca_file);
  transfer->callback = std::move(callback);
  curl_slist* list = nullptr;
  for (const std::string& header : request.headers) {
    curl_slist* grown = curl_slist_append(list, header.c_str());
    if (grown == nullptr) {
      curl_slist_free_all(list);
      throw std::runtime_error("curl_slist_append failed");
    }
    list = grown;
  }
  // An empty "Expect:" stops curl from waiting for 100-continue on larger bodies.
  list = curl_slist_append(list, "Expect:");
  transfer->headers.reset(list);

  CURL* easy = transfer->easy.get();
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  if (request.method == SendRequest::Method::kPost) {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer->body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(transfer->body.size()));
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers.get());
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &discard_body);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  if (!transfer->ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, transfer->ca_file.c_str());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());

  const CURLMcode rc = curl_multi_add_handle(multi_.get(), easy);
  if (rc != CURLM_OK) throw std::runtime_error(curl_multi_strerror(rc));
  transfers_.emplace(easy, std::move(transfer));
}

int HttpSender::on_socket(CURL*, curl_socket_t fd, int what, void* self_ptr, void*) {
  auto* self = static_cast<HttpSender*>(self_ptr);
  if (what == CURL_POLL_REMOVE) {
    self->sockets_.erase(fd);
    return 0;
  }
  const short events =
      static_cast<short>(((what & CURL_POLL_IN) != 0 ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) != 0 ? EV_WRITE : 0) | EV_PERSIST);
  auto& socket = self->sockets_[fd];
  if (!socket) socket = std::make_unique<Socket>();
  // curl repeats its interest often; only a change costs an epoll_ctl.
  if (socket->event && socket->what == what) return 0;
  if (socket->event) {
    event_del(socket->event.get());
    event_assign(socket->event.get(), self->base_, fd, events, &HttpSender::on_socket_event, self);
  } else {
    socket->event.reset(event_new(self->base_, fd, events, &HttpSender::on_socket_event, self));
  }
  if (!socket->event || event_add(socket->event.get(), nullptr) != 0) return -1;
  socket->what = what;
  return 0;
}

int HttpSender::on_timer(CURLM*, long timeout_ms, void* self_ptr) {
  auto* self = static_cast<HttpSender*>(self_ptr);
  if (timeout_ms < 0) {
    self->timer_.stop();
  } else {
    // A zero timeout still goes through the loop: curl forbids calling
    // socket_action from inside its own callback.
    self->timer_.start_once(std::chrono::milliseconds(timeout_ms));
  }
  return 0;
}

void HttpSender::on_socket_event(evutil_socket_t fd, short events, void* self_ptr) {
  const int action = ((events & EV_READ) != 0 ? CURL_CSELECT_IN : 0) |
                     ((events & EV_WRITE) != 0 ? CURL_CSELECT_OUT : 0);
  static_cast<HttpSender*>(self_ptr)->socket_action(fd, action);
}

void HttpSender::socket_action(curl_socket_t fd, int events) {
  int running = 0;
  curl_multi_socket_action(multi_.get(), fd, events, &running);
  collect_finished();
  if (running == 0) timer_.stop();
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
    } else {
      result.error = transfer.error[0] != '\0' ? transfer.error : curl_easy_strerror(code);
    }
    transfer.callback(result);
    if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(transfer.easy));
  }
}

}  // namespace gpsrelay::forward
