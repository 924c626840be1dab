// LocationsModule: the location service as a module of gpsrelayd
// ([locations] enabled = true). It owns the consumer thread that turns
// stream entries into location state and history (LocationConsumer), the
// route reader over the history, the listener budget of osmand_listen, and
// the counters; it gives each HTTP worker a LocationHandler.
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "daemon/module.h"
#include "http/shared_budget.h"
#include "live/live_hub.h"
#include "live/live_metrics.h"
#include "locations/location_consumer.h"
#include "locations/location_metrics.h"
#include "queue/lease.h"
#include "store/route_reader.h"

namespace gpsrelay::locations {

class LocationsModule : public daemon::Module {
 public:
  // Destroying it stops and joins its threads (the members' destructors).
  LocationsModule(const core::Config& config, std::string consumer_name,
                  queue::LeaseKeeper& leases);

  std::string_view name() const override { return "locations"; }

  // http::HandlerFactory
  void add_routes(http::RouteTable& routes) const override;
  std::vector<http::ExtraListener> extra_listeners() const override;
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
  LocationMetrics metrics_;
  live::LiveMetrics live_metrics_;
  // Handed to every worker's listener (shared by their sockets).
  mutable http::SharedBudget osmand_connections_;
  http::SharedBudget live_clients_;  // locations.live_max_clients
  live::LiveHub hub_;
  std::unique_ptr<store::RouteReader> routes_;  // null with history = false
  std::unique_ptr<LocationConsumer> consumer_;
};

}  // namespace gpsrelay::locations
