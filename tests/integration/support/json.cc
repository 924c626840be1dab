// parse_json / json_string: thin jansson wrappers.
#include "support/json.h"

namespace gpsrelay::testing {

JsonPtr parse_json(std::string_view text) {
  json_error_t error;
  // JSON_DECODE_ANY: a health document is an object, but callers may check
  // any text; JSON_ALLOW_NUL: binary-safe.
  return JsonPtr(json_loadb(text.data(), text.size(), JSON_DECODE_ANY | JSON_ALLOW_NUL, &error));
}

std::optional<std::string> json_string(const json_t* object, const char* key) {
  if (object == nullptr || !json_is_object(object)) return std::nullopt;
  const json_t* member = json_object_get(object, key);
  if (member == nullptr || !json_is_string(member)) return std::nullopt;
  return std::string(json_string_value(member), json_string_length(member));
}

}  // namespace gpsrelay::testing
