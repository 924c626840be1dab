// libFuzzer target for the request header helpers (Content-Type,
// Idempotency-Key, repeated Content-Length, Retry-After; and auth's
// bearer_token): each is compared with a deliberately naive reference built
// from std::string operations, and bearer_token must return a view into its
// input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "auth/token_store.h"
#include "http/request_checks.h"

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "violated: %s\n", what);
    std::abort();
  }
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string strip(std::string text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const std::size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

bool reference_is_json(std::string_view value) {
  std::string type(value);
  type = type.substr(0, type.find(';'));
  return lower(strip(type)) == "application/json";
}

bool reference_idempotency_key(std::string_view value) {
  if (value.empty() || value.size() > 128) return false;
  for (const char c : value) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return false;
  }
  return true;
}

// The input split at newlines, as the values of repeated headers.
std::vector<std::string_view> lines_of(std::string_view input) {
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start <= input.size();) {
    const std::size_t end = std::min(input.find('\n', start), input.size());
    lines.push_back(input.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string reference_bearer(std::string_view value) {
  const std::string text = strip(std::string(value));
  if (lower(text.substr(0, 6)) != "bearer" || text.size() < 8) return {};
  if (text[6] != ' ' && text[6] != '\t') return {};
  const std::string token = strip(text.substr(7));
  for (const char c : token) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return {};
  }
  return token;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  check(gpsrelay::http::is_json_content_type(input) == reference_is_json(input),
        "is_json_content_type matches the reference");

  const std::string_view token = gpsrelay::auth::bearer_token(input);
  check(token == reference_bearer(input), "bearer_token matches the reference");
  if (!token.empty()) {
    check(token.data() >= input.data() && token.data() + token.size() <= input.data() + size,
          "token is a view into the header");
  }

  std::int64_t ms = 0;
  std::memcpy(&ms, data, std::min(size, sizeof ms));
  const std::string seconds = gpsrelay::http::retry_after_seconds(ms);
  check(!seconds.empty() && seconds.find_first_not_of("0123456789") == std::string::npos,
        "Retry-After is a plain decimal number");
  const long long parsed = std::stoll(seconds);
  const __int128 exact = ms <= 0 ? 1 : (static_cast<__int128>(ms) + 999) / 1000;
  check(parsed == static_cast<long long>(exact), "Retry-After rounds up, minimum 1");

  check(gpsrelay::http::is_valid_idempotency_key(input) == reference_idempotency_key(input),
        "is_valid_idempotency_key matches the reference");
  const std::vector<std::string_view> values = lines_of(input);
  bool all_equal = true;
  for (const std::string_view value : values) {
    all_equal = all_equal && strip(std::string(value)) == strip(std::string(values.front()));
  }
  check(gpsrelay::http::content_lengths_agree(values) == all_equal,
        "content_lengths_agree matches the reference");
  return 0;
}
