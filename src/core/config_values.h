// Parsers for the values of gpsrelay.conf: numbers, durations, sizes,
// rates, endpoints, paths, URLs, secrets and fixed choices, and the text
// rules they share (comments, trimming, printable quoting).
//
// Internal to the config subsystem (config.cc, config_keys.cc,
// config_ini.cc); nothing outside src/core/config*.cc includes it. A parser
// knows what a well-formed value is and which range a kind of value allows,
// but not which key it is for or where the text came from: it throws
// ValueError, and the caller adds the key and the file line or variable.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "core/config.h"

namespace gpsrelay::core::config_internal {

// A malformed value. Parsers throw it without knowing where the value came
// from; ConfigBuilder adds the file and line or the variable name.
class ValueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a value may depend on besides its own text.
struct ValueContext {
  std::filesystem::path base_dir;  // Relative paths are taken relative to it.
};

bool is_space(char c);
bool is_control(char c);
std::string_view trim(std::string_view text);

// The text up to the first comment, by the rule in config_ini.h.
std::string_view strip_comment(std::string_view line);

// `text` made safe to quote in a one-line message: no control characters,
// not overly long.
std::string printable(std::string_view text);

std::string upper(std::string_view text);

// Values that did not come through the file reader (environment, resolved
// paths) must still render as a line that reads back the same, or
// --check-config would print a configuration other than the one in effect.
// Throws ValueError for a control character or a comment start.
void check_plain_text(std::string_view value);

// ---- Value parsers. Each throws ValueError saying what was expected. ----

template <typename T>
T parse_integer(std::string_view value, T min, T max) {
  T number{};
  const char* const end = value.data() + value.size();
  const auto [rest, error] = std::from_chars(value.data(), end, number, 10);
  // from_chars accepts a '-' for signed types; a sign is never meant here.
  const bool digits_only = !value.empty() && value.front() != '-' && rest == end;
  if (!digits_only || (error != std::errc{} && error != std::errc::result_out_of_range)) {
    throw ValueError("expected a whole number");
  }
  if (error == std::errc::result_out_of_range || number < min || number > max) {
    throw ValueError("must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return number;
}

std::chrono::milliseconds parse_duration_value(std::string_view value, bool allow_zero);

// Durations separated by commas; an empty value is an empty list.
std::vector<std::chrono::milliseconds> parse_duration_list(std::string_view value);
std::string render_durations(const std::vector<std::chrono::milliseconds>& durations);

std::uint64_t parse_size_value(std::string_view value, std::uint64_t min, std::uint64_t max);

// Metres with a unit: "500m", "50km".
std::uint64_t parse_distance_value(std::string_view value, std::uint64_t min, std::uint64_t max);

// "true" or "false" (also yes/no, on/off, 1/0, as operators write them).
bool parse_bool(std::string_view value);
inline std::string render_bool(bool value) { return value ? "true" : "false"; }

// A non-negative decimal such as "10" or "2.5". Exponents are not accepted,
// so format_rate() writes rates in fixed notation too.
double parse_rate(std::string_view value);
std::string format_rate(double rate);

// "host:port", "[v6]:port", and with `allow_unix` "unix:/path". "*:port" is
// rejected rather than guessed: it could mean all IPv4 or all IPv6 addresses.
Endpoint parse_endpoint(std::string_view value, bool allow_unix);

// An empty value is no endpoint; a set one is host:port or [v6]:port.
std::optional<Endpoint> parse_optional_endpoint(std::string_view value);
std::string render_optional_endpoint(const std::optional<Endpoint>& endpoint);

// Comma-separated host:port endpoints; an empty value is an empty list.
std::vector<Endpoint> parse_endpoint_list(std::string_view value);

// A file path; relative ones are anchored at the config file's directory.
std::string parse_path(const ValueContext& context, std::string_view value);

std::string parse_non_empty(std::string_view value);

// Comma-separated http:// or https:// URLs; an empty value is an empty list.
std::vector<std::string> parse_targets(std::string_view value);
std::string join(const std::vector<std::string>& items);

// Empty, or an http:// or https:// tile URL template holding {z}, {x} and
// {y} (Leaflet's syntax), without whitespace or quotes.
std::string parse_tile_url(std::string_view value);

// Comma-separated web origins, each scheme://host[:port] with http or
// https and nothing after (what browsers send in Origin); lower-cased.
std::vector<std::string> parse_origins(std::string_view value);

// Empty, or a path starting with '/'.
std::string parse_health_path(std::string_view value);

// Passwords come from operators' files; a line break left inside one means
// the wrong file (a PEM, a two-line note), and a NUL would cut it short in
// the C client libraries.
std::string parse_password(std::string_view value);

// "Name: value", sent to every target. Never echoes the value: it is secret.
std::string parse_header(std::string_view value);

// Empty, or an absolute path.
std::string parse_socket_path(std::string_view value);

// One of a fixed set of words, each naming a value of Enum.
template <typename Enum, std::size_t N>
using Choices = std::array<std::pair<std::string_view, Enum>, N>;

template <typename Enum, std::size_t N>
Enum parse_choice(std::string_view value, const Choices<Enum, N>& choices) {
  std::string names;
  for (const auto& [name, choice] : choices) {
    if (value == name) return choice;
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  throw ValueError("expected one of: " + names);
}

template <typename Enum, std::size_t N>
std::string render_choice(Enum value, const Choices<Enum, N>& choices) {
  for (const auto& [name, choice] : choices) {
    if (value == choice) return std::string(name);
  }
  return "";
}

}  // namespace gpsrelay::core::config_internal
