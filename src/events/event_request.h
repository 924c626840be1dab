// The request bodies of the Entity events API (CONTRACT.md, "Entity
// events"): POST /api/v1/events (one event) and POST /api/v1/events/bulk
// (an array of them) turned into typed Events, or an EventError that names
// the JSON path of the first bad field.
//
// Pure: text in, values out. It owns no sockets, no MySQL and no libevent
// types; it does not bound body sizes (the HTTP layer does), does not know
// whether an event uuid was applied before or what an entity holds (the
// store does), and does not merge attributes (merge_patch.h does). Any byte
// sequence is safe input to parse_event and parse_bulk.
//
// An event:
//   {"eventHeader":{"uuid","eventName","eventType","createdDate","savedDate"?},
//    "eventBody":{"entities":[{"entityType","entityId","updatedAttributes"}]}}
//
// Rules:
//  - A body is one JSON object; duplicate keys are refused at any depth
//    (which one would count is not obvious, and a merge patch with two
//    values for one name has no meaning), and so is a number jansson cannot
//    hold (an integer beyond 64 bits, a real beyond double).
//  - Unknown fields are ignored anywhere, for forward compatibility: an
//    older daemon accepts what a newer producer sends.
//  - A required field given as null counts as absent ("... is required");
//    savedDate null is the same as no savedDate.
//  - Text fields (uuid, eventName, eventType, entityId) hold no ASCII
//    control characters (below 0x20, or 0x7F): they end up in log lines and
//    URLs. jansson has already refused invalid UTF-8 and \u0000.
//  - uuid: a non-empty string of at most kMaxUuidBytes. Its format is not
//    checked (RFC 4122 or not): it is the producer's idempotency key and is
//    only compared for equality.
//  - eventName, eventType: non-empty strings of at most kMaxNameBytes.
//  - createdDate (required) and savedDate (optional): either ISO 8601 text
//    as core/iso8601.h reads it ("2024-05-01T12:00:00Z",
//    "2024-05-01T12:00:00.123+02:00"; without an offset the time is UTC;
//    a date alone is refused), or a non-negative JSON integer of Unix
//    milliseconds (never seconds, and never a real or a quoted number).
//    Either way the time lies between 1970-01-01T00:00:00.000Z and
//    9999-12-31T23:59:59.999Z (kMaxDateMs).
//  - eventBody.entities: an array of 1 to limits.max_entities entity
//    updates, in the order they are to be applied.
//  - entityType: 1 to kMaxEntityTypeBytes of A-Z a-z 0-9 _ . - (it is a URL
//    path segment of GET /api/v1/entities/{type}/{id}), but not "." or "..".
//  - entityId: a non-empty string of at most kMaxEntityIdBytes; a JSON
//    integer is accepted too and kept as its decimal text (42 and "42" are
//    the same entity), since numeric database ids are often sent unquoted.
//    Reals are refused.
//  - updatedAttributes: required, a JSON object (may be empty) nesting at
//    most kMaxAttributesDepth objects/arrays (the object itself counting as
//    one), whose compact text is at most limits.max_attributes_bytes. It is
//    an RFC 7396 merge patch: null members delete, so they are kept.
//  - Errors name the first bad field in the order above (header before
//    body, entities in index order), e.g.
//    "eventBody.entities[2].entityId must be a non-empty string ...".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gpsrelay::events {

inline constexpr std::size_t kMaxUuidBytes = 128;
inline constexpr std::size_t kMaxNameBytes = 255;  // eventName, eventType
inline constexpr std::size_t kMaxEntityTypeBytes = 64;
inline constexpr std::size_t kMaxEntityIdBytes = 255;
// Far beyond any real entity document, and far inside jansson's own 2048
// (and the recursion merge_patch does on it).
inline constexpr std::size_t kMaxAttributesDepth = 64;
// 9999-12-31T23:59:59.999Z: four-digit years keep every date printable in
// ISO 8601 and every sum of dates far from int64 overflow.
inline constexpr std::int64_t kMaxDateMs = 253402300799999;

// One entity's update: merge `attributes_json` into entity
// (entity_type, entity_id).
struct EntityUpdate {
  std::string entity_type;
  std::string entity_id;
  // The updatedAttributes object as compact JSON text (core/json_text.h:
  // members in the order they came, strings as UTF-8, reals in their
  // shortest round-trip form, 0.1 as 0.1). Always an object; null members
  // are kept (they delete in the merge).
  std::string attributes_json;
};

struct Event {
  std::string uuid;
  std::string event_name;
  std::string event_type;
  std::int64_t created_ms = 0;           // Unix milliseconds, 0 to kMaxDateMs
  std::optional<std::int64_t> saved_ms;  // the same range; nullopt when absent or null
  std::vector<EntityUpdate> entities;    // 1 to EventLimits::max_entities, in body order
};

struct EventLimits {
  std::size_t max_entities = 1000;           // per event
  std::size_t max_attributes_bytes = 65536;  // compact size of one updatedAttributes
};

// Why an event was refused (answer 400). `path` names the field for
// machines ("eventHeader.uuid", "eventBody.entities[2].updatedAttributes";
// "" for the whole body or, in a bulk body, the whole element); `message`
// is the full human text and starts with the path when there is one:
// "eventHeader.uuid must be a non-empty string ...". Messages are printable
// ASCII (jansson's text about malformed JSON is cleaned to it), so they go
// into any answer or log line as they are.
struct EventError {
  std::string path;
  std::string message;
};

// A value, or why it is refused; never both.
template <class T>
using Parsed = std::variant<T, EventError>;

// The error of `parsed`, nullptr when it holds a value.
template <class T>
const EventError* error_of(const Parsed<T>& parsed) {
  return std::get_if<EventError>(&parsed);
}

// POST /api/v1/events: one event object as the rules above read it.
// Malformed JSON gives path "" and a message with jansson's line and
// column: "body is not valid JSON (line 1, column 9): ...".
Parsed<Event> parse_event(std::string_view body, const EventLimits& limits);

// Why a whole bulk body was refused: status 400 (not JSON, not an array,
// an empty array) or 413 (more than max_events), and the message.
struct BulkError {
  int status = 400;
  std::string message;
};

// POST /api/v1/events/bulk: a JSON array of 1 to `max_events` events.
// Either a BulkError for the body as a whole, or one Parsed<Event> per
// element in order, so one bad event does not hide the others (the
// handler applies the good ones and answers each index). An element's
// error paths are relative to the element ("eventHeader.uuid"; "" when the
// element is not an object). Duplicate keys or malformed JSON anywhere
// refuse the whole body (400): elements cannot be told apart then.
std::variant<std::vector<Parsed<Event>>, BulkError> parse_bulk(std::string_view body,
                                                               const EventLimits& limits,
                                                               std::size_t max_events);

// The entityType and entityId rules above, for the same names where they
// come from a URL path (GET /api/v1/entities/{type}/{id}, decoded).
// is_valid_entity_id does not check UTF-8: jansson has, for a body.
bool is_valid_entity_type(std::string_view type);
bool is_valid_entity_id(std::string_view id);

}  // namespace gpsrelay::events
