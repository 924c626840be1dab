// JSON output of gpsrelayctl (jansson), for --json.
#pragma once

#include <jansson.h>

#include <ostream>
#include <string>
#include <string_view>

#include "core/json_handle.h"

namespace gpsrelay::ctl {

using core::JsonPtr;

// A JSON string for arbitrary bytes: the text when it is valid UTF-8, else
// each byte above 0x7F as the code point of the same number (U+0080 to
// U+00FF), so nothing is lost and the output stays valid JSON.
json_t* json_bytes(std::string_view bytes);

// Standard base64 (RFC 4648, with padding): the exact bytes of a payload
// that json_bytes could only approximate.
std::string base64(std::string_view bytes);

// Writes `value` indented, with a final newline. Reals get 15 significant
// digits, as locations::to_json writes them, so a location record prints
// with the digits the API serves (52.52, not 52.520000000000003).
void print_json(std::ostream& out, const JsonPtr& value);

}  // namespace gpsrelay::ctl
