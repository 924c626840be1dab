// Entity events API bodies (see event_request.h). Only parses and checks;
// whether an event was applied before and what an entity holds is the
// store's business, merging attributes is merge_patch's.
#include "events/event_request.h"

#include <jansson.h>

#include <algorithm>
#include <utility>

#include "core/iso8601.h"
#include "core/json_handle.h"
#include "core/json_text.h"
#include "events/json_checks.h"

namespace gpsrelay::events {
namespace {

using core::JsonPtr;

EventError bad(const std::string& path, std::string_view rule) {
  return {path, path + " " + std::string(rule)};
}

std::string_view string_of(const json_t* value) {
  return {json_string_value(value), json_string_length(value)};
}

// The member `key` of `object`, nullptr when absent or null: a null
// counts as absent everywhere in an event.
const json_t* member(const json_t* object, const char* key) {
  const json_t* value = json_object_get(object, key);
  return json_is_null(value) ? nullptr : value;
}

bool is_entity_type_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// `body` as a JSON value of any type, or the message saying where it is
// not JSON (or has a duplicate key, or a number jansson cannot hold).
std::variant<JsonPtr, std::string> load(std::string_view body) {
  json_error_t error;
  JsonPtr root(
      json_loadb(body.data(), body.size(), JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error));
  if (root) return root;
  return "body is not valid JSON (line " + std::to_string(error.line) + ", column " +
         std::to_string(error.column) + "): " + printable(error.text);
}

// A required text field: non-empty, at most `max_bytes`, no control
// characters.
std::optional<EventError> read_text(const json_t* object, const std::string& prefix,
                                    const char* key, std::size_t max_bytes, std::string& out) {
  const std::string path = prefix + key;
  const json_t* value = member(object, key);
  if (value == nullptr) return bad(path, "is required");
  if (!json_is_string(value) || json_string_length(value) == 0 ||
      json_string_length(value) > max_bytes || has_control_character(string_of(value))) {
    return bad(path, "must be a non-empty string of at most " + std::to_string(max_bytes) +
                         " bytes without control characters");
  }
  out = string_of(value);
  return std::nullopt;
}

// A date: ISO 8601 text or a non-negative integer of Unix milliseconds,
// 0 to kMaxDateMs either way. nullopt when `value` is neither.
std::optional<std::int64_t> date_of(const json_t* value) {
  std::optional<std::int64_t> ms;
  if (json_is_string(value)) {
    ms = core::parse_iso8601_ms(string_of(value));
  } else if (json_is_integer(value)) {
    ms = json_integer_value(value);
  }
  if (!ms || *ms < 0 || *ms > kMaxDateMs) return std::nullopt;
  return ms;
}

std::optional<EventError> read_date(const json_t* header, const char* key, bool required,
                                    std::optional<std::int64_t>& out) {
  const std::string path = std::string("eventHeader.") + key;
  const json_t* value = member(header, key);
  if (value == nullptr) {
    if (required) return bad(path, "is required");
    return std::nullopt;
  }
  out = date_of(value);
  if (!out) {
    return bad(path,
               "must be ISO 8601 text like \"2024-05-01T12:00:00Z\" or an integer of Unix "
               "milliseconds, from 1970-01-01 to 9999-12-31");
  }
  return std::nullopt;
}

std::optional<EventError> read_entity(const json_t* entity, const std::string& prefix,
                                      const EventLimits& limits, EntityUpdate& out) {
  if (!json_is_object(entity)) return bad(prefix, "must be an object");

  const std::string type_path = prefix + ".entityType";
  const json_t* type = member(entity, "entityType");
  if (type == nullptr) return bad(type_path, "is required");
  if (!json_is_string(type) || !is_valid_entity_type(string_of(type))) {
    return bad(type_path, "must be 1 to " + std::to_string(kMaxEntityTypeBytes) +
                              " characters of A-Z a-z 0-9 _ . - (not \".\" or \"..\")");
  }
  out.entity_type = string_of(type);

  const std::string id_path = prefix + ".entityId";
  const json_t* id = member(entity, "entityId");
  if (id == nullptr) return bad(id_path, "is required");
  if (json_is_integer(id)) {
    out.entity_id = std::to_string(json_integer_value(id));
  } else if (json_is_string(id) && is_valid_entity_id(string_of(id))) {
    out.entity_id = string_of(id);
  } else {
    return bad(id_path, "must be a non-empty string of at most " +
                            std::to_string(kMaxEntityIdBytes) +
                            " bytes without control characters, or an integer");
  }

  const std::string attributes_path = prefix + ".updatedAttributes";
  const json_t* attributes = member(entity, "updatedAttributes");
  if (attributes == nullptr) return bad(attributes_path, "is required");
  if (!json_is_object(attributes)) return bad(attributes_path, "must be a JSON object");
  if (!nests_at_most(attributes, kMaxAttributesDepth)) {
    return bad(attributes_path,
               "must not nest deeper than " + std::to_string(kMaxAttributesDepth) + " levels");
  }
  // The body is bounded (http.max_body_size), so writing the text before
  // checking its size costs at most that much.
  out.attributes_json = core::compact_json(attributes);
  if (out.attributes_json.size() > limits.max_attributes_bytes) {
    return bad(attributes_path, "must be at most " + std::to_string(limits.max_attributes_bytes) +
                                    " bytes as compact JSON");
  }
  return std::nullopt;
}

Parsed<Event> read_event(const json_t* root, const EventLimits& limits) {
  Event out;
  const json_t* header = member(root, "eventHeader");
  if (header == nullptr) return bad("eventHeader", "is required");
  if (!json_is_object(header)) return bad("eventHeader", "must be an object");
  if (auto error = read_text(header, "eventHeader.", "uuid", kMaxUuidBytes, out.uuid)) {
    return *error;
  }
  if (auto error = read_text(header, "eventHeader.", "eventName", kMaxNameBytes, out.event_name)) {
    return *error;
  }
  if (auto error = read_text(header, "eventHeader.", "eventType", kMaxNameBytes, out.event_type)) {
    return *error;
  }
  std::optional<std::int64_t> created;
  if (auto error = read_date(header, "createdDate", true, created)) return *error;
  out.created_ms = *created;
  if (auto error = read_date(header, "savedDate", false, out.saved_ms)) return *error;

  const json_t* body = member(root, "eventBody");
  if (body == nullptr) return bad("eventBody", "is required");
  if (!json_is_object(body)) return bad("eventBody", "must be an object");
  const json_t* entities = member(body, "entities");
  if (entities == nullptr) return bad("eventBody.entities", "is required");
  if (!json_is_array(entities) || json_array_size(entities) == 0 ||
      json_array_size(entities) > limits.max_entities) {
    return bad("eventBody.entities",
               "must be an array of 1 to " + std::to_string(limits.max_entities) + " entities");
  }
  out.entities.resize(json_array_size(entities));
  for (std::size_t i = 0; i < out.entities.size(); ++i) {
    const std::string prefix = "eventBody.entities[" + std::to_string(i) + "]";
    if (auto error = read_entity(json_array_get(entities, i), prefix, limits, out.entities[i])) {
      return *error;
    }
  }
  return out;
}

}  // namespace

Parsed<Event> parse_event(std::string_view body, const EventLimits& limits) {
  auto loaded = load(body);
  if (auto* message = std::get_if<std::string>(&loaded)) return EventError{"", std::move(*message)};
  const json_t* root = std::get<JsonPtr>(loaded).get();
  if (!json_is_object(root)) return EventError{"", "body must be a JSON object"};
  return read_event(root, limits);
}

std::variant<std::vector<Parsed<Event>>, BulkError> parse_bulk(std::string_view body,
                                                               const EventLimits& limits,
                                                               std::size_t max_events) {
  auto loaded = load(body);
  if (auto* message = std::get_if<std::string>(&loaded)) return BulkError{400, std::move(*message)};
  const json_t* root = std::get<JsonPtr>(loaded).get();
  const std::string rule =
      "body must be a JSON array of 1 to " + std::to_string(max_events) + " events";
  if (!json_is_array(root) || json_array_size(root) == 0) return BulkError{400, rule};
  if (json_array_size(root) > max_events) return BulkError{413, rule};

  std::vector<Parsed<Event>> out;
  out.reserve(json_array_size(root));
  for (std::size_t i = 0; i < json_array_size(root); ++i) {
    const json_t* element = json_array_get(root, i);
    if (json_is_object(element)) {
      out.push_back(read_event(element, limits));
    } else {
      out.emplace_back(EventError{"", "event must be a JSON object"});
    }
  }
  return out;
}

bool is_valid_entity_type(std::string_view type) {
  return !type.empty() && type.size() <= kMaxEntityTypeBytes && type != "." && type != ".." &&
         std::all_of(type.begin(), type.end(), is_entity_type_char);
}

bool is_valid_entity_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxEntityIdBytes && !has_control_character(id);
}

}  // namespace gpsrelay::events
