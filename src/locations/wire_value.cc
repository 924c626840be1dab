// Device fields as Wire values and JSON body loading (see wire_value.h).
#include "locations/wire_value.h"

namespace gpsrelay::locations::normalizer_internal {

Wire wire_from_json(const json_t* value) {
  Wire wire;
  if (value == nullptr || json_is_null(value)) return wire;
  if (json_is_integer(value)) {
    wire.kind = Wire::Kind::kNumber;
    wire.integer = json_integer_value(value);
    wire.number = static_cast<double>(*wire.integer);
  } else if (json_is_real(value)) {
    wire.kind = Wire::Kind::kNumber;
    wire.number = json_real_value(value);
  } else if (json_is_string(value)) {
    wire.kind = Wire::Kind::kText;
    wire.text = std::string_view(json_string_value(value), json_string_length(value));
  } else {
    wire.kind = Wire::Kind::kOther;
  }
  return wire;
}

Wire json_field(const json_t* object, const char* key) {
  return wire_from_json(json_object_get(object, key));
}

Wire json_field_any(const json_t* object, std::initializer_list<const char*> keys,
                    const char** found) {
  for (const char* key : keys) {
    const Wire wire = json_field(object, key);
    if (wire.kind != Wire::Kind::kAbsent) {
      if (found != nullptr) *found = key;
      return wire;
    }
  }
  if (found != nullptr) *found = *keys.begin();
  return {};
}

core::JsonPtr load_json(std::string_view body, std::string& error) {
  json_error_t json_error;
  core::JsonPtr root(json_loadb(body.data(), body.size(), JSON_REJECT_DUPLICATES, &json_error));
  if (!root) {
    error = "body is not valid JSON (line " + std::to_string(json_error.line) + ", column " +
            std::to_string(json_error.column) + ")";
  }
  return root;
}

}  // namespace gpsrelay::locations::normalizer_internal
