// json_bytes, base64 and print_json (see json_output.h).
#include "ctl/json_output.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace gpsrelay::ctl {

json_t* json_bytes(std::string_view bytes) {
  if (json_t* text = json_stringn(bytes.data(), bytes.size())) return text;
  std::string latin1;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      latin1 += c;
    } else {
      // U+0080..U+00FF in UTF-8: two bytes.
      latin1 += static_cast<char>(0xC0 | (byte >> 6));
      latin1 += static_cast<char>(0x80 | (byte & 0x3F));
    }
  }
  return json_stringn(latin1.data(), latin1.size());
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      group = (group << 8) | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0u);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      out += j <= n ? kAlphabet[(group >> (18 - 6 * j)) & 0x3F] : '=';
    }
  }
  return out;
}

void print_json(std::ostream& out, const JsonPtr& value) {
  const std::unique_ptr<char, decltype(&std::free)> text(
      json_dumps(value.get(), JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)),
      &std::free);
  out << (text ? text.get() : "null") << "\n";
}

}  // namespace gpsrelay::ctl
