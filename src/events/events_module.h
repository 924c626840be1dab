// EventsModule: the entity-event API as a module of gpsrelayd ([events]
// enabled = true): its routes, an EventsHandler per HTTP worker, the
// EntityStore's MySQL threads, its part of /health and /metrics. It also
// serves the write-behind values (POST /write, GET /read): a ValuesHandler
// per worker, the values consumer thread with its MySQL writer, and a
// MySQL reader for cache misses.
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "daemon/module.h"
#include "events/event_metrics.h"
#include "events/value_consumer.h"
#include "events/value_metrics.h"
#include "store/entity_store.h"
#include "store/value_store.h"

namespace gpsrelay::events {

class EventsModule : public daemon::Module {
 public:
  // `instance`: this gpsrelayd's stable consumer name (the values
  // consumer's, so that it reads its own pending entries again at once).
  EventsModule(const core::Config& config, const std::string& instance);

  // For the gRPC front end: the same store and counters.
  store::EntityStore& store() { return store_; }
  EventMetrics& metrics() { return metrics_; }

  std::string_view name() const override { return "events"; }
  void add_routes(http::RouteTable& routes) const override;
  std::unique_ptr<http::RequestHandler> make_handler(const http::WorkerServices& services) override;

  void start() override;
  void request_stop() override;
  void join() override;
  bool alive(std::chrono::steady_clock::time_point now,
             std::chrono::steady_clock::duration limit) const override;
  void add_health(http::HealthSnapshot& snapshot) const override;
  void render_metrics(std::string& out) const override;

 private:
  const core::Config config_;
  const std::string mysql_address_;
  EventMetrics metrics_;
  mutable store::EntityStore store_;
  ValueMetrics value_metrics_;
  store::ValueReader value_reader_;
  std::unique_ptr<ValueConsumer> value_consumer_;
};

}  // namespace gpsrelay::events
