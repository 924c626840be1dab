// Bytes as lower-case hex: digests and random ids.
#pragma once

#include <span>
#include <string>

namespace gpsrelay::core {

inline std::string hex(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char byte : bytes) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xF];
  }
  return out;
}

}  // namespace gpsrelay::core
