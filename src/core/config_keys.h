// The key table of gpsrelay.conf: one row per key, in the shipped file's
// order, saying its section and name, whether it is a secret, how to parse
// its value into a Config and how to render it back.
//
// Internal to the config subsystem (config.cc, config_ini.cc); nothing
// outside src/core/config*.cc includes it. The table is the single list of
// keys: the file reader, the environment overrides and render_config() all
// walk it, so a key added here is known everywhere. Values that depend on
// other keys are checked by ConfigBuilder::finish() in config.cc, not here.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/config_values.h"

namespace gpsrelay::core::config_internal {

struct KeySpec {
  std::string_view section;
  std::string_view name;
  // Set for a secret: it is masked when rendered, never quoted in messages,
  // and may be given as "<name>_file = PATH" instead. Applied only to a
  // non-empty value.
  std::string (*mask)(std::string_view value);
  // Stores the parsed `value` into `config`; throws ValueError.
  void (*apply)(const ValueContext& context, std::string_view value, Config& config);
  std::string (*render)(const Config& config);

  bool secret() const { return mask != nullptr; }
};

// Every key, grouped by section, sections in the shipped file's order.
std::span<const KeySpec> config_keys();

// True when some key lives in [name].
bool is_section(std::string_view name);

// The row for `name` in [section], or nullptr for an unknown key.
const KeySpec* find_key(std::string_view section, std::string_view name);

}  // namespace gpsrelay::core::config_internal
