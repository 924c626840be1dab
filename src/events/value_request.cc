// Write-behind values: request parsing and the record format (see
// value_request.h). Only parses and checks; the Redis and MySQL sides are
// value_cache.h and store/value_store.h.
#include "events/value_request.h"

#include <jansson.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "core/json_handle.h"
#include "events/json_checks.h"
#include "locations/normalizer.h"

namespace gpsrelay::events {
namespace {

using core::JsonPtr;

ValueError bad(const std::string& field, std::string_view rule) {
  return {field, field + " " + std::string(rule)};
}

constexpr std::string_view kUserIdRule =
    "must be a non-empty string of at most 255 bytes without control characters, or an "
    "integer";

bool valid_user_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxUserIdBytes && !has_control_character(id);
}

// user_id of a body or a record; nullopt when it breaks the rule.
std::optional<std::string> user_id_of(const json_t* value, bool allow_integer) {
  if (json_is_string(value)) {
    std::string id(json_string_value(value), json_string_length(value));
    if (!valid_user_id(id)) return std::nullopt;
    return id;
  }
  if (allow_integer && json_is_integer(value)) return std::to_string(json_integer_value(value));
  return std::nullopt;
}

// The value member as compact text; nullopt when too deep or too large.
std::optional<std::string> value_of(const json_t* value) {
  if (!nests_at_most(value, kMaxValueDepth)) return std::nullopt;
  std::string text = dump_compact(value);
  if (text.empty() || text.size() > kMaxValueBytes) return std::nullopt;
  return text;
}

std::optional<std::int64_t> ts_of(const json_t* value) {
  if (!json_is_integer(value)) return std::nullopt;
  const json_int_t ms = json_integer_value(value);
  if (ms < 0 || ms > kMaxTsMs) return std::nullopt;
  return static_cast<std::int64_t>(ms);
}

}  // namespace

ParsedValue parse_value_write(std::string_view body, std::int64_t now_ms) {
  json_error_t error;
  const JsonPtr root(
      json_loadb(body.data(), body.size(), JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error));
  if (!root) {
    return ValueError{"", "body is not valid JSON (line " + std::to_string(error.line) +
                              ", column " + std::to_string(error.column) +
                              "): " + printable(error.text)};
  }
  if (!json_is_object(root.get())) return ValueError{"", "body must be a JSON object"};

  ValueRecord record;
  const json_t* user_id = json_object_get(root.get(), "user_id");
  if (user_id == nullptr || json_is_null(user_id)) return bad("user_id", "is required");
  std::optional<std::string> id = user_id_of(user_id, true);
  if (!id) return bad("user_id", kUserIdRule);
  record.user_id = std::move(*id);

  const json_t* value = json_object_get(root.get(), "value");
  if (value == nullptr) return bad("value", "is required");
  std::optional<std::string> text = value_of(value);
  if (!text) {
    return bad("value", "must be a JSON value of at most 65536 bytes (compact) nesting at most " +
                            std::to_string(kMaxValueDepth) + " levels");
  }
  record.value_json = std::move(*text);

  const json_t* ts = json_object_get(root.get(), "ts");
  if (ts == nullptr || json_is_null(ts)) {
    record.ts_ms = std::clamp<std::int64_t>(now_ms, 0, kMaxTsMs);
  } else {
    const std::optional<std::int64_t> ms = ts_of(ts);
    if (!ms) {
      return bad("ts",
                 "must be an integer of Unix milliseconds, from 0 to " + std::to_string(kMaxTsMs));
    }
    record.ts_ms = *ms;
  }
  return record;
}

std::variant<std::string, ValueError> parse_value_read(std::string_view query) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) != "user_id") continue;
    const std::string_view raw =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    const std::optional<std::string> id = locations::percent_decode(raw, true);
    // UTF-8 checked through jansson, which refuses anything else: the id
    // goes into JSON answers and MySQL's utf8mb4 column.
    const bool utf8 = id && JsonPtr(json_stringn(id->data(), id->size())) != nullptr;
    if (!utf8 || !valid_user_id(*id)) {
      return bad("user_id",
                 "must be 1 to 255 bytes of percent-encoded UTF-8 without control "
                 "characters");
    }
    return *id;
  }
  return bad("user_id", "is required");
}

std::string format_value_record(const ValueRecord& record) {
  const JsonPtr id(json_stringn(record.user_id.data(), record.user_id.size()));
  std::string out = "{\"user_id\":";
  out += id ? dump_compact(id.get()) : std::string("\"\"");
  out += ",\"value\":";
  out += record.value_json;
  out += ",\"ts\":";
  out += std::to_string(record.ts_ms);
  out += '}';
  return out;
}

std::optional<ValueRecord> parse_value_record(std::string_view text) {
  json_error_t error;
  const JsonPtr root(json_loadb(text.data(), text.size(), JSON_REJECT_DUPLICATES, &error));
  if (!root || !json_is_object(root.get())) return std::nullopt;
  std::optional<std::string> id = user_id_of(json_object_get(root.get(), "user_id"), false);
  const json_t* value = json_object_get(root.get(), "value");
  const std::optional<std::int64_t> ts = ts_of(json_object_get(root.get(), "ts"));
  if (!id || value == nullptr || !ts) return std::nullopt;
  std::optional<std::string> value_text = value_of(value);
  if (!value_text) return std::nullopt;
  return ValueRecord{std::move(*id), std::move(*value_text), *ts};
}

std::optional<std::string> with_source(std::string_view record, std::string_view source) {
  if (record.size() < 3 || record.front() != '{' || record.back() != '}') return std::nullopt;
  std::string out(record.substr(0, record.size() - 1));
  out += ",\"source\":";
  const JsonPtr quoted(json_stringn(source.data(), source.size()));
  out += quoted ? dump_compact(quoted.get()) : std::string("\"\"");
  out += '}';
  return out;
}

}  // namespace gpsrelay::events
