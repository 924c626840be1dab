// JSON for assertions on response bodies, through jansson (the daemon's own
// JSON library, so the tests add no dependency). Parsing only: the tests
// build request bodies as literal text, byte for byte.
#pragma once

#include <gtest/gtest.h>
#include <jansson.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gpsrelay::testing {

struct JsonDeleter {
  void operator()(json_t* value) const { json_decref(value); }
};
using JsonPtr = std::unique_ptr<json_t, JsonDeleter>;

// The parsed value, or nullptr when `text` is not one well-formed JSON text.
JsonPtr parse_json(std::string_view text);

// The string member `key` of `object`; nullopt when `object` is not an
// object, has no such member, or it is not a string.
std::optional<std::string> json_string(const json_t* object, const char* key);

// Passes when `actual` is the JSON value `expected` (json_equal: object
// members in any order); says what it got otherwise. `actual` may be null
// (absent).
::testing::AssertionResult same_json(const json_t* actual, const std::string& expected);

}  // namespace gpsrelay::testing
