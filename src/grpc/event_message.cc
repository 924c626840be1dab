// EventRequest to the HTTP API's JSON event (see event_message.h).
#include "grpc/event_message.h"

#include <google/protobuf/struct.pb.h>
#include <jansson.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/json_handle.h"

namespace gpsrelay::grpc_api {
namespace {

namespace v1 = ::gpsrelay::events::v1;
namespace pb = ::google::protobuf;
using core::JsonPtr;

// Integral doubles of at most this magnitude are exact as integers.
constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53

// What a text field becomes when it cannot be JSON text (not UTF-8): a
// control character, which every text rule of parse_event refuses.
constexpr std::string_view kRefusedText = "\x01";

class Converter {
 public:
  JsonPtr event(const v1::EventRequest& request) {
    JsonPtr root(json_object());
    if (request.has_event_header()) {
      json_object_set_new(root.get(), "eventHeader", header(request.event_header()).release());
    }
    if (request.has_event_body()) {
      json_object_set_new(root.get(), "eventBody", body(request.event_body()).release());
    }
    return root;
  }

  std::vector<events::EventError> take_refusals() { return std::move(refusals_); }

 private:
  JsonPtr header(const v1::EventHeader& header) {
    JsonPtr out(json_object());
    const std::string prefix = "eventHeader.";
    set_text(out.get(), prefix, "uuid", header.uuid());
    set_text(out.get(), prefix, "eventName", header.event_name());
    set_text(out.get(), prefix, "eventType", header.event_type());
    if (header.created_case() == v1::EventHeader::kCreatedDate) {
      set_text(out.get(), prefix, "createdDate", header.created_date());
    } else if (header.created_case() == v1::EventHeader::kCreatedDateMs) {
      json_object_set_new(out.get(), "createdDate", json_integer(header.created_date_ms()));
    }
    if (header.saved_case() == v1::EventHeader::kSavedDate) {
      set_text(out.get(), prefix, "savedDate", header.saved_date());
    } else if (header.saved_case() == v1::EventHeader::kSavedDateMs) {
      json_object_set_new(out.get(), "savedDate", json_integer(header.saved_date_ms()));
    }
    return out;
  }

  JsonPtr body(const v1::EventBody& body) {
    JsonPtr entities(json_array());
    for (int i = 0; i < body.entities_size(); ++i) {
      json_array_append_new(
          entities.get(),
          entity(body.entities(i), "eventBody.entities[" + std::to_string(i) + "].").release());
    }
    JsonPtr out(json_object());
    json_object_set_new(out.get(), "entities", entities.release());
    return out;
  }

  JsonPtr entity(const v1::Entity& entity, const std::string& prefix) {
    JsonPtr out(json_object());
    set_text(out.get(), prefix, "entityType", entity.entity_type());
    set_text(out.get(), prefix, "entityId", entity.entity_id());
    if (entity.has_updated_attributes()) {
      const std::string path = prefix + "updatedAttributes";
      attribute_error_.clear();
      JsonPtr attributes = object_of(entity.updated_attributes(), 1);
      if (!attribute_error_.empty()) {
        refuse(path, attribute_error_);
        attributes.reset(json_true());  // "must be a JSON object" at this path
      }
      json_object_set_new(out.get(), "updatedAttributes", attributes.release());
    }
    return out;
  }

  // A text field, left out when empty; a NUL becomes U+0001 (see the
  // header).
  void set_text(json_t* object, const std::string& prefix, const char* key,
                const std::string& value) {
    if (value.empty()) return;
    std::string text = value;
    std::replace(text.begin(), text.end(), '\0', '\x01');
    JsonPtr string(json_stringn(text.data(), text.size()));
    if (!string) {
      refuse(prefix + key, "must be valid UTF-8");
      string.reset(json_stringn(kRefusedText.data(), kRefusedText.size()));
    }
    json_object_set_new(object, key, string.release());
  }

  void refuse(const std::string& path, const std::string& rule) {
    refusals_.push_back({path, path + " " + rule});
  }

