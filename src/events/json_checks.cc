// Shared request checks (see json_checks.h).
#include "events/json_checks.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "core/json_text.h"

namespace gpsrelay::events {

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
  });
}

std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7E) c = '?';
  }
  return out;
}

bool nests_at_most(const json_t* value, std::size_t levels) {
  if (json_is_object(value)) {
    if (levels == 0) return false;
    const char* key = nullptr;
    json_t* child = nullptr;
    // jansson's iteration macro takes a non-const object but only reads it.
    auto* object = const_cast<json_t*>(value);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    json_object_foreach(object, key, child) {
      if (!nests_at_most(child, levels - 1)) return false;
    }
  } else if (json_is_array(value)) {
    if (levels == 0) return false;
    for (std::size_t i = 0; i < json_array_size(value); ++i) {
      if (!nests_at_most(json_array_get(value, i), levels - 1)) return false;
    }
  }
  return true;
}

std::string dump_compact(const json_t* value) { return core::compact_json(value); }

}  // namespace gpsrelay::events
