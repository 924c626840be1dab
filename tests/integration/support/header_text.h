// Small text helpers for reading HTTP header blocks in the test clients
// (http_client.cc, ws_client.cc).
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace gpsrelay::testing {

// Header names compare case-insensitively: the clients store them lowered.
inline std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

inline std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace gpsrelay::testing
