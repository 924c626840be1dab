// Tests for the Entity events API bodies (event_request.h): the happy paths
// with both date forms and several entities, every validation error with
// its exact path and message, the boundaries of every limit, duplicate
// keys and malformed JSON, and bulk bodies: one bad event among good ones,
// and the body-wide refusals (400, 413).
#include "events/event_request.h"

#include <gtest/gtest.h>
#include <jansson.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/json_handle.h"

namespace gpsrelay::events {
namespace {

using core::JsonPtr;

const EventLimits kLimits;

// A valid event with two entities; tests change one field of it.
const char* const kValidEvent = R"({
  "eventHeader": {
    "uuid": "6f1c0b9e-3a52-4d7e-9d8e-1f2a3b4c5d6e",
    "eventName": "OrderDelivered",
    "eventType": "order",
    "createdDate": "2024-05-01T12:00:00Z",
    "savedDate": 1714564800123
  },
  "eventBody": {
    "entities": [
      {"entityType": "order", "entityId": "o-17",
       "updatedAttributes": {"status": "delivered", "courier": null, "pos": {"lat": 1.5, "lon": 2}}},
      {"entityType": "driver", "entityId": "d-3", "updatedAttributes": {"busy": false}}
    ]
  }
})";

JsonPtr valid_event() {
  json_error_t error;
  return JsonPtr(json_loads(kValidEvent, 0, &error));
}

std::string dump(const json_t* value) {
  const std::unique_ptr<char, decltype(&std::free)> text(
      json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY), &std::free);
  return text ? std::string(text.get()) : std::string();
}

// Sets `key` of `object` to the JSON text `raw`, or removes it when `raw`
// is nullptr.
void set_member(json_t* object, const char* key, const char* raw) {
  if (raw == nullptr) {
    json_object_del(object, key);
    return;
  }
  json_error_t error;
  json_t* value = json_loads(raw, JSON_DECODE_ANY, &error);
  ASSERT_NE(value, nullptr) << raw;
  json_object_set_new(object, key, value);
}

// The valid event with eventHeader.`key` set to `raw` (nullptr: removed).
std::string with_header(const char* key, const char* raw) {
  const JsonPtr event = valid_event();
  set_member(json_object_get(event.get(), "eventHeader"), key, raw);
  return dump(event.get());
}

// The valid event with eventBody.entities[`index`].`key` set to `raw`.
std::string with_entity(std::size_t index, const char* key, const char* raw) {
  const JsonPtr event = valid_event();
  json_t* entities = json_object_get(json_object_get(event.get(), "eventBody"), "entities");
  set_member(json_array_get(entities, index), key, raw);
  return dump(event.get());
}

// The valid event with `key` of the top level set to `raw`.
std::string with_top(const char* key, const char* raw) {
  const JsonPtr event = valid_event();
  set_member(event.get(), key, raw);
  return dump(event.get());
}

// The valid event with eventBody.entities set to `raw`.
std::string with_entities(const std::string& raw) {
  const JsonPtr event = valid_event();
  set_member(json_object_get(event.get(), "eventBody"), "entities", raw.c_str());
  return dump(event.get());
}

std::string entity(const std::string& id) {
  return R"({"entityType":"t","entityId":")" + id + R"(","updatedAttributes":{}})";
}

Event event_ok(const std::string& body, const EventLimits& limits = kLimits) {
  const Parsed<Event> parsed = parse_event(body, limits);
  const EventError* error = error_of(parsed);
  EXPECT_EQ(error, nullptr) << body << ": " << (error ? error->message : "");
  return error ? Event{} : std::get<Event>(parsed);
}

EventError event_error(const std::string& body, const EventLimits& limits = kLimits) {
  const Parsed<Event> parsed = parse_event(body, limits);
  const EventError* error = error_of(parsed);
  EXPECT_NE(error, nullptr) << body;
  return error ? *error : EventError{"<accepted>", "<accepted>"};
}

// Expects `body` refused at `path` with exactly `message`.
void expect_error(const std::string& body, const std::string& path, const std::string& message,
                  const EventLimits& limits = kLimits) {
  const EventError error = event_error(body, limits);
  EXPECT_EQ(error.path, path) << body;
  EXPECT_EQ(error.message, message) << body;
}

