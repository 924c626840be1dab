// Loading, validation and rendering of gpsrelay.conf (see config.h).
//
// Owns the environment overrides, the *_file secrets, the checks that span
// several keys, and the error locations. The pieces it builds on are
// internal to the config subsystem: the value parsers (config_values.h),
// the key table (config_keys.h) and the INI adapter over libinih, which
// also states the file's comment rule (config_ini.h). It does not log,
// touch the network, or look inside certificate, key or tokens files;
// their users do that.
#include "core/config.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>
#include <utility>

#include "core/config_ini.h"
#include "core/config_keys.h"
#include "core/config_values.h"
#include "core/file_reader.h"

namespace gpsrelay::core {
namespace {

using config_internal::check_plain_text;
using config_internal::config_keys;
using config_internal::find_key;
using config_internal::KeySpec;
using config_internal::parse_path;
using config_internal::printable;
using config_internal::scan_ini;
using config_internal::trim;
using config_internal::upper;
using config_internal::ValueContext;
using config_internal::ValueError;

constexpr std::string_view kEnvPrefix = "GPSRELAY_";
constexpr std::string_view kFileSuffix = "_file";

// Far above any real config or secret: a larger file is the wrong one (a
// log, an image), and reading it whole would only delay the error.
constexpr std::size_t kMaxConfigBytes = 1024 * 1024;
constexpr std::size_t kMaxSecretBytes = 64 * 1024;

// Where a value came from: a file line, an environment variable, or (line 0)
// the file as a whole.
struct Origin {
  std::string file;
  int line = 0;
  std::string env_var;

  std::string describe() const {
    if (!env_var.empty()) return "environment " + env_var;
    if (line > 0) return file + ":" + std::to_string(line);
    return file;
  }
};

std::string env_name(const KeySpec& spec, std::string_view suffix = "") {
  return std::string(kEnvPrefix) + upper(spec.section) + "_" + upper(spec.name) + upper(suffix);
}

std::string key_id(const KeySpec& spec) {
  return std::string(spec.section) + "." + std::string(spec.name);
}

std::filesystem::path base_directory(const std::string& origin_name) {
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(origin_name, error);
  if (error) return std::filesystem::path(origin_name).parent_path();
  return absolute.parent_path();
}

// Collects values from the file and the environment into a Config,
// remembering where each came from so that errors found later (a missing
// tls_cert) can still point at the line that caused them.
class ConfigBuilder {
 public:
  explicit ConfigBuilder(const std::string& origin_name)
      : origin_name_(origin_name), context_{base_directory(origin_name)} {}

  ConfigError error_at(int line, const std::string& message) const {
    return ConfigError(Origin{origin_name_, line, ""}.describe(), message);
  }

  void set_from_file(std::string_view section, std::string_view name, std::string_view value,
                     int line) {
    if (section.empty()) {
      throw error_at(line, "key '" + printable(name) + "' is outside of any [section]");
    }
    const KeySpec* spec = find_key(section, name);
    bool file_form = false;  // "password_file" rather than "password".
    if (spec == nullptr && name.ends_with(kFileSuffix)) {
      spec = find_key(section, name.substr(0, name.size() - kFileSuffix.size()));
      if (spec != nullptr && !spec->secret()) spec = nullptr;
      file_form = spec != nullptr;
    }
    if (spec == nullptr) {
      throw error_at(line,
                     "unknown key '" + printable(name) + "' in [" + std::string(section) + "]");
    }
    const std::string id = std::string(section) + "." + std::string(name);
    if (const auto seen = file_lines_.find(id); seen != file_lines_.end()) {
      throw error_at(line, "duplicate key '" + std::string(name) + "' in [" + std::string(section) +
                               "], first set at line " + std::to_string(seen->second));
    }
    file_lines_.emplace(id, line);
    const Origin origin{origin_name_, line, ""};
    if (!spec->secret()) {
      apply(*spec, value, origin);
      return;
    }
    // Either form may be left empty (as in the shipped file); only two
    // non-empty ones conflict.
    if (value.empty()) return;
    if (const auto other = secret_lines_.find(key_id(*spec)); other != secret_lines_.end()) {
      throw error_at(line, "both '" + std::string(spec->name) + "' and '" +
                               std::string(spec->name) + std::string(kFileSuffix) +
                               "' are set in [" + std::string(section) + "] (line " +
                               std::to_string(other->second) + "); keep one");
    }
    secret_lines_.emplace(key_id(*spec), line);
    apply_secret(*spec, file_form, value, origin);
  }

