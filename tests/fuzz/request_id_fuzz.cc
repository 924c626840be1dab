// libFuzzer target for request ids: a sanitised id is at most 128 characters
// of the allowed set, keeps allowed input in order, and is idempotent;
// generated ids are 32 lowercase hex characters that survive sanitising.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "http/request_id.h"

namespace {

using gpsrelay::http::kMaxRequestIdLength;

bool is_allowed(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("._:/+=-").find(c) != std::string_view::npos;
}

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string id = gpsrelay::http::sanitize_request_id(input);
  check(id.size() <= kMaxRequestIdLength, "at most 128 characters");
  for (const char c : id) check(is_allowed(c), "only allowed characters");

  std::string expected;
  for (const char c : input) {
    if (is_allowed(c) && expected.size() < kMaxRequestIdLength) expected.push_back(c);
  }
  check(id == expected, "allowed characters kept in order, first 128");
  check(gpsrelay::http::sanitize_request_id(id) == id, "idempotent");

  std::uint64_t seed = 0;
  std::memcpy(&seed, data, std::min(size, sizeof seed));
  gpsrelay::http::RequestIdGenerator generator(seed);
  const std::string first = generator.next();
  const std::string second = generator.next();
  for (const std::string* generated : {&first, &second}) {
    check(generated->size() == 32, "generated id has 32 characters");
    check(generated->find_first_not_of("0123456789abcdef") == std::string::npos,
          "generated id is lowercase hex");
    check(gpsrelay::http::sanitize_request_id(*generated) == *generated,
          "generated id survives sanitising");
  }
  check(first != second, "consecutive generated ids differ");
  return 0;
}
