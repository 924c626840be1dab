// The entity-event module (see events_module.h).
#include "events/events_module.h"

#include "core/json_handle.h"
#include "events/events_handler.h"

namespace gpsrelay::events {

EventsModule::EventsModule(const core::Config& config)
    : mysql_address_(core::mysql_address(config.mysql)),
      store_(config.mysql, store::EntityStore::Options{}, metrics_.store()) {}

void EventsModule::add_routes(http::RouteTable& routes) const { add_event_routes(routes); }

std::unique_ptr<http::RequestHandler> EventsModule::make_handler(
    const http::WorkerServices& services) {
  return std::make_unique<EventsHandler>(services, store_, metrics_);
}

void EventsModule::add_health(http::HealthSnapshot& snapshot) const {
  const bool up = store_.up();
  // While MySQL is down nothing else would try again until an event
  // comes: /health itself has the writer reconnect (with its backoff).
  if (!up) store_.probe();
  snapshot.modules.push_back({std::string(name()),
                              std::string("{\"status\":\"") + (up ? "ok" : "unavailable") +
                                  "\",\"mysql\":\"" + (up ? "up" : "down") +
                                  "\",\"mysql_address\":" + core::json_quote(mysql_address_) +
                                  ",\"queued\":" + std::to_string(store_.queued()) + "}",
                              up});
}

void EventsModule::render_metrics(std::string& out) const {
  metrics_.render(out);
  core::append_metric(out, "gpsrelay_events_queued", "gauge",
                      "Event requests waiting for the MySQL writer.",
                      static_cast<double>(store_.queued()));
  core::append_metric(out, "gpsrelay_events_mysql_up", "gauge",
                      "1 when the entity-event writer's last attempt to reach MySQL worked.",
                      store_.up() ? 1.0 : 0.0);
}

}  // namespace gpsrelay::events
