// libFuzzer target for the Entity events bodies (events/event_request.h)
// and JSON Merge Patch (events/merge_patch.h): the whole input goes to
// parse_event and parse_bulk, with the default limits and with small ones.
// Invariants: no crash or out-of-bounds read; a refusal has a printable
// ASCII message that starts with its path (and a bulk refusal is 400, or
// 413 only for too many events); an accepted event has every field within
// its documented range and attributes that are a JSON object within the
// size limit. Each entity's attributes, applied as a merge patch to a fixed
// target, to nothing and to themselves, give JSON that has what the patch
// sets and lacks what it deletes, and applying the same patch again
// changes nothing (merge patch is idempotent). The raw input, when it is
// JSON, is applied as a patch the same way.
#include <jansson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/json_handle.h"
#include "events/event_request.h"
#include "events/merge_patch.h"

namespace {

using gpsrelay::core::JsonPtr;
using namespace gpsrelay::events;  // NOLINT(google-build-using-namespace)

// RFC 7396's section 3 document, with a null and an array to be merged
// over.
const char* const kTarget =
    R"({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},)"
    R"("tags":["example","sample"],"content":"This will be unchanged","e":null,"n":1})";

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "violated: %s\n", what);
    std::abort();
  }
}

JsonPtr load(std::string_view text) {
  json_error_t error;
  return JsonPtr(json_loadb(text.data(), text.size(), JSON_DECODE_ANY, &error));
}

bool printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
  });
}

// Whether `result` disobeys the object `patch` where the patch's objects
// reach: a member the patch sets to null is still there, or a member the
// patch sets to a value is absent or null (a new object's nulls dropped).
bool disobeys_patch(const json_t* result, const json_t* patch) {
  if (!json_is_object(patch)) return false;
  if (!json_is_object(result)) return true;
  const char* key = nullptr;
  json_t* patch_member = nullptr;
  auto* patch_object = const_cast<json_t*>(patch);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  json_object_foreach(patch_object, key, patch_member) {
    const json_t* member = json_object_get(result, key);
    if (json_is_null(patch_member)) {
      if (member != nullptr) return true;
    } else if (member == nullptr || json_is_null(member) || disobeys_patch(member, patch_member)) {
      return true;
    }
  }
  return false;
}

// Applies `patch` to `target` ("" = absent) and checks the result.
void check_merge(std::string_view target, std::string_view patch) {
  const std::optional<std::string> once = merge_patch_text(target, patch);
  check(once.has_value(), "merge of valid JSON texts succeeds");
  const JsonPtr result = load(*once);
  check(result != nullptr, "merge result is JSON");
  const JsonPtr patch_value = load(patch);
  check(!disobeys_patch(result.get(), patch_value.get()), "merge result follows the patch");
  if (!json_is_object(patch_value.get())) {
    check(json_equal(result.get(), patch_value.get()) != 0, "a non-object patch replaces");
  }
  const std::optional<std::string> twice = merge_patch_text(*once, patch);
  check(twice == once, "merge patch is idempotent");
}

void check_event(const Event& event, const EventLimits& limits) {
  check(!event.uuid.empty() && event.uuid.size() <= kMaxUuidBytes, "uuid size");
  check(!has_control_character(event.uuid), "uuid has no controls");
  for (const std::string* name : {&event.event_name, &event.event_type}) {
    check(!name->empty() && name->size() <= kMaxNameBytes, "name size");
    check(!has_control_character(*name), "name has no controls");
  }
  check(event.created_ms >= 0 && event.created_ms <= kMaxDateMs, "createdDate range");
  check(!event.saved_ms || (*event.saved_ms >= 0 && *event.saved_ms <= kMaxDateMs),
        "savedDate range");
  check(!event.entities.empty() && event.entities.size() <= limits.max_entities, "entity count");
  for (const EntityUpdate& update : event.entities) {
    check(!update.entity_type.empty() && update.entity_type.size() <= kMaxEntityTypeBytes,
          "entityType size");
    check(!update.entity_id.empty() && update.entity_id.size() <= kMaxEntityIdBytes,
          "entityId size");
    check(!has_control_character(update.entity_id), "entityId has no controls");
    check(update.attributes_json.size() <= limits.max_attributes_bytes, "attributes size");
    const JsonPtr attributes = load(update.attributes_json);
    check(json_is_object(attributes.get()), "attributes are a JSON object");

    check_merge(kTarget, update.attributes_json);
    check_merge("", update.attributes_json);
    check_merge(update.attributes_json, update.attributes_json);
  }
}

void check_error(const EventError& error) {
  check(!error.message.empty(), "an error has a message");
  check(printable_ascii(error.message), "error message is printable ASCII");
  check(error.path.empty() || error.message.rfind(error.path + " ", 0) == 0,
        "error message starts with its path");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  EventLimits small;
  small.max_entities = 2;
  small.max_attributes_bytes = 64;

  for (const EventLimits& limits : {EventLimits{}, small}) {
    const Parsed<Event> event = parse_event(input, limits);
    if (const EventError* error = error_of(event)) {
      check_error(*error);
    } else {
      check_event(std::get<Event>(event), limits);
    }

    for (const std::size_t max_events : {std::size_t{1000}, std::size_t{2}}) {
      const auto bulk = parse_bulk(input, limits, max_events);
      if (const auto* error = std::get_if<BulkError>(&bulk)) {
        check(error->status == 400 || error->status == 413, "bulk status 400 or 413");
        check(!error->message.empty() && printable_ascii(error->message), "bulk message");
        continue;
      }
      const auto& events = std::get<std::vector<Parsed<Event>>>(bulk);
      check(!events.empty() && events.size() <= max_events, "bulk size");
      for (const Parsed<Event>& element : events) {
        if (const EventError* error = error_of(element)) {
          check_error(*error);
        } else {
          check_event(std::get<Event>(element), limits);
        }
      }
    }
  }

  // The raw input as a patch, when it is JSON at all (merge_patch_text
  // refuses duplicate keys; so does this check's loader then).
  json_error_t error;
  const JsonPtr raw(
      json_loadb(input.data(), input.size(), JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error));
  if (raw) {
    check_merge(kTarget, input);
    check_merge("", input);
  } else {
    check(!merge_patch_text(kTarget, input), "invalid JSON patch is refused");
  }
  return 0;
}
