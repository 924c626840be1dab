// EventsModule: the entity-event API as a module of gpsrelayd ([events]
// enabled = true): its routes, an EventsHandler per HTTP worker, the
// EntityStore's MySQL threads, its part of /health and /metrics.
#pragma once

#include <memory>

#include "core/config.h"
#include "daemon/module.h"
#include "events/event_metrics.h"
#include "store/entity_store.h"

namespace gpsrelay::events {

class EventsModule : public daemon::Module {
 public:
  explicit EventsModule(const core::Config& config);

  // For the gRPC front end: the same store and counters.
  store::EntityStore& store() { return store_; }
  EventMetrics& metrics() { return metrics_; }

  std::string_view name() const override { return "events"; }
  void add_routes(http::RouteTable& routes) const override;
  std::unique_ptr<http::RequestHandler> make_handler(const http::WorkerServices& services) override;

  void start() override { store_.start(); }
  void request_stop() override { store_.request_stop(); }
  void join() override { store_.join(); }
  void add_health(http::HealthSnapshot& snapshot) const override;
  void render_metrics(std::string& out) const override;

 private:
  const std::string mysql_address_;
  EventMetrics metrics_;
  mutable store::EntityStore store_;
};

}  // namespace gpsrelay::events
