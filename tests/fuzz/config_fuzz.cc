// libFuzzer target for parse_config() and render_config().
//
// Checks two promises of core/config.h on arbitrary input: parsing either
// succeeds or throws ConfigError (any other exception escapes and is
// reported as a crash), and the rendering of a successful parse parses back
// to the same rendering. It does not check messages or field values; the
// unit tests do that.
//
// Input layout: the config text, optionally followed by kEnvMarker and
// environment entries, one "NAME=VALUE" per line, so the fuzzer can reach
// the override paths too.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "core/config.h"

namespace {

using gpsrelay::core::Config;
using gpsrelay::core::ConfigError;
using gpsrelay::core::EnvLookup;

constexpr std::string_view kEnvMarker = "\n@@ENV\n";

EnvLookup lookup_in(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

std::map<std::string, std::string> parse_entries(std::string_view text) {
  std::map<std::string, std::string> variables;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view entry = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    const std::size_t equals = entry.find('=');
    if (equals == std::string_view::npos) continue;
    variables.emplace(std::string(entry.substr(0, equals)), std::string(entry.substr(equals + 1)));
  }
  return variables;
}

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "config_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t marker = input.find(kEnvMarker);
  const std::string_view text = input.substr(0, marker);
  const EnvLookup env = lookup_in(marker == std::string_view::npos
                                      ? std::map<std::string, std::string>()
                                      : parse_entries(input.substr(marker + kEnvMarker.size())));
  Config config;
  try {
    config = gpsrelay::core::parse_config(text, "fuzz.conf", env);
  } catch (const ConfigError&) {
    return 0;
  }
  const std::string rendered = gpsrelay::core::render_config(config);
  std::string rendered_again;
  try {
    rendered_again = gpsrelay::core::render_config(
        gpsrelay::core::parse_config(rendered, "fuzz.conf", lookup_in({})));
  } catch (const ConfigError& error) {
    fail("the rendering of a valid config does not parse", rendered + "\n" + error.what());
  }
  if (rendered_again != rendered) {
    fail("rendering is not stable", rendered + "\n---- became ----\n" + rendered_again);
  }
  return 0;
}
