// Request id sanitising and generation (see request_id.h). No clock reads and
// no random_device here: the seed is the only source of variation, which
// keeps tests deterministic.
#include "http/request_id.h"

#include <algorithm>
#include <array>

namespace gpsrelay::http {
namespace {

constexpr std::array<bool, 256> kRequestIdChar = [] {
  std::array<bool, 256> table{};
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (const char c : std::string_view("._:/+=-")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

// splitmix64's finaliser: a bijection on 64 bits with good avalanche, so
// distinct inputs give distinct, random-looking outputs.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

void write_hex(std::uint64_t value, char* out) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[value & 0xf];
    value >>= 4;
  }
}

}  // namespace

std::string sanitize_request_id(std::string_view client_value) {
  std::string id;
  id.reserve(std::min(client_value.size(), kMaxRequestIdLength));
  for (const char c : client_value) {
    if (!kRequestIdChar[static_cast<unsigned char>(c)]) continue;
    id.push_back(c);
    if (id.size() == kMaxRequestIdLength) break;
  }
  return id;
}

RequestIdGenerator::RequestIdGenerator(std::uint64_t seed)
    : prefix_(mix64(seed)), counter_offset_(mix64(seed ^ 0x9e3779b97f4a7c15ULL)) {}

std::string RequestIdGenerator::next() {
  std::string id(32, '0');
  write_hex(prefix_, id.data());
  // Adding the offset and mixing keeps the counter bijective while making
  // consecutive ids look unrelated, so nobody reads meaning into them.
  write_hex(mix64(counter_++ + counter_offset_), id.data() + 16);
  return id;
}

}  // namespace gpsrelay::http
