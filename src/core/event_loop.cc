// Implementation of the libevent RAII helpers (see event_loop.h).
#include "core/event_loop.h"

#include <event2/thread.h>

#include <stdexcept>

#include "core/callback_guard.h"

namespace gpsrelay::core {

void enable_libevent_threads() {
  if (evthread_use_pthreads() != 0) {
    throw std::runtime_error("libevent: evthread_use_pthreads failed");
  }
}

EventBasePtr make_event_base() {
  const CHandle<event_config, event_config_free> config(event_config_new());
  if (!config) throw std::runtime_error("libevent: event_config_new failed");
  // evhttp turns reading off while a request waits for Redis and back on
  // when it answers, and the hiredis adapter re-adds its read event after
  // every read; the changelist folds such pairs within one loop iteration
  // into at most one epoll_ctl. (Its caveat, fds cloned with dup(), does
  // not apply: we never dup sockets.)
  event_config_set_flag(config.get(), EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  EventBasePtr base(event_base_new_with_config(config.get()));
  if (!base) throw std::runtime_error("libevent: event_base_new failed");
  return base;
}

timeval to_timeval(std::chrono::milliseconds duration) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

Timer::Timer(event_base* base, std::function<void()> callback)
    : callback_(std::move(callback)),
      event_once_(event_new(base, -1, 0, &Timer::on_fire, this)),
      event_periodic_(event_new(base, -1, EV_PERSIST, &Timer::on_fire, this)) {
  if (!event_once_ || !event_periodic_) throw std::runtime_error("libevent: event_new failed");
}

namespace {

// A timer that silently never fires would strand whatever waits on it (a
// retry, a reconnect), so a refused event_add is an exception, not a no-op.
void add_timeout(event* ev, std::chrono::milliseconds delay) {
  const timeval tv = to_timeval(delay);
  if (event_add(ev, &tv) != 0) throw std::runtime_error("libevent: event_add failed for a timer");
}

}  // namespace

void Timer::start_once(std::chrono::milliseconds delay) {
  stop();
  add_timeout(event_once_.get(), delay);
}

void Timer::start_periodic(std::chrono::milliseconds interval) {
  stop();
  add_timeout(event_periodic_.get(), interval);
}

void Timer::stop() {
  event_del(event_once_.get());
  event_del(event_periodic_.get());
}

bool Timer::pending() const {
  return event_pending(event_once_.get(), EV_TIMEOUT, nullptr) != 0 ||
         event_pending(event_periodic_.get(), EV_TIMEOUT, nullptr) != 0;
}

void Timer::on_fire(evutil_socket_t, short, void* self) {
  guarded("timer", static_cast<Timer*>(self)->callback_);
}

CrossThreadTrigger::CrossThreadTrigger(event_base* base, std::function<void()> callback)
    : callback_(std::move(callback)),
      event_(event_new(base, -1, 0, &CrossThreadTrigger::on_fire, this)) {
  if (!event_) throw std::runtime_error("libevent: event_new failed");
}

void CrossThreadTrigger::trigger() { event_active(event_.get(), EV_TIMEOUT, 0); }

void CrossThreadTrigger::on_fire(evutil_socket_t, short, void* self) {
  guarded("cross-thread trigger", static_cast<CrossThreadTrigger*>(self)->callback_);
}

}  // namespace gpsrelay::core
