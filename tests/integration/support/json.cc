// parse_json / json_string / same_json: thin jansson wrappers.
#include "support/json.h"

#include <cstdlib>

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

::testing::AssertionResult same_json(const json_t* actual, const std::string& expected) {
  const JsonPtr want = parse_json(expected);
  if (!want) return ::testing::AssertionFailure() << "expected is not JSON: " << expected;
  if (actual != nullptr && json_equal(actual, want.get())) return ::testing::AssertionSuccess();
  const std::unique_ptr<char, decltype(&std::free)> dumped(
      actual != nullptr ? json_dumps(actual, JSON_COMPACT | JSON_ENCODE_ANY) : nullptr, &std::free);
  return ::testing::AssertionFailure()
         << "got " << (dumped ? dumped.get() : "(absent)") << ", expected " << expected;
}

}  // namespace gpsrelay::testing
