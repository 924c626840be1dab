// Module: one feature of gpsrelayd beyond report ingest and forwarding
// (locations now; topics and events later). A module brings its HTTP routes
// and per-thread handlers (http::HandlerFactory), its own background
// threads (consumers), its part of /health and of /metrics. The daemon
// creates the modules its configuration enables and wires them; it does
// not know what they do.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "http/request_handler.h"
#include "http/status_pages.h"

namespace gpsrelay::daemon {

class Module : public http::HandlerFactory {
 public:
  // Its name in logs and /health ("locations").
  virtual std::string_view name() const = 0;

  // Background work (consumer threads); called after the HTTP workers start.
  virtual void start() {}
  // From any thread: stop soon. join() waits for it.
  virtual void request_stop() {}
  virtual void join() {}
  // False when a thread of the module stopped making progress: the daemon
  // then stops its watchdog pings, and systemd restarts it.
  virtual bool alive(std::chrono::steady_clock::time_point /*now*/,
                     std::chrono::steady_clock::duration /*limit*/) const {
    return true;
  }

  // Its part of /health: the fields it owns, or an entry of
  // snapshot.modules (an unhealthy one turns /health 503). Called on HTTP
  // threads.
  virtual void add_health(http::HealthSnapshot& /*snapshot*/) const {}
  // Appends its families to a /metrics scrape. Called on HTTP threads.
  virtual void render_metrics(std::string& /*out*/) const {}
  // SIGHUP: re-read what can change at run time; errors are logged and the
  // running state kept.
  virtual void reload(const core::Config& /*fresh*/) {}
};

}  // namespace gpsrelay::daemon
