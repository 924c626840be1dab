// RAII owners for libevent objects and a small Timer on top of them.
//
// Each event-loop thread owns one EventBase; everything registered on it
// (timers, evhttp, the hiredis adapter) must be destroyed before it, which
// the member order of the owning classes guarantees.
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include <chrono>
#include <functional>

#include "core/c_handle.h"

namespace gpsrelay::core {

using EventBasePtr = CHandle<event_base, event_base_free>;
using EventPtr = CHandle<event, event_free>;
using EvhttpPtr = CHandle<evhttp, evhttp_free>;
using EvbufferPtr = CHandle<evbuffer, evbuffer_free>;

// Makes libevent's structures safe to touch from several threads (needed
// for event_active() across threads). Call once, before any event_base.
void enable_libevent_threads();

EventBasePtr make_event_base();

// A callback on an event loop, either once after a delay or periodically.
// The callback runs on the loop's thread; destroying the Timer cancels it.
// An exception from the callback is logged and dropped (core::guarded):
// the loop and the timer go on. start_* throw if libevent refuses the timer.
class Timer {
 public:
  Timer(event_base* base, std::function<void()> callback);
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void start_once(std::chrono::milliseconds delay);
  void start_periodic(std::chrono::milliseconds interval);
  void stop();
  bool pending() const;

 private:
  static void on_fire(evutil_socket_t, short, void* self);

  std::function<void()> callback_;
  EventPtr event_once_;
  EventPtr event_periodic_;
};

// A callback that another thread can trigger (event_active) to run code on
// this loop's thread, e.g. "start draining" sent by the main thread. Like
// Timer's, an exception from the callback is logged and dropped.
class CrossThreadTrigger {
 public:
  CrossThreadTrigger(event_base* base, std::function<void()> callback);
  CrossThreadTrigger(const CrossThreadTrigger&) = delete;
  CrossThreadTrigger& operator=(const CrossThreadTrigger&) = delete;

  // Safe to call from any thread.
  void trigger();

 private:
  static void on_fire(evutil_socket_t, short, void* self);

  std::function<void()> callback_;
  EventPtr event_;
};

timeval to_timeval(std::chrono::milliseconds duration);

}  // namespace gpsrelay::core