bool is_printable_ascii(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

std::string repeat(char c, std::size_t n) { return std::string(n, c); }
std::string in_quotes(const std::string& text) { return "\"" + text + "\""; }

// An object nesting `levels` objects, itself included: {"a":{"a":{}}} is 3.
std::string nested_object(std::size_t levels) {
  std::string text;
  for (std::size_t i = 1; i < levels; ++i) text += R"({"a":)";
  text += "{}";
  text += repeat('}', levels - 1);
  return text;
}

const std::string kUuidRule =
    "must be a non-empty string of at most 128 bytes without control characters";
const std::string kNameRule =
    "must be a non-empty string of at most 255 bytes without control characters";
const std::string kDateRule =
    "must be ISO 8601 text like \"2024-05-01T12:00:00Z\" or an integer of Unix milliseconds, "
    "from 1970-01-01 to 9999-12-31";
const std::string kEntityTypeRule =
    "must be 1 to 64 characters of A-Z a-z 0-9 _ . - (not \".\" or \"..\")";
const std::string kEntityIdRule =
    "must be a non-empty string of at most 255 bytes without control characters, or an integer";

// ---- happy paths ------------------------------------------------------------

TEST(EventRequestTest, ReadsEveryFieldOfAValidEvent) {
  const Event event = event_ok(kValidEvent);
  EXPECT_EQ(event.uuid, "6f1c0b9e-3a52-4d7e-9d8e-1f2a3b4c5d6e");
  EXPECT_EQ(event.event_name, "OrderDelivered");
  EXPECT_EQ(event.event_type, "order");
  EXPECT_EQ(event.created_ms, 1714564800000);
  EXPECT_EQ(event.saved_ms, 1714564800123);
  ASSERT_EQ(event.entities.size(), 2U);
  EXPECT_EQ(event.entities[0].entity_type, "order");
  EXPECT_EQ(event.entities[0].entity_id, "o-17");
  // Compact, in the body's order, nulls kept (they delete in the merge).
  EXPECT_EQ(event.entities[0].attributes_json,
            R"({"status":"delivered","courier":null,"pos":{"lat":1.5,"lon":2}})");
  EXPECT_EQ(event.entities[1].entity_type, "driver");
  EXPECT_EQ(event.entities[1].entity_id, "d-3");
  EXPECT_EQ(event.entities[1].attributes_json, R"({"busy":false})");
}

TEST(EventRequestTest, DatesAreIso8601TextOrUnixMilliseconds) {
  EXPECT_EQ(event_ok(with_header("createdDate", "1714564800123")).created_ms, 1714564800123);
  EXPECT_EQ(event_ok(with_header("createdDate", R"("2024-05-01T12:00:00.123+02:00")")).created_ms,
            1714557600123);
  EXPECT_EQ(event_ok(with_header("savedDate", R"("2024-05-01T12:00:00.5Z")")).saved_ms,
            1714564800500);
  EXPECT_EQ(event_ok(with_header("savedDate", R"("2024-05-01 12:00:00-05:30")")).saved_ms,
            1714584600000);
}

TEST(EventRequestTest, DateWithoutAnOffsetIsUtc) {
  EXPECT_EQ(event_ok(with_header("createdDate", R"("2024-05-01T12:00:00")")).created_ms,
            1714564800000);
}

TEST(EventRequestTest, DatesSpanFrom1970To9999) {
  EXPECT_EQ(event_ok(with_header("createdDate", "0")).created_ms, 0);
  EXPECT_EQ(event_ok(with_header("createdDate", "253402300799999")).created_ms, kMaxDateMs);
  EXPECT_EQ(event_ok(with_header("createdDate", R"("1970-01-01T00:00:00Z")")).created_ms, 0);
  EXPECT_EQ(event_ok(with_header("createdDate", R"("9999-12-31T23:59:59.999Z")")).created_ms,
            kMaxDateMs);
}

TEST(EventRequestTest, SavedDateIsOptionalAndNullMeansAbsent) {
  EXPECT_EQ(event_ok(with_header("savedDate", nullptr)).saved_ms, std::nullopt);
  EXPECT_EQ(event_ok(with_header("savedDate", "null")).saved_ms, std::nullopt);
}

TEST(EventRequestTest, KeepsEntitiesInBodyOrder) {
  const Event event = event_ok(with_entities("[" + entity("a") + "," + entity("b") + "," +
                                             entity("c") + "," + entity("a") + "]"));
  ASSERT_EQ(event.entities.size(), 4U);
  EXPECT_EQ(event.entities[0].entity_id, "a");
  EXPECT_EQ(event.entities[1].entity_id, "b");
  EXPECT_EQ(event.entities[2].entity_id, "c");
  EXPECT_EQ(event.entities[3].entity_id, "a");
  EXPECT_EQ(event.entities[3].attributes_json, "{}");
}

TEST(EventRequestTest, IntegerEntityIdIsKeptAsItsDecimalText) {
  EXPECT_EQ(event_ok(with_entity(0, "entityId", "42")).entities[0].entity_id, "42");
  EXPECT_EQ(event_ok(with_entity(0, "entityId", "-7")).entities[0].entity_id, "-7");
  EXPECT_EQ(event_ok(with_entity(0, "entityId", "9223372036854775807")).entities[0].entity_id,
            "9223372036854775807");
}

TEST(EventRequestTest, TextMayBeAnyUtf8WithoutControlCharacters) {
  const Event event = event_ok(with_entity(0, "entityId", R"("Zürich/Straße 5 ✓")"));
  EXPECT_EQ(event.entities[0].entity_id, "Zürich/Straße 5 ✓");
  EXPECT_EQ(event_ok(with_header("uuid", R"("not-a-uuid, but unique")")).uuid,
            "not-a-uuid, but unique");
  EXPECT_EQ(event_ok(with_header("eventName", R"("Order delivered \u00e9")")).event_name,
            "Order delivered é");
}

TEST(EventRequestTest, UnknownFieldsAreIgnoredEverywhere) {
  const JsonPtr event = valid_event();
  set_member(event.get(), "schemaVersion", "2");
  set_member(json_object_get(event.get(), "eventHeader"), "source", R"({"app":"x"})");
  set_member(json_object_get(event.get(), "eventBody"), "trace", "[1,2]");
  set_member(
      json_array_get(json_object_get(json_object_get(event.get(), "eventBody"), "entities"), 1),
      "previousAttributes", "null");
  EXPECT_EQ(event_ok(dump(event.get())).entities.size(), 2U);
}

TEST(EventRequestTest, EmptyUpdatedAttributesIsAnUpdate) {
  EXPECT_EQ(event_ok(with_entity(1, "updatedAttributes", "{}")).entities[1].attributes_json, "{}");
}

TEST(EventRequestTest, AttributeValuesOfEveryTypeAreKept) {
  const Event event = event_ok(
      with_entity(0, "updatedAttributes",
                  R"({ "s" : "ü\n" , "i" : -3, "big": 9223372036854775807, "r": 2.5, "t": true,
           "n": null, "a": [1, [], {}], "o": {"x": {"y": []}}, "": "empty name" })"));
  EXPECT_EQ(event.entities[0].attributes_json,
            R"({"s":"ü\n","i":-3,"big":9223372036854775807,"r":2.5,"t":true,"n":null,)"
            R"("a":[1,[],{}],"o":{"x":{"y":[]}},"":"empty name"})");
}

TEST(EventRequestTest, RealsKeepTheirShortestForm) {
  // Not jansson's 17 digits (0.10000000000000001): what the producer sent
  // comes back from GET /api/v1/entities as it was written.
  const Event event =
      event_ok(with_entity(0, "updatedAttributes", R"({"fuel":0.1,"odo":12.3,"e":1e2})"));
  EXPECT_EQ(event.entities[0].attributes_json, R"({"fuel":0.1,"odo":12.3,"e":100.0})");
}

// ---- limits at their boundaries ---------------------------------------------

TEST(EventRequestTest, TextLengthsAtTheirLimits) {
  EXPECT_EQ(event_ok(with_header("uuid", in_quotes(repeat('u', 128)).c_str())).uuid.size(), 128U);
  expect_error(with_header("uuid", in_quotes(repeat('u', 129)).c_str()), "eventHeader.uuid",
               "eventHeader.uuid " + kUuidRule);
  EXPECT_EQ(
      event_ok(with_header("eventName", in_quotes(repeat('n', 255)).c_str())).event_name.size(),
      255U);
  expect_error(with_header("eventName", in_quotes(repeat('n', 256)).c_str()),
               "eventHeader.eventName", "eventHeader.eventName " + kNameRule);
  EXPECT_EQ(
      event_ok(with_header("eventType", in_quotes(repeat('t', 255)).c_str())).event_type.size(),
      255U);
  expect_error(with_header("eventType", in_quotes(repeat('t', 256)).c_str()),
               "eventHeader.eventType", "eventHeader.eventType " + kNameRule);
  EXPECT_EQ(event_ok(with_entity(0, "entityType", in_quotes(repeat('e', 64)).c_str()))
                .entities[0]
                .entity_type,
            repeat('e', 64));
  expect_error(with_entity(0, "entityType", in_quotes(repeat('e', 65)).c_str()),
               "eventBody.entities[0].entityType",
               "eventBody.entities[0].entityType " + kEntityTypeRule);
  EXPECT_EQ(event_ok(with_entity(1, "entityId", in_quotes(repeat('i', 255)).c_str()))
                .entities[1]
                .entity_id,
            repeat('i', 255));
  expect_error(with_entity(1, "entityId", in_quotes(repeat('i', 256)).c_str()),
               "eventBody.entities[1].entityId", "eventBody.entities[1].entityId " + kEntityIdRule);
}

TEST(EventRequestTest, LengthsAreBytesNotCharacters) {
  // 64 two-byte characters: 128 bytes.
  std::string uuid;
  for (int i = 0; i < 64; ++i) uuid += "é";
  EXPECT_EQ(event_ok(with_header("uuid", in_quotes(uuid).c_str())).uuid, uuid);
  expect_error(with_header("uuid", in_quotes(uuid + "x").c_str()), "eventHeader.uuid",
               "eventHeader.uuid " + kUuidRule);
}

TEST(EventRequestTest, EntityCountAtItsLimit) {
  EventLimits limits;
  limits.max_entities = 3;
  EXPECT_EQ(event_ok(with_entities("[" + entity("a") + "," + entity("b") + "," + entity("c") + "]"),
                     limits)
                .entities.size(),
            3U);
  expect_error(with_entities("[" + entity("a") + "," + entity("b") + "," + entity("c") + "," +
                             entity("d") + "]"),
               "eventBody.entities", "eventBody.entities must be an array of 1 to 3 entities",
               limits);
}

TEST(EventRequestTest, AttributesSizeIsCountedCompact) {
  EventLimits limits;
  limits.max_attributes_bytes = 10;
  // {"a":"12"} is 10 bytes compact, whatever blanks the body has.
  const std::string head =
      R"({"eventHeader":{"uuid":"u","eventName":"n","eventType":"t","createdDate":0},)"
      R"("eventBody":{"entities":[{"entityType":"t","entityId":"i",)"
      R"("updatedAttributes": { "a" : "12" } })";
  EXPECT_EQ(event_ok(head + "]}}", limits).entities[0].attributes_json, R"({"a":"12"})");
  expect_error(head + R"(,{"entityType":"t","entityId":"j","updatedAttributes":{"a":"123"}}]}})",
               "eventBody.entities[1].updatedAttributes",
               "eventBody.entities[1].updatedAttributes must be at most 10 bytes as compact JSON",
               limits);
}

TEST(EventRequestTest, AttributesNestAtMost64Levels) {
  EXPECT_EQ(event_ok(with_entity(0, "updatedAttributes", nested_object(64).c_str()))
                .entities[0]
                .attributes_json,
            nested_object(64));
  expect_error(with_entity(0, "updatedAttributes", nested_object(65).c_str()),
               "eventBody.entities[0].updatedAttributes",
               "eventBody.entities[0].updatedAttributes must not nest deeper than 64 levels");
  // Arrays count as levels too: the object and 63 arrays is 64.
  const std::string arrays_64 = R"({"a":)" + repeat('[', 63) + repeat(']', 63) + "}";
  EXPECT_EQ(
      event_ok(with_entity(0, "updatedAttributes", arrays_64.c_str())).entities[0].attributes_json,
      arrays_64);
  const std::string arrays_65 = R"({"a":)" + repeat('[', 64) + repeat(']', 64) + "}";
  EXPECT_EQ(event_error(with_entity(0, "updatedAttributes", arrays_65.c_str())).path,
            "eventBody.entities[0].updatedAttributes");
}

// ---- every validation error, with its path ----------------------------------

TEST(EventRequestErrorTest, BodyMustBeOneJsonObject) {
  for (const char* body : {"[]", "1", "null", "\"event\"", "true"}) {
    expect_error(body, "", "body must be a JSON object");
  }
}

TEST(EventRequestErrorTest, MalformedJsonSaysWhere) {
  const EventError error = event_error("{\n  \"eventHeader\": {,\n}");
  EXPECT_EQ(error.path, "");
  EXPECT_EQ(error.message.rfind("body is not valid JSON (line 2, column ", 0), 0U) << error.message;
  for (const char* body : {"", " ", "{", "{}}", "{\"a\":1} {}", "\xff", "{\"a\":\"\\u0000\"}"}) {
    const EventError bad = event_error(body);
    EXPECT_EQ(bad.path, "") << body;
    EXPECT_EQ(bad.message.rfind("body is not valid JSON (line ", 0), 0U) << bad.message;
  }
}

TEST(EventRequestErrorTest, MessagesArePrintableAsciiWhateverTheInput) {
  for (const std::string& body :
       {std::string("{\"a\":tru\x01}"), std::string("{\"\xc3\xa9\xff\":1}"),
        std::string("{\"a\":\"\x01\"}"), std::string("\x80\x81"), std::string("{\0}", 3),
        std::string("{\"a\":\xe2\x9c\x93}")}) {
    const EventError error = event_error(body);
    EXPECT_TRUE(is_printable_ascii(error.message)) << error.message;
  }
}

TEST(EventRequestErrorTest, DuplicateKeysAreRefusedAtAnyDepth) {
  const std::string top = std::string(kValidEvent).insert(1, R"("eventBody":{},)");
  EXPECT_NE(event_error(top).message.find("duplicate"), std::string::npos);
  const std::string header =
      with_header("uuid", R"("a")")
          .insert(std::string(R"({"eventHeader":{)").size(), R"("uuid":"b",)");
  const EventError in_header = event_error(header);
  EXPECT_EQ(in_header.path, "");
  EXPECT_NE(in_header.message.find("duplicate"), std::string::npos) << in_header.message;
  const std::string attributes = R"({"eventHeader":{"uuid":"u","eventName":"n","eventType":"t",)"
                                 R"("createdDate":0},"eventBody":{"entities":[{"entityType":"t",)"
                                 R"("entityId":"i","updatedAttributes":{"a":1,"a":null}}]}})";
  const EventError duplicate_attribute = event_error(attributes);
  EXPECT_EQ(duplicate_attribute.path, "");
  EXPECT_NE(duplicate_attribute.message.find("duplicate"), std::string::npos);
}

TEST(EventRequestErrorTest, NumbersJanssonCannotHoldAreRefused) {
  std::string body = with_header("createdDate", "1");
  body.replace(body.find(R"("createdDate":1)"), 15, R"("createdDate":99999999999999999999)");
  const EventError integer = event_error(body);
  EXPECT_EQ(integer.path, "");
  EXPECT_EQ(integer.message.rfind("body is not valid JSON", 0), 0U) << integer.message;
  const EventError real =
      event_error(with_entity(0, "updatedAttributes", "{}").insert(1, R"("x":1e999,)"));
  EXPECT_EQ(real.path, "");
  EXPECT_EQ(real.message.rfind("body is not valid JSON", 0), 0U) << real.message;
}

TEST(EventRequestErrorTest, EventHeaderMustBeAnObject) {
  expect_error(with_top("eventHeader", nullptr), "eventHeader", "eventHeader is required");
  expect_error(with_top("eventHeader", "null"), "eventHeader", "eventHeader is required");
  for (const char* raw : {"[]", "\"h\"", "1"}) {
    expect_error(with_top("eventHeader", raw), "eventHeader", "eventHeader must be an object");
  }
}

TEST(EventRequestErrorTest, UuidMustBeANonEmptyStringWithoutControls) {
  expect_error(with_header("uuid", nullptr), "eventHeader.uuid", "eventHeader.uuid is required");
  expect_error(with_header("uuid", "null"), "eventHeader.uuid", "eventHeader.uuid is required");
  for (const char* raw : {R"("")", "1", "true", "[]", "{}", R"("a\nb")", R"("a\u001fb")",
                          R"("a\u007fb")", R"("\t")"}) {
    expect_error(with_header("uuid", raw), "eventHeader.uuid", "eventHeader.uuid " + kUuidRule);
  }
}

TEST(EventRequestErrorTest, EventNameAndTypeMustBeNonEmptyStrings) {
  for (const char* key : {"eventName", "eventType"}) {
    const std::string path = std::string("eventHeader.") + key;
    expect_error(with_header(key, nullptr), path, path + " is required");
    expect_error(with_header(key, "null"), path, path + " is required");
    for (const char* raw : {R"("")", "7", "false", R"(["x"])", R"("line\r\n")"}) {
      expect_error(with_header(key, raw), path, path + " " + kNameRule);
    }
  }
}

TEST(EventRequestErrorTest, CreatedDateIsRequiredAndMustBeADate) {
  expect_error(with_header("createdDate", nullptr), "eventHeader.createdDate",
               "eventHeader.createdDate is required");
  expect_error(with_header("createdDate", "null"), "eventHeader.createdDate",
               "eventHeader.createdDate is required");
  for (const char* raw :
       {"-1", "253402300800000", "1714564800000.0", "1.7145648e12", "true", "[]", "{}", R"("")",
        R"("yesterday")", R"("2024-05-01")", R"("1714564800000")", R"("2024-02-30T00:00:00Z")",
        R"("1969-12-31T23:59:59.999Z")", R"("1970-01-01T00:30:00+01:00")",
        R"("9999-12-31T23:59:59-00:01")", R"(" 2024-05-01T12:00:00Z")"}) {
    expect_error(with_header("createdDate", raw), "eventHeader.createdDate",
                 "eventHeader.createdDate " + kDateRule);
  }
}

TEST(EventRequestErrorTest, SavedDateWhenGivenMustBeADate) {
  for (const char* raw : {"-5", R"("later")", "1.5", "false", R"("2024-13-01T00:00:00Z")"}) {
    expect_error(with_header("savedDate", raw), "eventHeader.savedDate",
                 "eventHeader.savedDate " + kDateRule);
  }
}

TEST(EventRequestErrorTest, EventBodyMustBeAnObject) {
  expect_error(with_top("eventBody", nullptr), "eventBody", "eventBody is required");
  expect_error(with_top("eventBody", "null"), "eventBody", "eventBody is required");
  for (const char* raw : {"[]", "0", R"("b")"}) {
    expect_error(with_top("eventBody", raw), "eventBody", "eventBody must be an object");
  }
}

TEST(EventRequestErrorTest, EntitiesMustBeANonEmptyArray) {
  const JsonPtr event = valid_event();
  set_member(json_object_get(event.get(), "eventBody"), "entities", nullptr);
  expect_error(dump(event.get()), "eventBody.entities", "eventBody.entities is required");
  expect_error(with_entities("null"), "eventBody.entities", "eventBody.entities is required");
  for (const char* raw : {"[]", "{}", R"("e")", "3"}) {
    expect_error(with_entities(raw), "eventBody.entities",
                 "eventBody.entities must be an array of 1 to 1000 entities");
  }
}

TEST(EventRequestErrorTest, EachEntityMustBeAnObject) {
  for (const char* raw : {"null", "1", R"("x")", "[]"}) {
    expect_error(with_entities(entity("a").insert(0, "[") + "," + raw + "]"),
                 "eventBody.entities[1]", "eventBody.entities[1] must be an object");
  }
}

TEST(EventRequestErrorTest, EntityTypeIsAShortNameOfSafeCharacters) {
  expect_error(with_entity(0, "entityType", nullptr), "eventBody.entities[0].entityType",
               "eventBody.entities[0].entityType is required");
  expect_error(with_entity(1, "entityType", "null"), "eventBody.entities[1].entityType",
               "eventBody.entities[1].entityType is required");
  for (const char* raw : {R"("")", R"(".")", R"("..")", R"("a b")", R"("a/b")", R"("ä")",
                          R"("a\n")", "5", "true", "{}"}) {
    expect_error(with_entity(1, "entityType", raw), "eventBody.entities[1].entityType",
                 "eventBody.entities[1].entityType " + kEntityTypeRule);
  }
  EXPECT_EQ(event_ok(with_entity(1, "entityType", R"("v2.Order_item-x")")).entities[1].entity_type,
            "v2.Order_item-x");
  EXPECT_EQ(event_ok(with_entity(1, "entityType", R"("...")")).entities[1].entity_type, "...");
}

TEST(EventRequestErrorTest, EntityIdIsANonEmptyStringOrAnInteger) {
  expect_error(with_entity(0, "entityId", nullptr), "eventBody.entities[0].entityId",
               "eventBody.entities[0].entityId is required");
  expect_error(with_entity(0, "entityId", "null"), "eventBody.entities[0].entityId",
               "eventBody.entities[0].entityId is required");
  for (const char* raw : {R"("")", "1.5", "1e3", "true", "[]", "{}", R"("a\tb")", R"("\u007f")"}) {
    expect_error(with_entity(0, "entityId", raw), "eventBody.entities[0].entityId",
                 "eventBody.entities[0].entityId " + kEntityIdRule);
  }
}

TEST(EventRequestErrorTest, UpdatedAttributesMustBeAnObject) {
  expect_error(with_entity(1, "updatedAttributes", nullptr),
               "eventBody.entities[1].updatedAttributes",
               "eventBody.entities[1].updatedAttributes is required");
  expect_error(with_entity(1, "updatedAttributes", "null"),
               "eventBody.entities[1].updatedAttributes",
               "eventBody.entities[1].updatedAttributes is required");
  for (const char* raw : {"[]", "[{}]", R"("{}")", "1", "false"}) {
    expect_error(with_entity(1, "updatedAttributes", raw),
                 "eventBody.entities[1].updatedAttributes",
                 "eventBody.entities[1].updatedAttributes must be a JSON object");
  }
}

TEST(EventRequestErrorTest, ThePathNamesTheEntityIndex) {
  std::string entities = "[" + entity("a") + "," + entity("b") + "," +
                         R"({"entityType":"t","entityId":"","updatedAttributes":{}})" + "]";
  const EventError error = event_error(with_entities(entities));
  EXPECT_EQ(error.path, "eventBody.entities[2].entityId");
  EXPECT_EQ(error.message.rfind("eventBody.entities[2].entityId must be a non-empty string", 0),
            0U);
}

TEST(EventRequestErrorTest, TheFirstBadFieldIsReported) {
  // Header before body; within the header uuid, eventName, eventType,
  // createdDate, savedDate; within an entity type, id, attributes; entities
  // in index order.
  JsonPtr event = valid_event();
  json_t* header = json_object_get(event.get(), "eventHeader");
  json_t* entities = json_object_get(json_object_get(event.get(), "eventBody"), "entities");
  set_member(json_array_get(entities, 1), "entityType", "1");
  set_member(json_array_get(entities, 0), "updatedAttributes", "[]");
  EXPECT_EQ(event_error(dump(event.get())).path, "eventBody.entities[0].updatedAttributes");
  set_member(json_array_get(entities, 0), "entityId", "[]");
  EXPECT_EQ(event_error(dump(event.get())).path, "eventBody.entities[0].entityId");
  set_member(header, "savedDate", "\"x\"");
  EXPECT_EQ(event_error(dump(event.get())).path, "eventHeader.savedDate");
  set_member(header, "createdDate", nullptr);
  EXPECT_EQ(event_error(dump(event.get())).path, "eventHeader.createdDate");
  set_member(header, "eventType", "1");
  EXPECT_EQ(event_error(dump(event.get())).path, "eventHeader.eventType");
  set_member(header, "eventName", "1");
  EXPECT_EQ(event_error(dump(event.get())).path, "eventHeader.eventName");
  set_member(header, "uuid", "1");
  EXPECT_EQ(event_error(dump(event.get())).path, "eventHeader.uuid");
}

// ---- bulk -------------------------------------------------------------------

std::vector<Parsed<Event>> bulk_ok(const std::string& body, std::size_t max_events = 1000,
                                   const EventLimits& limits = kLimits) {
  auto parsed = parse_bulk(body, limits, max_events);
  const BulkError* error = std::get_if<BulkError>(&parsed);
  EXPECT_EQ(error, nullptr) << body << ": " << (error ? error->message : "");
  return error ? std::vector<Parsed<Event>>{} : std::get<std::vector<Parsed<Event>>>(parsed);
}

BulkError bulk_error(const std::string& body, std::size_t max_events = 1000) {
  auto parsed = parse_bulk(body, kLimits, max_events);
  const BulkError* error = std::get_if<BulkError>(&parsed);
  EXPECT_NE(error, nullptr) << body;
  return error ? *error : BulkError{0, "<accepted>"};
}

TEST(EventRequestBulkTest, OneBadEventDoesNotHideTheOthers) {
  const std::string body = "[" + std::string(kValidEvent) + "," + with_header("uuid", R"("")") +
                           "," + with_header("uuid", R"("second")") + "," +
                           with_entity(1, "entityId", "2.5") + "]";
  const std::vector<Parsed<Event>> events = bulk_ok(body);
  ASSERT_EQ(events.size(), 4U);
  ASSERT_EQ(error_of(events[0]), nullptr);
  EXPECT_EQ(std::get<Event>(events[0]).uuid, "6f1c0b9e-3a52-4d7e-9d8e-1f2a3b4c5d6e");
  ASSERT_NE(error_of(events[1]), nullptr);
  EXPECT_EQ(error_of(events[1])->path, "eventHeader.uuid");
  EXPECT_EQ(error_of(events[1])->message, "eventHeader.uuid " + kUuidRule);
  ASSERT_EQ(error_of(events[2]), nullptr);
  EXPECT_EQ(std::get<Event>(events[2]).uuid, "second");
  EXPECT_EQ(std::get<Event>(events[2]).entities.size(), 2U);
  ASSERT_NE(error_of(events[3]), nullptr);
  EXPECT_EQ(error_of(events[3])->path, "eventBody.entities[1].entityId");
}

TEST(EventRequestBulkTest, AnElementThatIsNotAnObjectIsThatElementsError) {
  const std::vector<Parsed<Event>> events =
      bulk_ok("[1," + std::string(kValidEvent) + ",null,[],\"e\"]");
  ASSERT_EQ(events.size(), 5U);
  EXPECT_EQ(error_of(events[1]), nullptr);
  for (const std::size_t i : {0U, 2U, 3U, 4U}) {
    ASSERT_NE(error_of(events[i]), nullptr) << i;
    EXPECT_EQ(error_of(events[i])->path, "") << i;
    EXPECT_EQ(error_of(events[i])->message, "event must be a JSON object") << i;
  }
}

TEST(EventRequestBulkTest, LimitsApplyToEachEvent) {
  EventLimits limits;
  limits.max_entities = 1;
  const std::vector<Parsed<Event>> events =
      bulk_ok("[" + with_entities("[" + entity("a") + "]") + "," + std::string(kValidEvent) + "]",
              10, limits);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(error_of(events[0]), nullptr);
  ASSERT_NE(error_of(events[1]), nullptr);
  EXPECT_EQ(error_of(events[1])->message, "eventBody.entities must be an array of 1 to 1 entities");
}

TEST(EventRequestBulkTest, EventCountAtItsLimitAndBeyondIs413) {
  const std::string two = "[" + std::string(kValidEvent) + "," + kValidEvent + "]";
  EXPECT_EQ(bulk_ok(two, 2).size(), 2U);
  const BulkError error = bulk_error(two, 1);
  EXPECT_EQ(error.status, 413);
  EXPECT_EQ(error.message, "body must be a JSON array of 1 to 1 events");
}

TEST(EventRequestBulkTest, BodyMustBeANonEmptyArray) {
  for (const std::string& body : {std::string("[]"), std::string(kValidEvent), std::string("1"),
                                  std::string("null"), std::string("\"x\"")}) {
    const BulkError error = bulk_error(body);
    EXPECT_EQ(error.status, 400) << body;
    EXPECT_EQ(error.message, "body must be a JSON array of 1 to 1000 events") << body;
  }
}

TEST(EventRequestBulkTest, MalformedJsonOrDuplicateKeysRefuseTheWholeBody) {
  for (const std::string& body : {std::string(""), std::string("["), std::string("[{}"),
                                  "[" + std::string(kValidEvent) + "," +
                                      std::string(kValidEvent).insert(1, R"("x":1,"x":2,)") + "]",
                                  std::string("[\xff]")}) {
    const BulkError error = bulk_error(body);
    EXPECT_EQ(error.status, 400) << body;
    EXPECT_EQ(error.message.rfind("body is not valid JSON (line ", 0), 0U) << error.message;
    EXPECT_TRUE(is_printable_ascii(error.message)) << error.message;
  }
}

}  // namespace
}  // namespace gpsrelay::events
