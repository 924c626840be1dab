// Module selection (see modules.h).
#include "daemon/modules.h"

#include "core/log.h"
#include "events/events_module.h"
#include "forward/forward_module.h"
#include "grpc/events_service.h"
#include "grpc/grpc_module.h"
#include "grpc/topics_service.h"
#include "ingest/ingest_module.h"
#include "locations/locations_module.h"
#include "map/map_module.h"
#include "topics/topics_module.h"

namespace gpsrelay::daemon {

std::vector<std::unique_ptr<Module>> make_modules(
    const core::Config& config, const std::string& consumer_name, core::MetricsRegistry& metrics,
    const core::SharedSlot<const auth::TokenStore>* tokens,
    const core::SharedSlot<const auth::TokenStore>* read_tokens, queue::LeaseKeeper& leases) {
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(std::make_unique<ingest::IngestModule>(config.http));
  if (!config.forward.targets.empty()) {
    modules.push_back(
        std::make_unique<forward::ForwardModule>(config, consumer_name, metrics, leases));
  } else {
    core::log_warning("forward.targets is empty: reports are queued but not forwarded");
  }
  // A module with counters of its own renders them into /metrics.
  const auto add_measured = [&](std::unique_ptr<Module> module) {
    metrics.add_renderer([m = module.get()](std::string& out) { m->render_metrics(out); });
    modules.push_back(std::move(module));
  };
  if (config.locations.enabled) {
    add_measured(std::make_unique<locations::LocationsModule>(config, consumer_name, leases));
    modules.push_back(
        std::make_unique<map::MapModule>(config.locations, map::map_dirs_from_environment()));
  }
  // The services of the gRPC server, from the modules that bring one. The
  // server comes after those modules in the list: they stop and join
  // first (the topics notifier posts to its bridge's inbox; the events
  // store runs every callback it accepted, which finishes the calls).
  const bool serve_grpc = config.grpc.listen.has_value();
  std::vector<std::unique_ptr<grpc_api::GrpcService>> grpc_services;
  if (config.events.enabled) {
    auto events_module = std::make_unique<events::EventsModule>(config, consumer_name);
    if (serve_grpc) {
      grpc_services.push_back(
          grpc_api::make_events_service(events_module->store(), events_module->metrics(), tokens));
    }
    add_measured(std::move(events_module));
  }
  if (config.topics.enabled) {
    auto topics_module =
        std::make_unique<topics::TopicsModule>(config, consumer_name, leases, serve_grpc ? 1 : 0);
    if (serve_grpc) {
      grpc_services.push_back(grpc_api::make_topics_service(
          config, consumer_name, topics_module->notifier(), config.http.threads,
          topics_module->metrics(), tokens, read_tokens));
    }
    add_measured(std::move(topics_module));
  }
  if (!grpc_services.empty()) {
    modules.push_back(std::make_unique<grpc_api::GrpcModule>(config, std::move(grpc_services)));
  } else if (serve_grpc) {
    core::log_warning(
        "grpc.listen is set but neither [topics] nor [events] is enabled: no gRPC server");
  }
  return modules;
}

}  // namespace gpsrelay::daemon
