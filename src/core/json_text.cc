// Compact JSON text (see json_text.h).
#include "core/json_text.h"

#include <array>
#include <charconv>
#include <string_view>
#include <system_error>

namespace gpsrelay::core {
namespace {

void append_string(std::string& out, std::string_view text) {
  out += '"';
  std::size_t run = 0;  // text[run, i) needs no escape and is not written yet
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (!json_needs_escape(byte)) continue;
    out.append(text, run, i - run);
    run = i + 1;
    append_json_escape(out, byte);
  }
  out.append(text, run);
  out += '"';
}

void append_value(std::string& out, const json_t* value) {
  switch (json_typeof(value)) {
    case JSON_OBJECT: {
      out += '{';
      bool first = true;
      // jansson's iteration takes a non-const object but only reads it.
      auto* object = const_cast<json_t*>(value);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
      const char* key = nullptr;
      json_t* member = nullptr;
      json_object_foreach(object, key, member) {
        if (!first) out += ',';
        first = false;
        append_string(out, key);
        out += ':';
        append_value(out, member);
      }
      out += '}';
      return;
    }
    case JSON_ARRAY:
      out += '[';
      for (std::size_t i = 0; i < json_array_size(value); ++i) {
        if (i > 0) out += ',';
        append_value(out, json_array_get(value, i));
      }
      out += ']';
      return;
    case JSON_STRING:
      append_string(out, {json_string_value(value), json_string_length(value)});
      return;
    case JSON_INTEGER:
      out += std::to_string(json_integer_value(value));
      return;
    case JSON_REAL:
      append_json_real(out, json_real_value(value));
      return;
    case JSON_TRUE:
      out += "true";
      return;
    case JSON_FALSE:
      out += "false";
      return;
    case JSON_NULL:
      out += "null";
      return;
  }
}

}  // namespace

void append_json_escape(std::string& out, unsigned char byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (byte) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
  }
}

void append_json_real(std::string& out, double value) {
  std::array<char, 64> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (ec != std::errc()) {  // cannot happen for a finite double and 64 bytes
    out += "0.0";
    return;
  }
  const std::string_view text(buffer.data(), static_cast<std::size_t>(end - buffer.data()));
  out += text;
  if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
}

std::string compact_json(const json_t* value) {
  std::string out;
  if (value != nullptr) append_value(out, value);
  return out;
}

}  // namespace gpsrelay::core
