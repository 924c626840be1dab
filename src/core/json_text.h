// Compact JSON text of a jansson value, as gpsrelay writes every JSON
// document it stores or answers with from parsed input (entity
// attributes, values): members in their order, no blanks, strings as UTF-8
// with only what JSON requires escaped (as jansson does), and reals in the
// shortest form that reads back as the same double, still looking like a
// real (0.1 stays 0.1 and 1e2 becomes 100.0) — jansson's own dump writes
// 17 significant digits (0.1 as 0.10000000000000001).
//
// Pure. The caller bounds nesting (the recursion follows the value).
#pragma once

#include <jansson.h>

#include <string>

namespace gpsrelay::core {

// Whether a byte of a JSON string must be written escaped: '"', '\\' and
// the control characters (nothing else: UTF-8 goes out as it is).
inline bool json_needs_escape(unsigned char byte) {
  return byte < 0x20 || byte == '"' || byte == '\\';
}
// Appends the escape of such a byte as jansson writes it (\n, \u0001, ...).
void append_json_escape(std::string& out, unsigned char byte);

// Appends the shortest round-trip text of a finite double, with ".0" when
// it would otherwise read as an integer.
void append_json_real(std::string& out, double value);

// The compact text of `value` (any type).
std::string compact_json(const json_t* value);

}  // namespace gpsrelay::core
