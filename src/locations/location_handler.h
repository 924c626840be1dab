// LocationHandler: the location endpoints on one HTTP worker thread
// (CONTRACT.md, "Locations"). Device formats are normalised here and the
// normalised records (JSON, an array for a batch) go into redis.stream like
// any report, answered once Redis has them; reads go to the state in Redis
// (StateReader) or, for routes, to the history in MySQL (store::RouteReader,
// shared by the workers, answering on its own thread).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/event_loop.h"
#include "http/request_handler.h"
#include "live/live_clients.h"
#include "locations/state_reader.h"
#include "store/route_reader.h"

namespace gpsrelay::locations {

enum LocationRoute : int {
  kPostDriverLocation,
  kGetDriverLocation,
  kNearby,
  kRoute,
  kOrderDriverLocation,
  kOsmand,
  kOwnTracks,
};

// Registers the routes above.
void add_location_routes(http::RouteTable& routes);

class LocationHandler : public http::RequestHandler {
 public:
  // `routes` is null with [locations] history = false. `hub` and
  // `live_clients` serve the live (WebSocket and SSE) subscribers.
  LocationHandler(const http::WorkerServices& services, const core::Config& config,
                  store::RouteReader* routes, live::LiveHub& hub, live::LiveMetrics& live_metrics,
                  http::SharedBudget& live_clients);
  ~LocationHandler() override;
  LocationHandler(const LocationHandler&) = delete;
  LocationHandler& operator=(const LocationHandler&) = delete;

  void start() override {
    state_.start();
    live_.start();
  }
  void handle(int route, http::Exchange& exchange) override;
  void drain() override { live_.end_all(); }

 private:
  // Route answers, handed from the reader's thread to this loop.
  struct RouteAnswer;
  struct Inbox {
    std::mutex mutex;
    bool open = true;
    std::vector<std::shared_ptr<RouteAnswer>> answers;
  };

  void post_driver_location(http::Exchange& exchange);
  void post_osmand(http::Exchange& exchange);
  void post_owntracks(http::Exchange& exchange);
  void get_driver_location(http::Exchange& exchange);
  void get_order_driver_location(http::Exchange& exchange);
  void get_nearby(http::Exchange& exchange);
  void get_route(http::Exchange& exchange);
  void deliver_route_answers();
  // A GET that asks for a WebSocket or for text/event-stream: subscribes
  // it to `channel` and returns true; false for a plain read.
  bool subscribe(http::Exchange& exchange, const std::string& channel);
  // The current record of a live channel, for a new subscriber.
  void fetch_current(const std::string& channel,
                     std::function<void(std::optional<std::string>)> done);

  const std::uint64_t max_radius_m_;
  const std::chrono::milliseconds max_route_range_;
  // Before the state reader: its lost replies may still write to a client.
  live::LiveClients live_;
  StateReader state_;
  store::RouteReader* const routes_;
  std::shared_ptr<Inbox> inbox_;
  core::CrossThreadTrigger inbox_trigger_;
};

}  // namespace gpsrelay::locations
