// Accept errors of the HTTP listeners (see accept_guard.h).
#include "http/accept_guard.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "core/log_throttle.h"

namespace gpsrelay::http {
namespace {

// Long enough for connections to close and free descriptors, short enough
// that a recovered process serves again at once.
constexpr std::chrono::milliseconds kPause{100};

// libevent hands the error callback the listener's own argument (evhttp's),
// not ours, so the guards are found by listener. Only the error path looks.
std::mutex g_guards_mutex;
std::unordered_map<evconnlistener*, AcceptGuard*> g_guards;

// One descriptor for the whole process, spent and taken back under the lock.
int g_spare_fd = -1;

void take_spare() {
  if (g_spare_fd < 0) g_spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void refuse_one_waiting(int listen_fd) {
  if (g_spare_fd < 0) return;
  ::close(g_spare_fd);
  g_spare_fd = -1;
  const int waiting = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (waiting >= 0) ::close(waiting);
  take_spare();
}

core::ThrottledLog& fd_limit_log() {
  static core::ThrottledLog log;
  return log;
}

}  // namespace

AcceptGuard::AcceptGuard(event_base* base, evhttp_bound_socket* bound, core::WorkerMetrics& metrics)
    : listener_(evhttp_bound_socket_get_listener(bound)),
      metrics_(metrics),
      resume_timer_(base, [this] { evconnlistener_enable(listener_); }) {
  const std::lock_guard<std::mutex> lock(g_guards_mutex);
  take_spare();
  g_guards[listener_] = this;
  evconnlistener_set_error_cb(listener_, &AcceptGuard::on_error);
}

AcceptGuard::~AcceptGuard() {
  const std::lock_guard<std::mutex> lock(g_guards_mutex);
  g_guards.erase(listener_);
}

void AcceptGuard::on_error(evconnlistener* listener, void* /*evhttp_arg*/) {
  const int error = errno;
  AcceptGuard* guard = nullptr;
  {
    const std::lock_guard<std::mutex> lock(g_guards_mutex);
    const auto found = g_guards.find(listener);
    if (found != g_guards.end()) guard = found->second;
    if (error == EMFILE || error == ENFILE) refuse_one_waiting(evconnlistener_get_fd(listener));
  }
  fd_limit_log().log(core::LogLevel::kWarning,
                     "cannot accept connections; pausing the listener briefly",
                     {{"ERROR", std::strerror(error)}});
  if (guard != nullptr) guard->pause();
}

void AcceptGuard::pause() {
  core::bump(metrics_.accept_pauses);
  evconnlistener_disable(listener_);
  resume_timer_.start_once(kPause);
}

}  // namespace gpsrelay::http
