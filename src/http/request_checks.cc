// Header policy helpers (see request_checks.h). Comparisons are on bytes in
// the ASCII range only; no locale is consulted.
#include "http/request_checks.h"

#include <algorithm>

namespace gpsrelay::http {
namespace {

constexpr bool is_space_or_tab(char c) { return c == ' ' || c == '\t'; }

constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

std::string_view trim(std::string_view value) {
  while (!value.empty() && is_space_or_tab(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_space_or_tab(value.back())) value.remove_suffix(1);
  return value;
}

// REQUIRES: lower_case is lower case ASCII.
bool equals_ignoring_case(std::string_view value, std::string_view lower_case) {
  if (value.size() != lower_case.size()) return false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (ascii_lower(value[i]) != lower_case[i]) return false;
  }
  return true;
}

}  // namespace

bool is_json_content_type(std::string_view header_value) {
  std::string_view media_type = header_value.substr(0, header_value.find(';'));
  return equals_ignoring_case(trim(media_type), "application/json");
}

bool is_valid_idempotency_key(std::string_view key) {
  constexpr std::size_t kMaxLength = 128;
  if (key.empty() || key.size() > kMaxLength) return false;
  return std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

bool content_lengths_agree(const std::vector<std::string_view>& values) {
  for (const std::string_view value : values) {
    if (trim(value) != trim(values.front())) return false;
  }
  return true;
}

std::string retry_after_seconds(std::int64_t retry_after_ms) {
  if (retry_after_ms <= 1000) return "1";
  // Written so the rounding cannot overflow near INT64_MAX.
  const std::int64_t seconds = retry_after_ms / 1000 + (retry_after_ms % 1000 != 0 ? 1 : 0);
  return std::to_string(seconds);
}

}  // namespace gpsrelay::http
