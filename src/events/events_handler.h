// EventsHandler: the entity-event endpoints on one HTTP worker thread
// (CONTRACT.md, "Entity events"): POST /api/v1/events and /events/bulk,
// GET /api/v1/events/health and /api/v1/entities/{type}/{id}. Bodies are
// checked by event_request.h on the worker; valid events go to the
// EntityStore's writer and are answered after their COMMIT, carried back
// to this loop through a LoopInbox. The worker never waits for MySQL.
//
// Answers:
//  - one event: 200 {"uuid","status":"applied"|"duplicate","entities":N};
//    400 {"error","field","request_id"} naming the bad field's JSON path;
//    503 + Retry-After when MySQL is unreachable or the queue is full;
//    500 when MySQL refused the event's content.
//  - bulk: 400/413 when the body is not an array of 1 to kMaxBulkEvents
//    events; else 200 {"results":[{"index","status","error"?,"field"?}]},
//    status "applied", "duplicate", "invalid", "unavailable" or "failed",
//    one per event in order — except that when MySQL could not be reached
//    for any valid event the whole answer is 503 with the same results, so
//    a client that only reads status codes retries.
#pragma once

#include <cstddef>
#include <memory>

#include "core/loop_inbox.h"
#include "events/event_metrics.h"
#include "events/event_request.h"
#include "http/request_handler.h"
#include "store/entity_store.h"

namespace gpsrelay::events {

enum EventRoute : int { kPostEvent, kPostBulk, kEventsHealth, kGetEntity };

inline constexpr std::size_t kMaxBulkEvents = 1000;

void add_event_routes(http::RouteTable& routes);

class EventsHandler : public http::RequestHandler {
 public:
  EventsHandler(const http::WorkerServices& services, store::EntityStore& store,
                EventMetrics& metrics);

  void handle(int route, http::Exchange& exchange) override;

 private:
  void post_event(http::Exchange& exchange);
  void post_bulk(http::Exchange& exchange);
  void health(http::Exchange& exchange);
  void get_entity(http::Exchange& exchange);

  store::EntityStore& store_;
  EventMetrics& metrics_;
  const EventLimits limits_;
  core::LoopInbox inbox_;
};

}  // namespace gpsrelay::events
