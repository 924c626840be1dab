// Duration and size grammar; see units.h for what is accepted and why.
#include "core/units.h"

#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace gpsrelay::core {
namespace {

// Splits `text` into a leading run of decimal digits and the rest. Returns
// nullopt if there are no digits or they overflow 64 bits; from_chars is
// used because it neither accepts a sign nor consults the locale.
std::optional<std::pair<std::uint64_t, std::string_view>> split_number(std::string_view text) {
  std::uint64_t number = 0;
  const char* const end = text.data() + text.size();
  const auto [rest, error] = std::from_chars(text.data(), end, number, 10);
  if (error != std::errc{} || rest == text.data()) return std::nullopt;
  return std::pair{number, std::string_view(rest, static_cast<std::size_t>(end - rest))};
}

struct Unit {
  std::string_view suffix;
  std::int64_t factor;
};

// Largest first, so format_duration picks the shortest spelling.
constexpr std::array<Unit, 5> kDurationUnits{{
    {"d", 24 * 60 * 60 * 1000},
    {"h", 60 * 60 * 1000},
    {"m", 60 * 1000},
    {"s", 1000},
    {"ms", 1},
}};

constexpr std::uint64_t kKibi = 1024;
constexpr std::uint64_t kMebi = 1024 * 1024;

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const auto parts = split_number(text);
  if (!parts) return std::nullopt;
  const auto [number, suffix] = *parts;
  for (const Unit& unit : kDurationUnits) {
    if (suffix != unit.suffix) continue;
    const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (number > max / static_cast<std::uint64_t>(unit.factor)) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(number) * unit.factor);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  const auto parts = split_number(text);
  if (!parts) return std::nullopt;
  const auto [number, suffix] = *parts;
  std::uint64_t factor = 1;
  if (suffix == "k" || suffix == "K") {
    factor = kKibi;
  } else if (suffix == "m" || suffix == "M") {
    factor = kMebi;
  } else if (!suffix.empty()) {
    return std::nullopt;
  }
  if (number > std::numeric_limits<std::uint64_t>::max() / factor) return std::nullopt;
  return number * factor;
}

std::optional<std::uint64_t> parse_distance(std::string_view text) {
  const auto parts = split_number(text);
  if (!parts) return std::nullopt;
  const auto [number, suffix] = *parts;
  if (suffix == "m") return number;
  if (suffix != "km" || number > std::numeric_limits<std::uint64_t>::max() / 1000) {
    return std::nullopt;
  }
  return number * 1000;
}

std::string format_distance(std::uint64_t metres) {
  if (metres != 0 && metres % 1000 == 0) return std::to_string(metres / 1000) + "km";
  return std::to_string(metres) + "m";
}

std::string format_duration(std::chrono::milliseconds d) {
  const std::int64_t count = d.count();
  if (count < 0) return std::to_string(count) + "ms";
  if (count == 0) return "0s";
  for (const Unit& unit : kDurationUnits) {
    if (count % unit.factor == 0) {
      return std::to_string(count / unit.factor) + std::string(unit.suffix);
    }
  }
  return std::to_string(count) + "ms";  // Unreachable: the factor 1 always divides.
}

std::string format_size(std::uint64_t bytes) {
  if (bytes == 0) return "0";
  if (bytes % kMebi == 0) return std::to_string(bytes / kMebi) + "m";
  if (bytes % kKibi == 0) return std::to_string(bytes / kKibi) + "k";
  return std::to_string(bytes);
}

}  // namespace gpsrelay::core
