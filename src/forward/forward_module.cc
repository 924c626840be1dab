// Forwarding as a module (see forward_module.h).
#include "forward/forward_module.h"

namespace gpsrelay::forward {
namespace {

core::ForwardMetrics& register_metrics(core::MetricsRegistry& metrics,
                                       const std::vector<std::string>& targets) {
  metrics.set_forward(std::make_unique<core::ForwardMetrics>(targets));
  return *metrics.forward();
}

}  // namespace

ForwardModule::ForwardModule(const core::Config& config, std::string consumer_name,
                             core::MetricsRegistry& metrics, queue::LeaseKeeper& leases)
    : group_(config.redis.group),
      mysql_address_(core::mysql_address(config.mysql)),
      metrics_(register_metrics(metrics, config.forward.targets)),
      forwarder_(std::make_unique<Forwarder>(config, std::move(consumer_name), metrics_,
                                             &leases.lease("failed-packets-retention"))) {}

void ForwardModule::add_health(http::HealthSnapshot& snapshot) const {
  snapshot.forwarding_configured = true;
  snapshot.forward_group = group_;
  snapshot.forward_pending = metrics_.group_pending.load(std::memory_order_relaxed);
  snapshot.forward_lag = metrics_.group_lag.load(std::memory_order_relaxed);
  snapshot.mysql_up = metrics_.store.up.load(std::memory_order_relaxed);
  snapshot.mysql_address = mysql_address_;
  for (const auto& target : metrics_.targets) {
    snapshot.targets.push_back(
        {target->url, core::target_state_name(target->state.load(std::memory_order_relaxed)),
         target->last_error()});
  }
}

}  // namespace gpsrelay::forward
