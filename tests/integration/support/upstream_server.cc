// evhttp-based upstream stand-in (see upstream_server.h).
#include "support/upstream_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <list>
#include <stdexcept>

namespace gpsrelay::testing {

// One event loop thread serving the port; destroyed to stop serving.
class UpstreamServer::Loop {
 public:
  Loop(UpstreamServer& owner, std::uint16_t port)
      : owner_(owner),
        base_(new_threadsafe_base(), &event_base_free),
        http_(nullptr, &evhttp_free) {
    if (!base_) throw std::runtime_error("UpstreamServer: event_base_new failed");
    http_.reset(evhttp_new(base_.get()));
    if (owner_.tls_) {
      ssl_ctx_.reset(SSL_CTX_new(TLS_server_method()));
      if (!ssl_ctx_ ||
          SSL_CTX_use_certificate_chain_file(ssl_ctx_.get(), owner_.tls_->cert.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ssl_ctx_.get(), owner_.tls_->key.c_str(), SSL_FILETYPE_PEM) !=
              1) {
        throw std::runtime_error("UpstreamServer: cannot load " + owner_.tls_->cert);
      }
      evhttp_set_bevcb(http_.get(), &Loop::make_tls_bufferevent, ssl_ctx_.get());
    }
    evhttp_set_allowed_methods(http_.get(), EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT);
    evhttp_set_gencb(http_.get(), &Loop::on_request, this);
    evhttp_bound_socket* bound = evhttp_bind_socket_with_handle(http_.get(), "127.0.0.1", port);
    if (bound == nullptr) {
      throw std::runtime_error("UpstreamServer: cannot bind 127.0.0.1:" + std::to_string(port));
    }
    sockaddr_in address{};
    socklen_t length = sizeof address;
    getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    stop_event_.reset(event_new(base_.get(), -1, 0, &Loop::on_stop, base_.get()));
    thread_ = std::thread([this] { event_base_dispatch(base_.get()); });
  }

  ~Loop() {
    // An activated event, unlike event_base_loopbreak(), is not lost when
    // the loop thread has not entered its loop yet.
    event_active(stop_event_.get(), EV_TIMEOUT, 0);
    thread_.join();
  }

  std::uint16_t port() const { return port_; }

 private:
  // The destructor stops the loop from the test's thread, which only wakes
  // a base created after evthread_use_pthreads().
  static event_base* new_threadsafe_base() {
    static const int threads_enabled = evthread_use_pthreads();
    (void)threads_enabled;
    return event_base_new();
  }

  struct Delayed {
    Loop* loop;
    evhttp_request* request;
    int status;
    std::unique_ptr<event, decltype(&event_free)> timer{nullptr, &event_free};
  };

  static bufferevent* make_tls_bufferevent(event_base* base, void* ctx) {
    return bufferevent_openssl_socket_new(base, -1, SSL_new(static_cast<SSL_CTX*>(ctx)),
                                          BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
  }

  static void on_stop(evutil_socket_t, short, void* base) {
    event_base_loopbreak(static_cast<event_base*>(base));
  }

  static void on_request(evhttp_request* request, void* self) {
    static_cast<Loop*>(self)->handle(request);
  }

  void handle(evhttp_request* request) {
    ReceivedRequest received;
    switch (evhttp_request_get_command(request)) {
      case EVHTTP_REQ_GET:
        received.method = "GET";
        break;
      case EVHTTP_REQ_PUT:
        received.method = "PUT";
        break;
      default:
        received.method = "POST";
        break;
    }
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
    received.path =
        uri != nullptr && evhttp_uri_get_path(uri) != nullptr ? evhttp_uri_get_path(uri) : "";
    evkeyvalq* headers = evhttp_request_get_input_headers(request);
    for (evkeyval* header = headers->tqh_first; header != nullptr; header = header->next.tqe_next) {
      std::string name = header->key;
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      received.headers[name] = header->value;
    }
    evbuffer* input = evhttp_request_get_input_buffer(request);
    received.body.resize(evbuffer_get_length(input));
    evbuffer_copyout(input, received.body.data(), received.body.size());
    received.received_at = std::chrono::system_clock::now();

    int status = 0;
    std::chrono::milliseconds delay{0};
    {
      const std::lock_guard<std::mutex> lock(owner_.mutex_);
      if (!owner_.health_path_.empty() && received.path == owner_.health_path_) {
        ++owner_.health_checks_;
        status = owner_.health_status_;
        evhttp_send_reply(request, status, "Health", nullptr);
        return;
      }
      owner_.requests_.push_back(std::move(received));
      status = owner_.next_status();
      delay = owner_.delay_;
    }
    if (delay.count() == 0) {
      evhttp_send_reply(request, status, "Scripted", nullptr);
      return;
    }
    Delayed& delayed = delayed_.emplace_back(Delayed{this, request, status});
    delayed.timer.reset(evtimer_new(base_.get(), &Loop::on_delay, &delayed));
    const timeval tv{static_cast<time_t>(delay.count() / 1000),
                     static_cast<suseconds_t>((delay.count() % 1000) * 1000)};
    evtimer_add(delayed.timer.get(), &tv);
  }

  static void on_delay(evutil_socket_t, short, void* arg) {
    auto* delayed = static_cast<Delayed*>(arg);
    evhttp_send_reply(delayed->request, delayed->status, "Scripted", nullptr);
    delayed->loop->delayed_.remove_if([delayed](const Delayed& d) { return &d == delayed; });
  }

  UpstreamServer& owner_;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ssl_ctx_{nullptr, &SSL_CTX_free};
  std::unique_ptr<event_base, decltype(&event_base_free)> base_;
  std::unique_ptr<evhttp, decltype(&evhttp_free)> http_;
  std::unique_ptr<event, decltype(&event_free)> stop_event_{nullptr, &event_free};
  std::list<Delayed> delayed_;  // answers waiting for their delay; freed before http_
  std::uint16_t port_ = 0;
  std::thread thread_;
};

UpstreamServer::UpstreamServer(std::uint16_t port, std::optional<UpstreamTls> tls)
    : port_(port), tls_(std::move(tls)) {
  start();
}

UpstreamServer::~UpstreamServer() { stop(); }

std::string UpstreamServer::url(const std::string& path) const {
  return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_) + path;
}

void UpstreamServer::set_default_status(int status) {
  const std::lock_guard<std::mutex> lock(mutex_);
  default_status_ = status;
}

void UpstreamServer::script(std::vector<int> statuses) {
  const std::lock_guard<std::mutex> lock(mutex_);
  script_.assign(statuses.begin(), statuses.end());
}

void UpstreamServer::set_delay(std::chrono::milliseconds delay) {
  const std::lock_guard<std::mutex> lock(mutex_);
  delay_ = delay;
}

void UpstreamServer::stop() { loop_.reset(); }

void UpstreamServer::start() {
  if (loop_) return;
  loop_ = std::make_unique<Loop>(*this, port_);
  port_ = loop_->port();
}

std::vector<ReceivedRequest> UpstreamServer::requests() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

std::size_t UpstreamServer::request_count() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return requests_.size();
}

void UpstreamServer::serve_health(std::string path, int status) {
  const std::lock_guard<std::mutex> lock(mutex_);
  health_path_ = std::move(path);
  health_status_ = status;
}

std::size_t UpstreamServer::health_check_count() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return health_checks_;
}

int UpstreamServer::next_status() {
  if (script_.empty()) return default_status_;
  const int status = script_.front();
  script_.pop_front();
  return status;
}

}  // namespace gpsrelay::testing
