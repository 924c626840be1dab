// libFuzzer target for the duration and size grammar (core/units.h).
//
// Checks that parse -> format -> parse returns the same value and that the
// formatted text is a fixed point, for text input and for raw 64-bit
// values. It does not check which texts are accepted; the unit tests do.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/units.h"

namespace {

using gpsrelay::core::format_duration;
using gpsrelay::core::format_size;
using gpsrelay::core::parse_duration;
using gpsrelay::core::parse_size;

[[noreturn]] void fail(const char* what, const std::string& text) {
  std::fprintf(stderr, "units_fuzz: %s: '%s'\n", what, text.c_str());
  std::abort();
}

void check_duration(std::chrono::milliseconds value) {
  if (value.count() < 0) {
    (void)format_duration(value);  // Must not crash; need not parse.
    return;
  }
  const std::string text = format_duration(value);
  const auto parsed = parse_duration(text);
  if (parsed != value) fail("formatted duration does not parse back", text);
  if (format_duration(*parsed) != text) fail("duration formatting is not stable", text);
}

void check_size(std::uint64_t value) {
  const std::string text = format_size(value);
  const auto parsed = parse_size(text);
  if (parsed != value) fail("formatted size does not parse back", text);
  if (format_size(*parsed) != text) fail("size formatting is not stable", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto duration = parse_duration(text)) {
    if (duration->count() < 0) fail("parsed a negative duration", std::string(text));
    check_duration(*duration);
  }
  if (const auto bytes = parse_size(text)) check_size(*bytes);
  if (size >= sizeof(std::int64_t)) {
    std::int64_t raw = 0;
    std::memcpy(&raw, data, sizeof(raw));
    check_duration(std::chrono::milliseconds(raw));
    check_size(static_cast<std::uint64_t>(raw));
  }
  return 0;
}
