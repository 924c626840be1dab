// The location service module (see locations_module.h).
#include "locations/locations_module.h"

#include <jansson.h>

#include <cstdlib>

#include "core/json_handle.h"
#include "locations/location_handler.h"

namespace gpsrelay::locations {
namespace {

void render_by_source(std::string& out, const char* name, const char* help,
                      const LocationMetrics::BySource& counts) {
  core::append_header(out, name, "counter", help);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    core::append_sample(out,
                        std::string(name) + "{source=\"" + std::string(kSourceNames[i]) + "\"}",
                        static_cast<double>(counts[i].load(std::memory_order_relaxed)));
  }
}

}  // namespace

LocationsModule::LocationsModule(const core::Config& config, std::string consumer_name,
                                 queue::LeaseKeeper& leases)
    : config_(config),
      osmand_connections_(config.http.max_connections),
      live_clients_(config.locations.live_max_clients),
      hub_(config.redis, config.http.threads, live_metrics_) {
  if (config_.locations.history) {
    routes_ = std::make_unique<store::RouteReader>(config_.mysql, store::RouteReader::Options{});
  }
  consumer_ = std::make_unique<LocationConsumer>(
      config_, std::move(consumer_name), metrics_,
      config_.locations.history ? &leases.lease("history-partitions") : nullptr);
}

void LocationsModule::add_routes(http::RouteTable& routes) const { add_location_routes(routes); }

std::vector<http::ExtraListener> LocationsModule::extra_listeners() const {
  if (!config_.locations.osmand_listen) return {};
  return {
      {*config_.locations.osmand_listen, kOsmand, http::RouteKind::kIngest, &osmand_connections_}};
}

std::unique_ptr<http::RequestHandler> LocationsModule::make_handler(
    const http::WorkerServices& services) {
  return std::make_unique<LocationHandler>(services, config_, routes_.get(), hub_, live_metrics_,
                                           live_clients_);
}

void LocationsModule::start() {
  if (routes_) routes_->start();
  consumer_->start();
  hub_.start();
}

void LocationsModule::request_stop() {
  if (consumer_) consumer_->request_stop();
  if (routes_) routes_->request_stop();
  hub_.request_stop();
}

void LocationsModule::join() {
  if (consumer_) consumer_->join();
  if (routes_) routes_->join();
  hub_.join();
}

bool LocationsModule::alive(std::chrono::steady_clock::time_point now,
                            std::chrono::steady_clock::duration limit) const {
  return now - consumer_->last_heartbeat() < limit && now - hub_.last_heartbeat() < limit;
}

void LocationsModule::add_health(http::HealthSnapshot& snapshot) const {
  const bool redis_up = metrics_.redis_up.load(std::memory_order_relaxed);
  const bool history_on = config_.locations.history;
  const bool mysql_up = metrics_.history.up.load(std::memory_order_relaxed);
  const char* history = !history_on ? "off" : mysql_up ? "up" : "down";
  const core::JsonPtr object(json_pack(
      "{s:s, s:s, s:I, s:I, s:I, s:{s:s, s:I}, s:{s:s, s:I, s:I}}",               //
      "status", redis_up && (!history_on || mysql_up) ? "ok" : "unavailable",     //
      "group", config_.locations.group.c_str(),                                   //
      "pending", static_cast<json_int_t>(metrics_.group_pending.load()),          //
      "lag", static_cast<json_int_t>(metrics_.group_lag.load()),                  //
      "drivers_active", static_cast<json_int_t>(metrics_.drivers_active.load()),  //
      "history", "status", history,                                               //
      "backlog", static_cast<json_int_t>(metrics_.history.backlog.load()),        //
      "live", "pubsub", live_metrics_.pubsub_up.load() ? "up" : "down",           //
      "websocket_clients", static_cast<json_int_t>(live_metrics_.websocket_clients.load()),
      "sse_clients", static_cast<json_int_t>(live_metrics_.sse_clients.load())));
  const std::unique_ptr<char, decltype(&std::free)> text(
      json_dumps(object.get(), JSON_COMPACT | JSON_ENSURE_ASCII), &std::free);
  snapshot.modules.push_back({std::string(name()),
                              text ? std::string(text.get()) : std::string("{}"),
                              redis_up && (!history_on || mysql_up)});
}