  // Environment variables win over the file. For a secret, either variable
  // (inline or _FILE) replaces whatever the file said in either form.
  void apply_environment(const EnvLookup& env) {
    for (const KeySpec& spec : config_keys()) {
      const std::string name = env_name(spec);
      const std::optional<std::string> inline_value = env(name);
      if (!spec.secret()) {
        if (inline_value) apply(spec, trim(*inline_value), Origin{"", 0, name});
        continue;
      }
      const std::string file_name = env_name(spec, kFileSuffix);
      const std::optional<std::string> file_value = env(file_name);
      const bool inline_set = inline_value && !trim(*inline_value).empty();
      const bool file_set = file_value && !trim(*file_value).empty();
      if (inline_set && file_set) {
        std::string message = "both " + name;
        message += " and " + file_name;
        message += " are set; keep one";
        throw ConfigError(Origin{"", 0, file_name}.describe(), message);
      }
      if (file_set) {
        apply_secret(spec, true, trim(*file_value), Origin{"", 0, file_name});
      } else if (inline_value || file_value) {
        apply_secret(spec, false, inline_value ? trim(*inline_value) : "",
                     Origin{"", 0, inline_value ? name : file_name});
      }
    }
  }

  // Resolves values that depend on others and checks the keys that are
  // required only in combination.
  Config finish() {
    HttpConfig& http = config_.http;
    if (http.rate_limit > 0 && http.rate_burst == 0)
      http.rate_burst = std::max(http.rate_limit, 1.0);
    // Otherwise one largest body could never be admitted.
    if (http.max_inflight_bytes < http.max_body_bytes) {
      throw ConfigError(origin_of("http.max_inflight_bytes").describe(),
                        "max_inflight_bytes must be at least max_body_size");
    }
    if (http.tls_listen) {
      for (const auto& [key, value] :
           {std::pair{"tls_cert", &http.tls_cert}, std::pair{"tls_key", &http.tls_key}}) {
        if (value->empty()) {
          throw ConfigError(origin_of("http.tls_listen").describe(),
                            std::string("tls_listen is set, so [http] ") + key + " is required");
        }
      }
    }
    if (config_.grpc.tls) {
      for (const auto& [key, value] :
           {std::pair{"tls_cert", &http.tls_cert}, std::pair{"tls_key", &http.tls_key}}) {
        if (value->empty()) {
          throw ConfigError(origin_of("grpc.tls").describe(),
                            std::string("tls = true needs [http] ") + key);
        }
      }
    }
    if (config_.auth.mode == AuthConfig::Mode::kToken && config_.auth.tokens_file.empty()) {
      throw ConfigError(origin_of("auth.mode").describe(), "mode = token needs [auth] tokens_file");
    }
    const LocationsConfig& locations = config_.locations;
    if (locations.enabled && locations.group == config_.redis.group) {
      // One group would split the entries between forwarding and locations.
      throw ConfigError(origin_of("locations.group").describe(),
                        "group must differ from [redis] group");
    }
    if (config_.events.enabled && config_.events.values_stream == config_.redis.stream) {
      // Value records are not reports: forwarding would post them upstream.
      throw ConfigError(origin_of("events.values_stream").describe(),
                        "values_stream must differ from [redis] stream");
    }
    if (locations.osmand_listen &&
        (*locations.osmand_listen == http.listen || locations.osmand_listen == http.tls_listen)) {
      throw ConfigError(origin_of("locations.osmand_listen").describe(),
                        "osmand_listen must differ from [http] listen and tls_listen");
    }
    return std::move(config_);
  }

 private:
  void apply(const KeySpec& spec, std::string_view value, const Origin& origin) {
    try {
      check_plain_text(value);
      spec.apply(context_, value, config_);
    } catch (const ValueError& e) {
      throw ConfigError(origin.describe(), "invalid value '" + printable(value) + "' for '" +
                                               std::string(spec.name) + "' in [" +
                                               std::string(spec.section) + "]: " + e.what());
    }
    origins_[key_id(spec)] = origin;
  }

