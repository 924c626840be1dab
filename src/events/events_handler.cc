// The entity-event endpoints of one worker (see events_handler.h).
#include "events/events_handler.h"

#include <jansson.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/json_handle.h"
#include "core/json_text.h"
#include "locations/location_record.h"
#include "locations/normalizer.h"

namespace gpsrelay::events {
namespace {

using store::EventOutcome;
using store::EventResult;

// std::function wants a copyable callback; a held request is not.
using SharedRequest = std::shared_ptr<http::HeldRequest>;

// Reals in their shortest form (core/json_text.h), unlike jansson's dump.
std::string dump(const core::JsonPtr& value) {
  return value ? core::compact_json(value.get()) : std::string("{}");
}

const char* status_name(EventOutcome outcome) {
  return kEventResultNames[static_cast<std::size_t>(label_of(outcome))];
}

std::string invalid_body(const EventError& error, const std::string& request_id) {
  return dump(core::JsonPtr(json_pack(
      "{s:s%, s:s%, s:s%}", "error", error.message.data(), error.message.size(), "field",
      error.path.data(), error.path.size(), "request_id", request_id.data(), request_id.size())));
}

void answer_single(http::HeldRequest& request, const std::string& uuid, std::size_t entities,
                   const EventResult& result) {
  switch (result.outcome) {
    case EventOutcome::kApplied:
    case EventOutcome::kDuplicate:
      request.reply(
          200,
          dump(core::JsonPtr(json_pack(
              "{s:s%, s:s, s:I}", "uuid", uuid.data(), uuid.size(), "status",
              status_name(result.outcome), "entities",
              static_cast<json_int_t>(result.outcome == EventOutcome::kApplied ? entities : 0)))));
      return;
    case EventOutcome::kUnavailable:
      request.reply_error(503, "MySQL unavailable: " + result.error);
      return;
    case EventOutcome::kFailed:
      request.reply_error(500, "MySQL refused the event: " + result.error);
      return;
  }
}

// One entry of a bulk answer.
core::JsonPtr bulk_entry(std::size_t index, const char* status, const EventError* error,
                         const std::string* store_error) {
  core::JsonPtr entry(
      json_pack("{s:I, s:s}", "index", static_cast<json_int_t>(index), "status", status));
  if (error != nullptr) {
    json_object_set_new(entry.get(), "error",
                        json_stringn(error->message.data(), error->message.size()));
    json_object_set_new(entry.get(), "field", json_stringn(error->path.data(), error->path.size()));
  } else if (store_error != nullptr && !store_error->empty()) {
    json_object_set_new(entry.get(), "error",
                        json_stringn(store_error->data(), store_error->size()));
  }
  return entry;
}

// An entity type or id from the path, decoded; nullopt when it could not
// name an entity (the event checks apply).
std::optional<std::string> path_part(http::Exchange& exchange, const char* name) {
  const std::optional<std::string_view> raw = exchange.route().param(name);
  if (!raw) return std::nullopt;
  return locations::percent_decode(*raw, false);
}

}  // namespace

void add_event_routes(http::RouteTable& routes) {
  using http::Method;
  using http::RouteKind;
  // Events are writes from producers: device tokens, refused while
  // draining. Entities are read with the read tokens; health is open, as
  // /health is.
  routes.add(Method::kPost, "/api/v1/events", kPostEvent, RouteKind::kIngest);
  routes.add(Method::kPost, "/api/v1/events/bulk", kPostBulk, RouteKind::kIngest);
  routes.add(Method::kGet, "/api/v1/events/health", kEventsHealth, RouteKind::kOperator);
  routes.add(Method::kGet, "/api/v1/entities/{entity_type}/{entity_id}", kGetEntity,
             RouteKind::kRead);
}

EventsHandler::EventsHandler(const http::WorkerServices& services, store::EntityStore& store,
                             EventMetrics& metrics)
    : store_(store), metrics_(metrics), limits_{}, inbox_(services.base) {}

void EventsHandler::handle(int route, http::Exchange& exchange) {
  switch (static_cast<EventRoute>(route)) {
    case kPostEvent:
      return post_event(exchange);
    case kPostBulk:
      return post_bulk(exchange);
    case kEventsHealth:
      return health(exchange);
    case kGetEntity:
      return get_entity(exchange);
  }
  exchange.reply_error(404, "not found");
}

void EventsHandler::post_event(http::Exchange& exchange) {
  Parsed<Event> parsed = parse_event(exchange.body(), limits_);
  if (const EventError* error = error_of(parsed)) {
    metrics_.count(EventResultLabel::kInvalid);
    exchange.reply(400, invalid_body(*error, exchange.request_id()));
    return;
  }
  std::vector<Event> batch;
  batch.push_back(std::get<Event>(std::move(parsed)));
  std::string uuid = batch.front().uuid;
  const std::size_t entities = batch.front().entities.size();
  const SharedRequest request = std::make_shared<http::HeldRequest>(exchange.hold());
  const bool queued = store_.apply(
      std::move(batch), [inbox = inbox_.poster(), request, uuid = std::move(uuid), entities,
                         metrics = &metrics_](std::vector<EventResult> results) {
        EventResult result = results.empty() ? EventResult{} : std::move(results.front());
        metrics->count(label_of(result.outcome));
        if (!inbox.post([request, uuid, entities, result = std::move(result)] {
              answer_single(*request, uuid, entities, result);
            })) {
          request->abandon();  // its worker is gone
        }
      });
  if (!queued) {
    metrics_.count(EventResultLabel::kUnavailable);
    request->reply_error(503, "too many events waiting for MySQL");
  }
}

void EventsHandler::post_bulk(http::Exchange& exchange) {
  auto parsed = parse_bulk(exchange.body(), limits_, kMaxBulkEvents);
  if (const auto* error = std::get_if<BulkError>(&parsed)) {
    exchange.reply_error(error->status, error->message);
    return;
  }
  auto items = std::make_shared<std::vector<Parsed<Event>>>(
      std::get<std::vector<Parsed<Event>>>(std::move(parsed)));
  // The valid events go to MySQL as one request; the answer puts every
  // event's result back at its index.
  std::vector<Event> valid;
  for (const Parsed<Event>& item : *items) {
    if (const auto* event = std::get_if<Event>(&item)) {
      valid.push_back(*event);
    } else {
      metrics_.count(EventResultLabel::kInvalid);
    }
  }
  const SharedRequest request = std::make_shared<http::HeldRequest>(exchange.hold());
  const auto answer = [request, items](const std::vector<EventResult>& results) {
    core::JsonPtr list(json_array());
    bool unavailable = false;
    std::size_t next = 0;
    for (std::size_t i = 0; i < items->size(); ++i) {
      if (const EventError* error = error_of((*items)[i])) {
        json_array_append_new(list.get(), bulk_entry(i, "invalid", error, nullptr).release());
        continue;
      }
      const EventResult& result = results[next++];
      unavailable = unavailable || result.outcome == EventOutcome::kUnavailable;
      json_array_append_new(
          list.get(), bulk_entry(i, status_name(result.outcome), nullptr, &result.error).release());
    }
    core::JsonPtr body(json_object());
    json_object_set_new(body.get(), "results", list.release());
    request->reply(unavailable ? 503 : 200, dump(body));
  };
  if (valid.empty()) {
    answer({});
    return;
  }
  const std::size_t valid_count = valid.size();
  const bool queued =
      store_.apply(std::move(valid), [inbox = inbox_.poster(), request, answer,
                                      metrics = &metrics_](std::vector<EventResult> results) {
        for (const EventResult& result : results) metrics->count(label_of(result.outcome));
        if (!inbox.post([answer, results = std::move(results)] { answer(results); })) {
          request->abandon();
        }
      });
  if (!queued) {
    metrics_.count(EventResultLabel::kUnavailable, valid_count);
    answer(std::vector<EventResult>(
        valid_count, EventResult{EventOutcome::kUnavailable, "too many events waiting for MySQL"}));
  }
}

void EventsHandler::health(http::Exchange& exchange) {
  const SharedRequest request = std::make_shared<http::HeldRequest>(exchange.hold());
  const bool queued = store_.ping([inbox = inbox_.poster(), request](bool up, std::string error) {
    if (!inbox.post([request, up, error = std::move(error)] {
          if (up) {
            request->reply(200, "{\"status\":\"ok\",\"mysql\":\"up\"}");
            return;
          }
          request->reply(503, dump(core::JsonPtr(json_pack("{s:s, s:s, s:s%}", "status",
                                                           "unavailable", "mysql", "down", "error",
                                                           error.data(), error.size()))));
        })) {
      request->abandon();
    }
  });
  if (!queued) request->reply_error(503, "too many MySQL reads waiting");
}

void EventsHandler::get_entity(http::Exchange& exchange) {
  const std::optional<std::string> type = path_part(exchange, "entity_type");
  const std::optional<std::string> id = path_part(exchange, "entity_id");
  if (!type || !is_valid_entity_type(*type)) {
    exchange.reply_error(400, "entity_type must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
    return;
  }
  // UTF-8 checked through jansson, which refuses anything else.
  if (!id || !is_valid_entity_id(*id) || !core::JsonPtr(json_stringn(id->data(), id->size()))) {
    exchange.reply_error(400,
                         "entity_id must be 1 to 255 bytes of UTF-8 without control characters");
    return;
  }
  const SharedRequest request = std::make_shared<http::HeldRequest>(exchange.hold());
  const bool queued =
      store_.lookup(*type, *id, [inbox = inbox_.poster(), request](store::EntityLookup lookup) {
        if (!inbox.post([request, lookup = std::move(lookup)] {
              using Status = store::EntityLookup::Status;
              if (lookup.status == Status::kUnavailable) {
                request->reply_error(503, "MySQL unavailable: " + lookup.error);
                return;
              }
              const store::StoredEntity& e = lookup.entity;
              if (lookup.status == Status::kNotFound) {
                request->reply_error(404, "no such entity");
                return;
              }
              json_error_t error;
              core::JsonPtr attributes(
                  json_loadb(e.attributes_json.data(), e.attributes_json.size(), 0, &error));
              if (!attributes) {
                request->reply_error(500, "stored attributes are not JSON");
                return;
              }
              const std::string created = locations::format_iso8601_utc(e.created_ms);
              const std::string updated = locations::format_iso8601_utc(e.updated_ms);
              request->reply(
                  200, dump(core::JsonPtr(json_pack(
                           "{s:s%, s:s%, s:O, s:s, s:s}", "entityType", e.entity_type.data(),
                           e.entity_type.size(), "entityId", e.entity_id.data(), e.entity_id.size(),
                           "attributes", attributes.get(), "createdAt", created.c_str(),
                           "updatedAt", updated.c_str()))));
            })) {
          request->abandon();
        }
      });
  if (!queued) request->reply_error(503, "too many MySQL reads waiting");
}

}  // namespace gpsrelay::events
