// ForwardModule: delivery to forward.targets as a module of gpsrelayd,
// enabled when targets are configured. It owns the forwarder thread
// (forwarder.h), registers the forwarding metrics, and fills the
// forwarding and MySQL parts of /health. It has no routes.
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "core/metrics.h"
#include "daemon/module.h"
#include "forward/forwarder.h"
#include "queue/lease.h"

namespace gpsrelay::forward {

class ForwardModule : public daemon::Module {
 public:
  ForwardModule(const core::Config& config, std::string consumer_name,
                core::MetricsRegistry& metrics, queue::LeaseKeeper& leases);

  std::string_view name() const override { return "forwarding"; }
  void add_routes(http::RouteTable&) const override {}
  std::unique_ptr<http::RequestHandler> make_handler(const http::WorkerServices&) override {
    return nullptr;
  }

  void start() override { forwarder_->start(); }
  void request_stop() override { forwarder_->request_stop(); }
  void join() override { forwarder_->join(); }
  bool alive(std::chrono::steady_clock::time_point now,
             std::chrono::steady_clock::duration limit) const override {
    return now - forwarder_->last_heartbeat() < limit;
  }
  void add_health(http::HealthSnapshot& snapshot) const override;

 private:
  const std::string group_;
  const std::string mysql_address_;  // as /health shows it
  core::ForwardMetrics& metrics_;    // owned by the registry, which outlives the daemon's modules
  std::unique_ptr<Forwarder> forwarder_;
};

}  // namespace gpsrelay::forward
