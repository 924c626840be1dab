// The location endpoints of one worker (see location_handler.h).
#include "locations/location_handler.h"

#include <chrono>

#include "core/json_handle.h"
#include "http/request_checks.h"
#include "live/pubsub_message.h"
#include "live/ws_handshake.h"
#include "locations/normalizer.h"
#include "locations/read_json.h"
#include "locations/read_params.h"

namespace gpsrelay::locations {
namespace {

constexpr http::AcceptedAnswer kDriverAccepted{
    202, "application/json", "{\"status\":\"accepted\",\"message_id\":\"", "\"}", true};
// Traccar Client and OsmAnd only look at the status.
constexpr http::AcceptedAnswer kOsmandAccepted{200, "text/plain; charset=utf-8", "", "", false};
// OwnTracks reads the body as a list of messages to show; none.
constexpr http::AcceptedAnswer kOwnTracksAccepted{200, "application/json", "[]", "", false};

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The normalised records as the stream entry's payload: one record's JSON,
// or an array of them for a batch.
std::string payload_of(const std::vector<LocationRecord>& records) {
  if (records.size() == 1) return to_json(records.front());
  std::string payload = "[";
  for (const LocationRecord& record : records) {
    if (payload.size() > 1) payload += ',';
    payload += to_json(record);
  }
  payload += ']';
  return payload;
}

// std::function wants a copyable callback; a held request is not.
std::shared_ptr<http::HeldRequest> held(http::Exchange& exchange) {
  return std::make_shared<http::HeldRequest>(exchange.hold());
}

// Answers a one-record read: the record, 404 saying `not_found`, or 503.
StateReader::Callback answer_record(http::Exchange& exchange, const char* not_found) {
  return [request = held(exchange), not_found](StateReply reply) {
    if (!reply.ok) {
      request->reply_error(503, "location state unavailable");
    } else if (!reply.record) {
      request->reply_error(404, not_found);
    } else {
      request->reply(200, *reply.record);
    }
  };
}

// A path parameter that must be an id; nullopt (after answering 400) if not.
std::optional<std::string> id_param(http::Exchange& exchange, std::string_view name) {
  const std::optional<std::string_view> raw = exchange.route().param(name);
  std::optional<std::string> id = raw ? percent_decode(*raw, false) : std::nullopt;
  if (!id || !is_valid_id(*id)) {
    exchange.reply_error(400,
                         std::string(name) + " must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~");
    return std::nullopt;
  }
  return id;
}

}  // namespace

struct LocationHandler::RouteAnswer {
  http::HeldRequest request;
  std::string driver_id;
  RouteRange range;
  store::RouteResult result;
};

void add_location_routes(http::RouteTable& routes) {
  using http::Method;
  using http::RouteKind;
  routes.add(Method::kPost, "/api/v1/drivers/{driver_id}/location", kPostDriverLocation,
             RouteKind::kIngest);
  routes.add(Method::kGet, "/api/v1/drivers/{driver_id}/location", kGetDriverLocation,
             RouteKind::kRead);
  routes.add(Method::kGet, "/api/v1/drivers/nearby", kNearby, RouteKind::kRead);
  routes.add(Method::kGet, "/api/v1/drivers/{driver_id}/route", kRoute, RouteKind::kRead);
  routes.add(Method::kGet, "/api/v1/orders/{order_id}/driver-location", kOrderDriverLocation,
             RouteKind::kRead);
  routes.add(Method::kGet, "/api/v1/osmand", kOsmand, RouteKind::kIngest);
  routes.add(Method::kPost, "/api/v1/osmand", kOsmand, RouteKind::kIngest);
  routes.add(Method::kPost, "/api/v1/owntracks", kOwnTracks, RouteKind::kIngest);
}

LocationHandler::LocationHandler(const http::WorkerServices& services, const core::Config& config,
                                 store::RouteReader* routes, live::LiveHub& hub,
                                 live::LiveMetrics& live_metrics, http::SharedBudget& live_clients)
    : max_radius_m_(config.locations.max_radius_m),
      max_route_range_(config.locations.max_route_range),
      live_(
          services.base, live::LiveClients::Options{services.index, config.locations.live_origins},
          hub, live_metrics, live_clients,
          [this](const std::string& channel, std::function<void(std::optional<std::string>)> done) {
            fetch_current(channel, std::move(done));
          }),
      state_(services.base, config.redis),
      routes_(routes),
      inbox_(std::make_shared<Inbox>()),
      inbox_trigger_(services.base, [this] { deliver_route_answers(); }) {}

LocationHandler::~LocationHandler() {
  const std::lock_guard<std::mutex> lock(inbox_->mutex);
  inbox_->open = false;
  // Answered like the state reader's lost replies: the worker's server
  // still exists, and a client that went away leaves a request only an
  // answer frees.
  for (auto& answer : inbox_->answers) {
    answer->request.reply_error(503, "shutting down");
  }
}

void LocationHandler::handle(int route, http::Exchange& exchange) {
  switch (static_cast<LocationRoute>(route)) {
    case kPostDriverLocation:
      post_driver_location(exchange);
      return;
    case kGetDriverLocation:
      get_driver_location(exchange);
      return;
    case kNearby:
      get_nearby(exchange);
      return;
    case kRoute:
      get_route(exchange);
      return;
    case kOrderDriverLocation:
      get_order_driver_location(exchange);
      return;
    case kOsmand:
      post_osmand(exchange);
      return;
    case kOwnTracks:
      post_owntracks(exchange);
      return;
  }
  exchange.reply_error(500, "unknown location route");
}

void LocationHandler::post_driver_location(http::Exchange& exchange) {
  const std::optional<std::string_view> content_type = exchange.header("Content-Type");
  if (!content_type || !http::is_json_content_type(*content_type)) {
    exchange.reply_error(415, "Content-Type must be application/json");
    return;
  }
  const std::optional<std::string_view> driver_id = exchange.route().param("driver_id");
  const ParseResult parsed =
      parse_driver_location(driver_id.value_or(""), exchange.body(), exchange.received_at_ms());
  if (!parsed.ok()) {
    exchange.reply_error(400, parsed.error);
    return;
  }
  exchange.enqueue(payload_of(parsed.records), "driver", kDriverAccepted);
}

void LocationHandler::post_osmand(http::Exchange& exchange) {
  const ParseResult parsed =
      parse_osmand_request(exchange.query(), exchange.body(), exchange.received_at_ms());
  if (parsed.status == ParseStatus::kInvalid) {
    exchange.reply_error(400, parsed.error);
    return;
  }
  if (parsed.records.empty()) {
    // A heartbeat (an id without a position): nothing to keep.
    exchange.reply(200, "", kOsmandAccepted.content_type);
    return;
  }
  exchange.enqueue(payload_of(parsed.records), "osmand", kOsmandAccepted);
}

void LocationHandler::post_owntracks(http::Exchange& exchange) {
  const ParseResult parsed = parse_owntracks(
      exchange.body(), exchange.header("X-Limit-D").value_or(""), exchange.received_at_ms());
  if (parsed.status == ParseStatus::kInvalid) {
    exchange.reply_error(400, parsed.error);
    return;
  }
  if (parsed.records.empty()) {
    // Waypoints, transitions, cards...: answered, not kept.
    exchange.reply(200, "[]");
    return;
  }
  exchange.enqueue(payload_of(parsed.records), "owntracks", kOwnTracksAccepted);
}

bool LocationHandler::subscribe(http::Exchange& exchange, const std::string& channel) {
  if (live::asks_for_websocket(exchange.header("Upgrade"))) {
    live_.accept_websocket(exchange, channel);
    return true;
  }
  const std::optional<std::string_view> accept = exchange.header("Accept");
  if (accept && accept->find("text/event-stream") != std::string_view::npos) {
    live_.accept_event_stream(exchange, channel);
    return true;
  }
  return false;
}

void LocationHandler::fetch_current(const std::string& channel,
                                    std::function<void(std::optional<std::string>)> done) {
  auto answer = [done = std::move(done)](StateReply reply) {
    done(reply.ok ? std::move(reply.record) : std::nullopt);
  };
  // The channels are live::driver_channel() and live::order_channel().
  const std::string_view name = channel;
  if (name.starts_with("driver:")) {
    state_.current(name.substr(7), std::move(answer));
  } else if (name.starts_with("order:")) {
    state_.order(name.substr(6), std::move(answer));
  }
}

void LocationHandler::get_driver_location(http::Exchange& exchange) {
  const std::optional<std::string> driver_id = id_param(exchange, "driver_id");
  if (!driver_id) return;
  if (subscribe(exchange, live::driver_channel(*driver_id))) return;
  state_.current(*driver_id, answer_record(exchange, "no current location for this driver"));
}

void LocationHandler::get_order_driver_location(http::Exchange& exchange) {
  const std::optional<std::string> order_id = id_param(exchange, "order_id");
  if (!order_id) return;
  if (subscribe(exchange, live::order_channel(*order_id))) return;
  state_.order(*order_id, answer_record(exchange, "no current driver location for this order"));
}

void LocationHandler::get_nearby(http::Exchange& exchange) {
  const ParamResult<NearbyQuery> query = parse_nearby_query(exchange.query(), max_radius_m_);
  if (!query.value) {
    exchange.reply_error(400, query.error);
    return;
  }
  const NearbyQuery& q = *query.value;
  state_.nearby(q.latitude, q.longitude, q.radius_m, q.limit,
                [request = held(exchange)](StateReply reply) {
                  if (!reply.ok) {
                    request->reply_error(503, "location state unavailable");
                    return;
                  }
                  request->reply(200, nearby_json(reply.nearby));
                });
}

void LocationHandler::get_route(http::Exchange& exchange) {
  const std::optional<std::string> driver_id = id_param(exchange, "driver_id");
  if (!driver_id) return;
  if (routes_ == nullptr) {
    exchange.reply_error(404, "location history is off ([locations] history = false)");
    return;
  }
  const ParamResult<RouteRange> range =
      parse_route_query(exchange.query(), unix_ms_now(), max_route_range_);
  if (!range.value) {
    exchange.reply_error(400, range.error);
    return;
  }
  // Shared with the reader's callback (std::function wants it copyable).
  auto answer = std::make_shared<RouteAnswer>();
  answer->request = exchange.hold();
  answer->driver_id = *driver_id;
  answer->range = *range.value;
  const store::RouteQuery query{*driver_id, range.value->start_ms, range.value->end_ms,
                                range.value->limit};
  // Runs on the reader's thread: hand the answer to this loop, unless
  // this worker is gone.
  const bool queued = routes_->submit(
      query, [inbox = inbox_, trigger = &inbox_trigger_, answer](store::RouteResult result) {
        answer->result = std::move(result);
        const std::lock_guard<std::mutex> lock(inbox->mutex);
        if (!inbox->open) {
          answer->request.abandon();  // its worker is gone
          return;
        }
        inbox->answers.push_back(answer);
        trigger->trigger();
      });
  if (!queued) {
    exchange.add_header("Retry-After", "1");
    answer->request.reply_error(503, "too many route queries waiting");
  }
}

void LocationHandler::deliver_route_answers() {
  std::vector<std::shared_ptr<RouteAnswer>> answers;
  {
    const std::lock_guard<std::mutex> lock(inbox_->mutex);
    answers.swap(inbox_->answers);
  }
  for (auto& answer : answers) {
    if (!answer->result.ok) {
      answer->request.reply_error(503, "location history unavailable");
      continue;
    }
    answer->request.reply(200, answer->range.geojson
                                   ? route_geojson(answer->driver_id, answer->range.start_ms,
                                                   answer->range.end_ms, answer->result.points)
                                   : route_json(answer->driver_id, answer->result.points));
  }
}

}  // namespace gpsrelay::locations