void LocationsModule::render_metrics(std::string& out) const {
  const LocationMetrics& m = metrics_;
  render_by_source(out, "gpsrelay_locations_processed_total",
                   "Locations that became a driver's current location, by device format.",
                   m.processed);
  render_by_source(out, "gpsrelay_locations_stale_total",
                   "Locations older than the driver's current one (kept in history only).",
                   m.stale);
  render_by_source(out, "gpsrelay_locations_duplicates_total",
                   "Locations equal in time to the current one (redelivered entries).",
                   m.duplicates);
  render_by_source(out, "gpsrelay_locations_unparsable_total",
                   "Stream entries whose location was malformed.", m.unparsable);
  render_by_source(out, "gpsrelay_locations_not_location_total",
                   "Stream entries without a location (raw reports of other shapes).",
                   m.not_locations);
  core::append_header(out, "gpsrelay_locations_processing_lag_seconds", "histogram",
                      "From a report's XADD to its location state update.");
  core::append_histogram(out, "gpsrelay_locations_processing_lag_seconds", m.processing_lag);
  core::append_metric(out, "gpsrelay_locations_drivers_active", "gauge",
                      "Drivers with a current (unexpired) location.", m.drivers_active);
  core::append_metric(out, "gpsrelay_locations_group_pending", "gauge",
                      "Entries read by the locations group and not yet acknowledged.",
                      m.group_pending);
  core::append_metric(out, "gpsrelay_locations_group_lag", "gauge",
                      "Entries not yet read by the locations group.", m.group_lag);
  core::append_metric(out, "gpsrelay_locations_entries_reclaimed_total", "counter",
                      "Entries another (dead) instance left pending, taken over after "
                      "forward.claim_idle.",
                      m.reclaimed);
  core::append_metric(out, "gpsrelay_locations_state_errors_total", "counter",
                      "Location state updates Redis refused.", m.state_errors);
  core::append_metric(out, "gpsrelay_locations_history_deferred_total", "counter",
                      "Entries left pending because the history backlog was full.",
                      m.history_deferred);
  core::append_metric(out, "gpsrelay_locations_history_up", "gauge",
                      "1 while the history store's MySQL connection works.", m.history.up);
  core::append_metric(out, "gpsrelay_locations_history_rows_total", "counter",
                      "History rows committed (redelivered duplicates included).",
                      m.history.rows_written);
  core::append_metric(out, "gpsrelay_locations_history_backlog", "gauge",
                      "History rows waiting for MySQL.", m.history.backlog);
  core::append_metric(out, "gpsrelay_locations_history_partitions_dropped_total", "counter",
                      "Daily history partitions dropped by the retention.",
                      m.history.partitions_dropped);
  const live::LiveMetrics& l = live_metrics_;
  core::append_header(out, "gpsrelay_live_clients", "gauge", "Live subscribers, by transport.");
  core::append_sample(out, "gpsrelay_live_clients{transport=\"sse\"}",
                      static_cast<double>(l.sse_clients.load(std::memory_order_relaxed)));
  core::append_sample(out, "gpsrelay_live_clients{transport=\"websocket\"}",
                      static_cast<double>(l.websocket_clients.load(std::memory_order_relaxed)));
  core::append_metric(out, "gpsrelay_live_pubsub_up", "gauge",
                      "1 while the Redis Pub/Sub subscription is connected.", l.pubsub_up);
  core::append_metric(out, "gpsrelay_live_messages_received_total", "counter",
                      "Location updates received from Redis Pub/Sub.", l.messages_received);
  core::append_metric(out, "gpsrelay_live_messages_pushed_total", "counter",
                      "Update frames written to live subscribers.", l.messages_pushed);
  core::append_metric(out, "gpsrelay_live_slow_clients_dropped_total", "counter",
                      "Live subscribers dropped for not reading their updates.",
                      l.slow_clients_dropped);
  core::append_metric(out, "gpsrelay_live_clients_refused_total", "counter",
                      "Live subscriptions refused over locations.live_max_clients.",
                      l.clients_refused);
  core::append_metric(out, "gpsrelay_live_handshakes_refused_total", "counter",
                      "WebSocket handshakes answered 400, 403 or 426.", l.handshakes_refused);
  core::append_header(out, "gpsrelay_live_fanout_latency_seconds", "histogram",
                      "From a report's XADD to its update written to a subscriber.");
  core::append_histogram(out, "gpsrelay_live_fanout_latency_seconds", l.fanout_latency);
  core::append_header(out, "gpsrelay_locations_history_batch_seconds", "histogram",
                      "One history transaction, from BEGIN to COMMIT.");
  core::append_histogram(out, "gpsrelay_locations_history_batch_seconds", m.history.batch_duration);
}

}  // namespace gpsrelay::locations
