// Forwarding as a module (see forward_module.h).
#include "forward/forward_module.h"

#include <algorithm>

namespace gpsrelay::forward {
namespace {

core::ForwardMetrics& register_metrics(core::MetricsRegistry& metrics,
                                       const std::vector<std::string>& targets) {
  metrics.set_forward(std::make_unique<core::ForwardMetrics>(targets));
  return *metrics.forward();
}

}  // namespace

ForwardModule::ForwardModule(const core::Config& config, const std::string& consumer_name,
                             core::MetricsRegistry& metrics, queue::LeaseKeeper& leases)
    : group_(config.redis.group),
      mysql_address_(core::mysql_address(config.mysql)),
      metrics_(register_metrics(metrics, config.forward.targets)),
      targets_(config.forward.targets.size(), config.forward.breaker_failures,
               config.forward.breaker_cooldown),
      store_(config.mysql,
             store::FailureStore::Options{.purge_lease = &leases.lease("failed-packets-retention")},
             metrics_.store, [this](std::uint32_t origin, std::vector<std::string> ids) {
               forwarders_.at(origin)->stored(std::move(ids));
             }) {
  // More loops than deliveries in flight would leave loops without a slot.
  const unsigned loops = std::min(config.forward.threads, config.forward.concurrency);
  for (unsigned i = 0; i < loops; ++i) {
    Forwarder::Loop loop;
    loop.index = i;
    // The first loop keeps the instance's own name, so the entries an
    // earlier single-loop run left pending come back to it at once.
    loop.consumer_name = i == 0 ? consumer_name : consumer_name + "/" + std::to_string(i);
    // forward.concurrency is the process's total, spread over the loops.
    loop.concurrency = std::max<std::size_t>(1, (config.forward.concurrency + i) / loops);
    loop.health_checks = i == 0;
    forwarders_.push_back(std::make_unique<Forwarder>(config, loop, metrics_, targets_, store_));
  }
}

void ForwardModule::start() {
  store_.start();
  for (auto& forwarder : forwarders_) forwarder->start();
}

void ForwardModule::request_stop() {
  for (auto& forwarder : forwarders_) forwarder->request_stop();
}

void ForwardModule::join() {
  for (auto& forwarder : forwarders_) forwarder->join();
  store_.request_stop();
  store_.join();
}

bool ForwardModule::alive(std::chrono::steady_clock::time_point now,
                          std::chrono::steady_clock::duration limit) const {
  return std::all_of(forwarders_.begin(), forwarders_.end(),
                     [&](const auto& f) { return now - f->last_heartbeat() < limit; });
}

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
