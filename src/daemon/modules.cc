// Module selection (see modules.h).
#include "daemon/modules.h"

#include "core/log.h"
#include "events/events_module.h"
#include "forward/forward_module.h"
#include "grpc/grpc_module.h"
#include "ingest/ingest_module.h"
#include "locations/locations_module.h"
#include "map/map_module.h"
#include "topics/topics_module.h"

namespace gpsrelay::daemon {

std::vector<std::unique_ptr<Module>> make_modules(
    const core::Config& config, const std::string& consumer_name, core::MetricsRegistry& metrics,
    const core::SharedSlot<const auth::TokenStore>* tokens,
    const core::SharedSlot<const auth::TokenStore>* read_tokens) {
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(std::make_unique<ingest::IngestModule>(config.http));
  if (!config.forward.targets.empty()) {
    modules.push_back(std::make_unique<forward::ForwardModule>(config, consumer_name, metrics));
  } else {
    core::log_warning("forward.targets is empty: reports are queued but not forwarded");
  }
  // A module with counters of its own renders them into /metrics.
  const auto add_measured = [&](std::unique_ptr<Module> module) {
    metrics.add_renderer([m = module.get()](std::string& out) { m->render_metrics(out); });
    modules.push_back(std::move(module));
  };
  if (config.locations.enabled) {
    add_measured(std::make_unique<locations::LocationsModule>(config, consumer_name));
    modules.push_back(
        std::make_unique<map::MapModule>(config.locations, map::map_dirs_from_environment()));
  }
  if (config.events.enabled) add_measured(std::make_unique<events::EventsModule>(config));
  if (config.topics.enabled) {
    const bool serve_grpc = config.grpc.listen.has_value();
    auto topics_module =
        std::make_unique<topics::TopicsModule>(config, consumer_name, serve_grpc ? 1 : 0);
    topics::TopicNotifier& notifier = topics_module->notifier();
    topics::TopicMetrics& topic_metrics = topics_module->metrics();
    add_measured(std::move(topics_module));
    // After the topics module: stopped and joined after its notifier,
    // which posts to the gRPC bridge's inbox.
    if (serve_grpc) {
      modules.push_back(std::make_unique<grpc_api::GrpcModule>(config, consumer_name, notifier,
                                                               config.http.threads, topic_metrics,
                                                               tokens, read_tokens));
    }
  } else if (config.grpc.listen) {
    core::log_warning("grpc.listen is set but [topics] is not enabled: no gRPC server");
  }
  return modules;
}

}  // namespace gpsrelay::daemon
