// The topics module (see topics_module.h).
#include "topics/topics_module.h"

#include "topics/topic_handler.h"

namespace gpsrelay::topics {
namespace {

std::string labelled(const char* name, const LagSample& s) {
  return std::string(name) + "{group=\"" + s.group + "\",topic=\"" + s.topic + "\",partition=\"" +
         std::to_string(s.partition) + "\"}";
}

}  // namespace

TopicsModule::TopicsModule(const core::Config& config, std::string instance,
                           queue::LeaseKeeper& leases, std::size_t extra_inboxes)
    : config_(config),
      instance_(std::move(instance)),
      notifier_(config.redis, config.topics, config.http.threads + extra_inboxes, instance_,
                &leases.lease("topics-delayed")) {}

void TopicsModule::add_routes(http::RouteTable& routes) const { add_topic_routes(routes); }

std::unique_ptr<http::RequestHandler> TopicsModule::make_handler(
    const http::WorkerServices& services) {
  return std::make_unique<TopicHandler>(services, config_, metrics_, notifier_, instance_);
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
  const std::vector<LagSample> lag = notifier_.lag();
  core::append_header(out, "gpsrelay_topics_consumer_lag", "gauge",
                      "Messages of a partition not yet delivered to a group (read every 5 s).");
  for (const LagSample& s : lag) {
    if (s.lag < 0) continue;
    core::append_sample(out, labelled("gpsrelay_topics_consumer_lag", s),
                        static_cast<double>(s.lag));
  }
  core::append_header(out, "gpsrelay_topics_pending", "gauge",
                      "Messages of a partition delivered to a group and not acknowledged.");
  for (const LagSample& s : lag) {
    core::append_sample(out, labelled("gpsrelay_topics_pending", s),
                        static_cast<double>(s.pending));
  }
}

}  // namespace gpsrelay::topics
