// One field as a device sent it (Wire), and reading fields out of a JSON
// body: the input side of RecordBuilder (record_builder.h), so that every
// format hands the checks the same kind of value whatever its encoding.
//
// Internal to the location normaliser; nothing outside src/locations/
// includes it. A Wire is not checked here: absent, wrong-typed or
// out-of-range values are the builder's to refuse.
#pragma once

#include <jansson.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "core/json_handle.h"

namespace gpsrelay::locations::normalizer_internal {

// One field as it arrived: absent, a JSON number, text (a JSON string or a
// form parameter), or some other JSON value (object, array, bool).
struct Wire {
  enum class Kind : std::uint8_t { kAbsent, kNumber, kText, kOther };
  Kind kind = Kind::kAbsent;
  double number = 0;
  std::optional<std::int64_t> integer;  // a JSON integer, for ids
  std::string_view text;                // kText; valid while its source is
};

// A JSON value as a Wire; null (or nullptr) is absent. The Wire's text
// points into `value`.
Wire wire_from_json(const json_t* value);

// `object`'s member `key` as a Wire (absent when `object` is no object).
Wire json_field(const json_t* object, const char* key);

// The first of `keys` that `object` has; `*found` (when given) is set to
// that key, or to the first key when none is present, for the message.
Wire json_field_any(const json_t* object, std::initializer_list<const char*> keys,
                    const char** found = nullptr);

// Parses a JSON body (duplicate keys refused); on failure `error` says
// where, without echoing the device's bytes (jansson's text quotes the
// offending token).
core::JsonPtr load_json(std::string_view body, std::string& error);

}  // namespace gpsrelay::locations::normalizer_internal
