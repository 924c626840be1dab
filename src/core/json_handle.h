// JsonPtr: the owning handle for a jansson value, for every file that
// builds JSON (status pages, gpsrelayctl). jansson's json_decref is static
// inline, so the deleter is wrapped in a function with external linkage:
// a handle type that crosses files needs one.
#pragma once

#include <jansson.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "core/c_handle.h"

namespace gpsrelay::core {

inline void release_json(json_t* value) { json_decref(value); }
using JsonPtr = CHandle<json_t, release_json>;

// `text` as a JSON string literal, quotes included, ASCII only; bytes that
// are not UTF-8 make it "" rather than invalid JSON.
inline std::string json_quote(std::string_view text) {
  const JsonPtr value(json_stringn(text.data(), text.size()));
  if (!value) return "\"\"";
  const std::unique_ptr<char, decltype(&std::free)> dumped(
      json_dumps(value.get(), JSON_ENCODE_ANY | JSON_ENSURE_ASCII), &std::free);
  return dumped ? std::string(dumped.get()) : std::string("\"\"");
}

}  // namespace gpsrelay::core
