// Small checks and conversions the entity-event and value request parsers
// share (event_request.h, value_request.h): text fit for logs and answers,
// bounded nesting, compact JSON text. Pure.
#pragma once

#include <jansson.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace gpsrelay::events {

// ASCII control characters (below 0x20, or 0x7F): refused in ids and names
// that end up in log lines and URLs.
bool has_control_character(std::string_view text);

// `text` with every byte outside printable ASCII replaced by '?': jansson's
// error text quotes the input near the error, and the message must be safe
// in any answer and log line.
std::string printable(std::string_view text);

// Whether `value` nests at most `levels` objects/arrays, itself included.
// Stops descending past the limit, so the recursion is bounded by it.
bool nests_at_most(const json_t* value, std::size_t levels);

// The compact text of `value` (any type), reals in their shortest form
// (core/json_text.h).
std::string dump_compact(const json_t* value);

}  // namespace gpsrelay::events
