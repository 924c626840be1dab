// The write-behind values API's inputs (CONTRACT.md, "Entity events",
// dsProxy): the POST /write body, the GET /read query, and the record that
// goes into the values stream and the Redis cache.
//
// Pure: text in, values out; no Redis, MySQL or libevent here. Any byte
// sequence is safe input to every function (the fuzz target checks it).
//
// POST /write body: one JSON object {"user_id","value","ts"?}.
//  - user_id: a non-empty string of at most kMaxUserIdBytes without ASCII
//    control characters, or a JSON integer kept as its decimal text (42 and
//    "42" are the same user). Reals, null and anything else are refused.
//  - value: required, any JSON value (null too), kept as jansson's compact
//    text of at most kMaxValueBytes, nesting at most kMaxValueDepth.
//  - ts: optional Unix milliseconds, a JSON integer from 0 to kMaxTsMs;
//    absent (or null) means `now_ms`, the receipt time passed in.
//  - Duplicate keys are refused (which would count is not obvious);
//    unknown members are ignored.
//  - Errors name the field ("user_id", "value", "ts"; "" for the body).
//
// The record: {"user_id":"<id>","value":<value>,"ts":<ms>}, compact, with
// "ts" last. The cache scripts (value_cache.cc) find the ts of a cached
// record at its end, so only format_value_record writes records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace gpsrelay::events {

inline constexpr std::size_t kMaxUserIdBytes = 255;
inline constexpr std::size_t kMaxValueBytes = 64 * 1024;
inline constexpr std::size_t kMaxValueDepth = 64;
// 9999-12-31T23:59:59.999Z, as for event dates: below 2^53, so the Lua
// scripts (doubles) compare every ts exactly.
inline constexpr std::int64_t kMaxTsMs = 253402300799999;

struct ValueRecord {
  std::string user_id;
  std::string value_json;  // compact JSON text of any JSON value
  std::int64_t ts_ms = 0;
  bool operator==(const ValueRecord&) const = default;
};

// Why a request was refused (400): `field` names the bad field, "" for the
// body as a whole; `message` is printable ASCII and starts with the field.
struct ValueError {
  std::string field;
  std::string message;
};

using ParsedValue = std::variant<ValueRecord, ValueError>;

// POST /write's body as the rules above read it.
ParsedValue parse_value_write(std::string_view body, std::int64_t now_ms);

// GET /read's query (without '?', percent-encoded): its user_id parameter,
// decoded and checked as a string user_id is; the first one counts.
std::variant<std::string, ValueError> parse_value_read(std::string_view query);

// The record's text (see above).
std::string format_value_record(const ValueRecord& record);

// A record read back (a stream entry's payload, a cached value): nullopt
// when it is not one format_value_record could have written.
std::optional<ValueRecord> parse_value_record(std::string_view text);

// The cached record answered by GET /read: the record with a "source"
// member added. nullopt when `record` is not an object's text.
std::optional<std::string> with_source(std::string_view record, std::string_view source);

}  // namespace gpsrelay::events
