// The write-behind value endpoints of one worker (see value_handler.h).
#include "events/value_handler.h"

#include <jansson.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "core/json_handle.h"
#include "core/json_text.h"

namespace gpsrelay::events {
namespace {

using SharedRequest = std::shared_ptr<http::HeldRequest>;

// Reals in their shortest form (core/json_text.h), unlike jansson's dump.
std::string dump(const core::JsonPtr& value) {
  return value ? core::compact_json(value.get()) : std::string("{}");
}

std::string invalid_body(const ValueError& error, const std::string& request_id) {
  return dump(core::JsonPtr(json_pack(
      "{s:s%, s:s%, s:s%}", "error", error.message.data(), error.message.size(), "field",
      error.field.data(), error.field.size(), "request_id", request_id.data(), request_id.size())));
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void add_value_routes(http::RouteTable& routes) {
  // Writes are a producer's (device tokens, refused while draining), reads
  // a reader's (read tokens).
  routes.add(http::Method::kPost, "/write", kPostWrite, http::RouteKind::kIngest);
  routes.add(http::Method::kGet, "/read", kGetRead, http::RouteKind::kRead);
}

ValuesHandler::ValuesHandler(const http::WorkerServices& services, const core::Config& config,
                             store::ValueReader& reader, ValueMetrics& metrics)
    : reader_(reader),
      metrics_(metrics),
      inbox_(services.base),
      cache_(services.base, config.redis, config.events) {}

void ValuesHandler::handle(int route, http::Exchange& exchange) {
  switch (static_cast<ValueRoute>(route)) {
    case kPostWrite:
      return write(exchange);
    case kGetRead:
      return read(exchange);
  }
  exchange.reply_error(404, "not found");
}

void ValuesHandler::write(http::Exchange& exchange) {
  const std::int64_t now_ms =
      exchange.received_at_ms() > 0 ? exchange.received_at_ms() : unix_ms_now();
  ParsedValue parsed = parse_value_write(exchange.body(), now_ms);
  if (const auto* error = std::get_if<ValueError>(&parsed)) {
    ValueMetrics::add(metrics_.writes_invalid);
    exchange.reply(400, invalid_body(*error, exchange.request_id()));
    return;
  }
  const ValueRecord& record = std::get<ValueRecord>(parsed);
  const std::string request_id = exchange.request_id();
  const SharedRequest request = std::make_shared<http::HeldRequest>(exchange.hold());
  cache_.write(record, request_id, [request, metrics = &metrics_](ValueCache::Written written) {
    if (!written.ok) {
      ValueMetrics::add(metrics->writes_unavailable);
      request->reply_error(503, "Redis unavailable: " + written.error);
      return;
    }
    ValueMetrics::add(metrics->writes_accepted);
    request->reply(
        202, dump(core::JsonPtr(json_pack("{s:s, s:s%}", "status", "accepted", "id",
                                          written.stream_id.data(), written.stream_id.size()))));
  });
}

void ValuesHandler::read(http::Exchange& exchange) {
  auto parsed = parse_value_read(exchange.query());
  if (const auto* error = std::get_if<ValueError>(&parsed)) {
    exchange.reply(400, invalid_body(*error, exchange.request_id()));
    return;
  }
  std::string user_id = std::get<std::string>(std::move(parsed));
  const SharedRequest request = std::make_shared<http::HeldRequest>(exchange.hold());
  cache_.read(user_id, [this, request, user_id](ValueCache::Cached cached) {
    if (closing_) {
      request->reply_error(503, "shutting down");
      return;
    }
    if (cached.ok && cached.record) {
      if (std::optional<std::string> body = with_source(*cached.record, "cache")) {
        ValueMetrics::add(metrics_.cache_hits);
        request->reply(200, *body);
        return;
      }
      // Not a record (someone else's key): MySQL knows better.
    }
    ValueMetrics::add(metrics_.cache_misses);
    read_from_mysql(request, user_id, cached.ok);
  });
}

void ValuesHandler::read_from_mysql(const SharedRequest& request, std::string user_id,
                                    bool redis_up) {
  // The reader answers on its thread; the answer (and the refill) happens
  // here, on this worker's loop, or not at all once the worker is gone.
  const bool queued = reader_.lookup(std::move(user_id), [this, inbox = inbox_.poster(), request,
                                                          redis_up](store::ValueLookup lookup) {
    if (!inbox.post([this, request, redis_up, lookup = std::move(lookup)] {
          using Status = store::ValueLookup::Status;
          if (lookup.status == Status::kFound) {
            if (redis_up && !closing_) cache_.fill(lookup.record, [](bool) {});
            const std::optional<std::string> body =
                with_source(format_value_record(lookup.record), "mysql");
            request->reply(200, body.value_or("{}"));
            return;
          }
          if (lookup.status == Status::kNotFound && redis_up) {
            ValueMetrics::add(metrics_.reads_not_found);
            request->reply_error(404, "no value for this user_id");
            return;
          }
          ValueMetrics::add(metrics_.reads_unavailable);
          request->reply_error(503, lookup.status == Status::kNotFound
                                        ? "Redis unavailable, and MySQL has no value yet"
                                        : "Redis and MySQL unavailable: " + lookup.error);
        })) {
      request->abandon();  // its worker is gone
    }
  });
  if (!queued) {
    ValueMetrics::add(metrics_.reads_unavailable);
    request->reply_error(503, "too many MySQL reads waiting");
  }
}

}  // namespace gpsrelay::events