  // `value` is the secret itself, or with `from_file` the path holding it.
  void apply_secret(const KeySpec& spec, bool from_file, std::string_view value,
                    const Origin& origin) {
    const std::string where = "' in [" + std::string(spec.section) + "]";
    std::string secret(value);
    std::string source;
    if (from_file) {
      std::string path(value);
      try {
        path = parse_path(context_, value);
        // A FIFO or a device such as /dev/stdin would block start-up or
        // yield an endless value.
        secret = read_bounded_file(path, kMaxSecretBytes, FileKinds::kRegularOnly);
      } catch (const std::runtime_error& e) {  // ValueError or FileReadError.
        throw ConfigError(origin.describe(), "cannot use '" + std::string(spec.name) +
                                                 std::string(kFileSuffix) + where + ": '" +
                                                 printable(path) + "' " + e.what());
      }
      // Editors end files with a newline; it is not part of the secret.
      if (secret.ends_with('\n')) secret.pop_back();
      if (secret.ends_with('\r')) secret.pop_back();
      source = " (read from '" + printable(path) + "')";
    }
    try {
      spec.apply(context_, secret, config_);
    } catch (const ValueError& e) {
      throw ConfigError(origin.describe(), "invalid value for '" + std::string(spec.name) + where +
                                               source + ": " + e.what());
    }
    origins_[key_id(spec)] = origin;
  }

  Origin origin_of(const std::string& id) const {
    const auto found = origins_.find(id);
    return found != origins_.end() ? found->second : Origin{origin_name_, 0, ""};
  }

  std::string origin_name_;
  ValueContext context_;
  Config config_;
  std::map<std::string, int> file_lines_;    // "section.name" as written -> line.
  std::map<std::string, int> secret_lines_;  // "section.secret" -> line of its non-empty form.
  std::map<std::string, Origin> origins_;    // "section.name" -> source of the effective value.
};

}  // namespace

std::string Endpoint::to_string() const {
  if (!unix_path.empty()) return "unix:" + unix_path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string to_string(const std::vector<Endpoint>& endpoints) {
  std::string out;
  for (const Endpoint& endpoint : endpoints) out += (out.empty() ? "" : ",") + endpoint.to_string();
  return out;
}

std::string mysql_address(const MysqlConfig& mysql) {
  if (!mysql.socket.empty()) return "unix:" + mysql.socket;
  const bool ipv6 = mysql.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + mysql.host + "]" : mysql.host) + ":" + std::to_string(mysql.port);
}

unsigned default_thread_count() { return std::max(1u, std::thread::hardware_concurrency()); }

ConfigError::ConfigError(const std::string& where, const std::string& message)
    : std::runtime_error(where + ": " + message), where_(where), message_(message) {}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Config load_config(const std::string& path, const EnvLookup& env) {
  std::string text;
  try {
    text = read_bounded_file(path, kMaxConfigBytes, FileKinds::kAnyButDirectory);
  } catch (const FileReadError& e) {
    throw ConfigError(path, e.what());
  }
  return parse_config(text, path, env);
}

Config parse_config(std::string_view text, const std::string& origin_name, const EnvLookup& env) {
  ConfigBuilder builder(origin_name);
  scan_ini(text, origin_name,
           [&builder](std::string_view section, std::string_view name, std::string_view value,
                      int line) { builder.set_from_file(section, name, value, line); });
  if (env) builder.apply_environment(env);
  return builder.finish();
}

std::string render_config(const Config& config) {
  std::string out;
  std::string_view section;
  for (const KeySpec& spec : config_keys()) {
    if (spec.section != section) {
      if (!out.empty()) out += '\n';
      section = spec.section;
      out += "[" + std::string(section) + "]\n";
    }
    std::string value = spec.render(config);
    if (spec.secret() && !value.empty()) value = spec.mask(value);
    out += std::string(spec.name) + (value.empty() ? " =" : " = " + value) + "\n";
  }
  return out;
}

}  // namespace gpsrelay::core
