// ForwardModule: delivery to forward.targets as a module of gpsrelayd,
// enabled when targets are configured. It owns the forwarder loops
// (forward.threads of them, forwarder.h) and what they share: the
// balancer with every target's breaker and health, and the failure store
// (one MySQL thread, whose commits it hands back to the loop holding each
// entry). It registers the forwarding metrics and fills the forwarding and
// MySQL parts of /health. It has no routes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "daemon/module.h"
#include "forward/forwarder.h"
#include "forward/shared_targets.h"
#include "queue/lease.h"
#include "store/failure_store.h"

namespace gpsrelay::forward {

class ForwardModule : public daemon::Module {
 public:
  ForwardModule(const core::Config& config, const std::string& consumer_name,
                core::MetricsRegistry& metrics, queue::LeaseKeeper& leases);
  ~ForwardModule() override { join(); }

  std::string_view name() const override { return "forwarding"; }
  void add_routes(http::RouteTable&) const override {}
  std::unique_ptr<http::RequestHandler> make_handler(const http::WorkerServices&) override {
    return nullptr;
  }

  void start() override;
  void request_stop() override;
  void join() override;
  bool alive(std::chrono::steady_clock::time_point now,
             std::chrono::steady_clock::duration limit) const override;
  void add_health(http::HealthSnapshot& snapshot) const override;

 private:
  const std::string group_;
  const std::string mysql_address_;  // as /health shows it
  core::ForwardMetrics& metrics_;    // owned by the registry, which outlives the daemon's modules
  SharedTargets targets_;
  // Before the loops: they submit to it until joined, and it calls back
  // into them until it is joined (after them).
  store::FailureStore store_;
  std::vector<std::unique_ptr<Forwarder>> forwarders_;
};

}  // namespace gpsrelay::forward
