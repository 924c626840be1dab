// The map page's files in memory (see map_assets.h).
#include "map/map_assets.h"

#include <jansson.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "core/file_reader.h"
#include "core/json_handle.h"

namespace gpsrelay::map {
namespace {

// Our files change with a package upgrade at the same URL: revalidate
// every time (cheap with the ETag). Leaflet changes only with its own
// package, rarely: a day is fine.
constexpr const char* kRevalidate = "no-cache";
constexpr const char* kLeafletCache = "public, max-age=86400";

enum class Dir { kData, kLeaflet };

struct FileSpec {
  std::string_view name;  // below /map/
  Dir dir;
  // Paths tried in order below the directory; the first that reads wins.
  std::vector<std::string_view> candidates;
  std::string_view content_type;
};

const std::vector<FileSpec>& file_specs() {
  static const std::vector<FileSpec> specs = {
      {"", Dir::kData, {"map/index.html"}, "text/html; charset=utf-8"},
      {"map.js", Dir::kData, {"map/map.js"}, "text/javascript; charset=utf-8"},
      {"map.css", Dir::kData, {"map/map.css"}, "text/css; charset=utf-8"},
      // Debian's leaflet.js is the unminified build (430 KB) and ships
      // the minified one as leaflet.min.js (140 KB); upstream's and
      // Fedora's leaflet.js is already the minified one.
      {"leaflet/leaflet.js",
       Dir::kLeaflet,
       {"leaflet.min.js", "leaflet.js"},
       "text/javascript; charset=utf-8"},
      {"leaflet/leaflet.css", Dir::kLeaflet, {"leaflet.css"}, "text/css; charset=utf-8"},
      {"leaflet/images/marker-icon.png", Dir::kLeaflet, {"images/marker-icon.png"}, "image/png"},
      {"leaflet/images/marker-icon-2x.png",
       Dir::kLeaflet,
       {"images/marker-icon-2x.png"},
       "image/png"},
      {"leaflet/images/marker-shadow.png",
       Dir::kLeaflet,
       {"images/marker-shadow.png"},
       "image/png"},
      {"leaflet/images/layers.png", Dir::kLeaflet, {"images/layers.png"}, "image/png"},
      {"leaflet/images/layers-2x.png", Dir::kLeaflet, {"images/layers-2x.png"}, "image/png"},
  };
  return specs;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string build_csp(std::string_view map_tiles) {
  std::string images = "'self' data:";
  // The tiles' scheme, not their host: a template such as
  // https://{s}.tile.example/… has no fixed host to name.
  if (map_tiles.starts_with("https://")) images += " https:";
  if (map_tiles.starts_with("http://")) images += " http:";
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + images +
         "; connect-src 'self' ws: wss:; form-action 'self'; base-uri 'none'; "
         "frame-ancestors 'none'";
}

}  // namespace

MapDirs resolve_map_dirs(std::string_view compiled_data_dir, const char* data_override,
                         const char* leaflet_override) {
  const auto set = [](const char* value) { return value != nullptr && *value != '\0'; };
  return {set(data_override) ? std::filesystem::path(data_override)
                             : std::filesystem::path(compiled_data_dir),
          set(leaflet_override) ? std::filesystem::path(leaflet_override)
                                : std::filesystem::path(kDefaultLeafletDir)};
}

MapAssets MapAssets::load(const MapDirs& dirs, std::string_view map_tiles) {
  MapAssets assets;
  for (const FileSpec& spec : file_specs()) {
    const std::filesystem::path& dir = spec.dir == Dir::kData ? dirs.data_dir : dirs.leaflet_dir;
    const char* cache = spec.dir == Dir::kData ? kRevalidate : kLeafletCache;
    std::string error;
    for (const std::string_view candidate : spec.candidates) {
      const std::string path = (dir / candidate).string();
      try {
        std::string body =
            core::read_bounded_file(path, kMaxFileBytes, core::FileKinds::kRegularOnly);
        std::string etag = etag_of(body);
        assets.files_.emplace(
            std::string(spec.name),
            MapAsset{std::move(body), std::string(spec.content_type), std::move(etag), cache});
        error.clear();
        break;
      } catch (const core::FileReadError& e) {
        error = "cannot read " + path + ": " + e.what();
      }
    }
    if (!error.empty()) {
      if (!assets.problem_.empty()) assets.problem_ += "; ";
      assets.problem_ += error;
    }
  }
  std::string config = render_map_config(map_tiles);
  std::string etag = etag_of(config);
  assets.files_.emplace("config.js", MapAsset{std::move(config), "text/javascript; charset=utf-8",
                                              std::move(etag), kRevalidate});
  assets.content_security_policy_ = build_csp(map_tiles);
  return assets;
}

const MapAsset* MapAssets::find(std::string_view name) const {
  if (!complete()) return nullptr;
  const auto it = files_.find(name);
  return it != files_.end() ? &it->second : nullptr;
}

std::string render_map_config(std::string_view map_tiles) {
  const core::JsonPtr config(
      json_pack("{s:s%}", "tiles", map_tiles.data(), static_cast<size_t>(map_tiles.size())));
  const std::unique_ptr<char, decltype(&std::free)> text(
      config ? json_dumps(config.get(), JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH)
             : nullptr,
      &std::free);
  // Only a value that is not UTF-8 fails to pack; the config parser lets
  // none through, and the page then simply shows no tiles.
  const std::string json = text ? std::string(text.get()) : std::string(R"({"tiles":""})");
  return "// Generated by gpsrelayd from its configuration.\nwindow.gpsrelayMapConfig = " + json +
         ";\n";
}

std::string etag_of(std::string_view body) {
  // FNV-1a, 64 bits: a validator, not a defence against anyone.
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : body) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  std::array<char, 20> text{};
  std::snprintf(text.data(), text.size(), "\"%016llx\"", static_cast<unsigned long long>(hash));
  return std::string(text.data());
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const std::size_t comma = if_none_match.find(',');
    std::string_view candidate = trim(if_none_match.substr(0, comma));
    if_none_match =
        comma == std::string_view::npos ? std::string_view() : if_none_match.substr(comma + 1);
    if (candidate == "*") return true;
    if (candidate.starts_with("W/")) candidate.remove_prefix(2);
    if (!candidate.empty() && candidate == etag) return true;
  }
  return false;
}

}  // namespace gpsrelay::map
