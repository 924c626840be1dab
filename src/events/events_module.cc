// The entity-event module (see events_module.h).
#include "events/events_module.h"

#include "core/json_handle.h"
#include "events/events_handler.h"
#include "events/value_handler.h"

namespace gpsrelay::events {
namespace {

constexpr std::size_t kMaxQueuedValueReads = 2000;

// One handler per worker for both APIs: the router hands the module's
// routes to one handler, which sends each to its API's.
class EventsAndValuesHandler : public http::RequestHandler {
 public:
  EventsAndValuesHandler(std::unique_ptr<EventsHandler> events,
                         std::unique_ptr<ValuesHandler> values)
      : events_(std::move(events)), values_(std::move(values)) {}

  void start() override {
    events_->start();
    values_->start();
  }
  void handle(int route, http::Exchange& exchange) override {
    if (is_value_route(route)) {
      values_->handle(route, exchange);
    } else {
      events_->handle(route, exchange);
    }
  }
  void drain() override {
    events_->drain();
    values_->drain();
  }

 private:
  std::unique_ptr<EventsHandler> events_;
  std::unique_ptr<ValuesHandler> values_;
};

}  // namespace

EventsModule::EventsModule(const core::Config& config, const std::string& instance)
    : config_(config),
      mysql_address_(core::mysql_address(config.mysql)),
      store_(config.mysql, store::EntityStore::Options{}, metrics_.store()),
      value_reader_(config.mysql, kMaxQueuedValueReads),
      value_consumer_(std::make_unique<ValueConsumer>(config, instance, value_metrics_)) {}

void EventsModule::add_routes(http::RouteTable& routes) const {
  add_event_routes(routes);
  add_value_routes(routes);
}

std::unique_ptr<http::RequestHandler> EventsModule::make_handler(
    const http::WorkerServices& services) {
  return std::make_unique<EventsAndValuesHandler>(
      std::make_unique<EventsHandler>(services, store_, metrics_),
      std::make_unique<ValuesHandler>(services, config_, value_reader_, value_metrics_));
}

void EventsModule::start() {
  store_.start();
  value_reader_.start();
  value_consumer_->start();
}

void EventsModule::request_stop() {
  store_.request_stop();
  value_reader_.request_stop();
  value_consumer_->request_stop();
}

void EventsModule::join() {
  store_.join();
  value_reader_.join();
  value_consumer_->join();
}

bool EventsModule::alive(std::chrono::steady_clock::time_point now,
                         std::chrono::steady_clock::duration limit) const {
  return now - value_consumer_->last_heartbeat() < limit;
}

void EventsModule::add_health(http::HealthSnapshot& snapshot) const {
  const bool up = store_.up();
  // While MySQL is down nothing else would try again until an event
  // comes: /health itself has the writer reconnect (with its backoff).
  if (!up) store_.probe();
  // The values keep being accepted while their MySQL writer waits (nothing
  // is lost, the backlog grows in Redis), so they do not make the module
  // unhealthy; they say how far behind MySQL is.
  const bool values_redis = value_metrics_.consumer_redis_up.load(std::memory_order_relaxed);
  const bool values_mysql = value_metrics_.store.up.load(std::memory_order_relaxed);
  const std::string values =
      std::string("{\"consumer\":\"") + (values_redis ? "up" : "down") + "\",\"mysql\":\"" +
      (values_mysql ? "up" : "down") +
      "\",\"backlog\":" + std::to_string(value_metrics_.backlog()) + ",\"queued\":" +
      std::to_string(value_metrics_.store.backlog.load(std::memory_order_relaxed)) + "}";
  snapshot.modules.push_back(
      {std::string(name()),
       std::string("{\"status\":\"") + (up ? "ok" : "unavailable") + "\",\"mysql\":\"" +
           (up ? "up" : "down") + "\",\"mysql_address\":" + core::json_quote(mysql_address_) +
           ",\"queued\":" + std::to_string(store_.queued()) + ",\"values\":" + values + "}",
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
  value_metrics_.render(out);
}

}  // namespace gpsrelay::events
