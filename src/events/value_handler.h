// ValuesHandler: the write-behind value endpoints on one HTTP worker
// (CONTRACT.md, "Entity events", dsProxy).
//
//  - POST /write {"user_id","value","ts"?}: one script call puts the record
//    into events.values_stream and the cache (value_cache.h), then 202
//    {"status":"accepted","id":"<stream id>"}; 400 {"error","field",
//    "request_id"} naming the bad field; 503 (+ Retry-After) when Redis is
//    down or refuses. MySQL is not involved: the consumer thread writes the
//    stream to user_values (value_consumer.h).
//  - GET /read?user_id=: the cached record, 200 {"user_id","value","ts",
//    "source":"cache"}; else MySQL's row on the reader thread, put back into
//    the cache (unless a newer one got there first) and answered with
//    "source":"mysql"; 404 when neither has the user; 503 when Redis is
//    down and MySQL cannot say (a 404 then could hide a value still in the
//    stream).
//
// The worker never waits for MySQL: lookups go to store::ValueReader and
// come back through a LoopInbox.
#pragma once

#include "core/config.h"
#include "core/loop_inbox.h"
#include "events/value_cache.h"
#include "events/value_metrics.h"
#include "http/request_handler.h"
#include "store/value_store.h"

namespace gpsrelay::events {

// Route ids of the value endpoints, apart from EventRoute's so that the
// events module's one handler per worker can tell them apart.
enum ValueRoute : int { kPostWrite = 100, kGetRead = 101 };

inline bool is_value_route(int route) { return route == kPostWrite || route == kGetRead; }

void add_value_routes(http::RouteTable& routes);

class ValuesHandler : public http::RequestHandler {
 public:
  ValuesHandler(const http::WorkerServices& services, const core::Config& config,
                store::ValueReader& reader, ValueMetrics& metrics);
  // Closing the cache's connection answers its pending commands (null
  // replies) and the inbox runs what is left: with closing_ set they only
  // answer 503, touching neither the cache nor the inbox.
  ~ValuesHandler() override { closing_ = true; }
  ValuesHandler(const ValuesHandler&) = delete;
  ValuesHandler& operator=(const ValuesHandler&) = delete;

  void start() override { cache_.start(); }
  void handle(int route, http::Exchange& exchange) override;

 private:
  void write(http::Exchange& exchange);
  void read(http::Exchange& exchange);
  // The cache could not answer (`redis_up` false) or had nothing.
  void read_from_mysql(const std::shared_ptr<http::HeldRequest>& request, std::string user_id,
                       bool redis_up);

  // Declared first, destroyed last; the inbox outlives the cache, whose
  // destruction may post nothing but may still call back.
  bool closing_ = false;
  store::ValueReader& reader_;
  ValueMetrics& metrics_;
  core::LoopInbox inbox_;
  ValueCache cache_;
};

}  // namespace gpsrelay::events
