// AcceptGuard: keeps a listening socket well-behaved when the process runs
// out of file descriptors.
//
// At EMFILE/ENFILE accept() fails while the connection stays in the
// kernel's queue, so the socket stays readable: libevent's listener would
// retry at once, forever (a core at 100 %, and a warning per retry). Here
// the listener pauses briefly instead, and one spare descriptor kept for
// the purpose is spent to accept the waiting connection and close it, so
// that client learns at once rather than timing out.
#pragma once

#include <event2/http.h>
#include <event2/listener.h>

#include "core/event_loop.h"
#include "core/metrics.h"

namespace gpsrelay::http {

class AcceptGuard {
 public:
  AcceptGuard(event_base* base, evhttp_bound_socket* bound, core::WorkerMetrics& metrics);
  ~AcceptGuard();
  AcceptGuard(const AcceptGuard&) = delete;
  AcceptGuard& operator=(const AcceptGuard&) = delete;

 private:
  static void on_error(evconnlistener* listener, void* evhttp_arg);
  void pause();

  evconnlistener* listener_;  // owned by evhttp's bound socket
  core::WorkerMetrics& metrics_;
  core::Timer resume_timer_;
};

}  // namespace gpsrelay::http