  // `depth`: the objects/arrays around `value`, itself included. Past
  // kMaxAttributesDepth + 1 nothing is converted: an empty object stands for
  // the rest, deep enough for parse_event to refuse the whole.
  JsonPtr object_of(const pb::Struct& value, std::size_t depth) {
    JsonPtr out(json_object());
    if (depth > events::kMaxAttributesDepth) return out;
    for (const auto& [key, member] : value.fields()) {
      if (key.find('\0') != std::string::npos) {
        note("must not hold a NUL character in a key");
        continue;
      }
      JsonPtr converted = value_of(member, depth);
      if (!converted) continue;
      if (json_object_setn_new(out.get(), key.data(), key.size(), converted.release()) != 0) {
        note("must hold UTF-8 keys");
      }
    }
    return out;
  }

  JsonPtr array_of(const pb::ListValue& value, std::size_t depth) {
    JsonPtr out(json_array());
    if (depth > events::kMaxAttributesDepth) return out;
    for (const pb::Value& item : value.values()) {
      JsonPtr converted = value_of(item, depth);
      if (converted) json_array_append_new(out.get(), converted.release());
    }
    return out;
  }

  // nullptr (and a note) when `value` has no JSON form.
  JsonPtr value_of(const pb::Value& value, std::size_t depth) {
    switch (value.kind_case()) {
      case pb::Value::kNullValue:
        return JsonPtr(json_null());
      case pb::Value::kNumberValue:
        return number_of(value.number_value());
      case pb::Value::kStringValue: {
        const std::string& text = value.string_value();
        if (text.find('\0') != std::string::npos) {
          note("must not hold a NUL character in a string");
          return nullptr;
        }
        JsonPtr string(json_stringn(text.data(), text.size()));
        if (!string) note("must hold UTF-8 strings");
        return string;
      }
      case pb::Value::kBoolValue:
        return JsonPtr(json_boolean(value.bool_value()));
      case pb::Value::kStructValue:
        return object_of(value.struct_value(), depth + 1);
      case pb::Value::kListValue:
        return array_of(value.list_value(), depth + 1);
      case pb::Value::KIND_NOT_SET:
        break;
    }
    note("must not hold a Value with no kind set");
    return nullptr;
  }

  JsonPtr number_of(double number) {
    if (!std::isfinite(number)) {
      note("must not hold NaN or an infinity (JSON has no such numbers)");
      return nullptr;
    }
    if (std::trunc(number) == number && std::fabs(number) <= kMaxExactInteger) {
      return JsonPtr(json_integer(static_cast<json_int_t>(number)));
    }
    return JsonPtr(json_real(number));
  }

  // The first reason the attributes being converted have no JSON form.
  void note(const char* rule) {
    if (attribute_error_.empty()) attribute_error_ = rule;
  }

  std::vector<events::EventError> refusals_;
  std::string attribute_error_;
};

}  // namespace

EventJson event_json_of(const v1::EventRequest& request) {
  Converter converter;
  const JsonPtr root = converter.event(request);
  // Sorted keys: the Struct's members come from a map, whose order means
  // nothing; equal requests give equal text.
  const std::unique_ptr<char, decltype(&std::free)> text(
      json_dumps(root.get(), JSON_COMPACT | JSON_SORT_KEYS), &std::free);
  EventJson out;
  out.json = text ? std::string(text.get()) : std::string("{}");
  out.refusals = converter.take_refusals();
  return out;
}

events::Parsed<events::Event> parse_event_request(const v1::EventRequest& request,
                                                  const events::EventLimits& limits) {
  EventJson converted = event_json_of(request);
  events::Parsed<events::Event> parsed = events::parse_event(converted.json, limits);
  const events::EventError* error = events::error_of(parsed);
  for (events::EventError& refusal : converted.refusals) {
    // parse_event refused a placeholder: the conversion says why.
    if (error == nullptr || error->path == refusal.path) return std::move(refusal);
  }
  return parsed;
}

}  // namespace gpsrelay::grpc_api
