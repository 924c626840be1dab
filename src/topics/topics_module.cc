// The topics module (see topics_module.h).
#include "topics/topics_module.h"

#include "topics/topic_handler.h"

namespace gpsrelay::topics {

TopicsModule::TopicsModule(const core::Config& config)
    : config_(config), notifier_(config.redis, config.topics, config.http.threads) {}

void TopicsModule::add_routes(http::RouteTable& routes) const { add_topic_routes(routes); }

std::unique_ptr<http::RequestHandler> TopicsModule::make_handler(
    const http::WorkerServices& services) {
  return std::make_unique<TopicHandler>(services, config_, metrics_, notifier_);
}

void TopicsModule::add_health(http::HealthSnapshot& snapshot) const {
  // Publishing and polling need only Redis, which /health shows already;
  // without the notification subscription long-polls answer at their
  // deadline or on their once-a-second recheck instead of at once.
  const bool subscribed = notifier_.subscribed();
  snapshot.modules.push_back({std::string(name()),
                              std::string("{\"status\":\"ok\",\"notifications\":\"") +
                                  (subscribed ? "up" : "down") + "\"}",
                              true});
}

void TopicsModule::render_metrics(std::string& out) const {
  metrics_.render(out);
  core::append_metric(out, "gpsrelay_topics_delayed_released_total", "counter",
                      "Delayed messages moved into their topics when due (by this instance).",
                      static_cast<double>(notifier_.delayed_released()));
}

}  // namespace gpsrelay::topics
