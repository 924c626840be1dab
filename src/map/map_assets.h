// MapAssets: the files of the live map page (GET /map), read into memory
// once at start-up: our page (index.html, map.js, map.css from the data
// directory's map/ folder), Leaflet from the distribution's package
// (libjs-leaflet, js-leaflet) and the generated config.js that carries
// locations.map_tiles. Each file comes with its content type, an ETag and
// a Cache-Control value.
//
// Pure: files in, bytes out. It does not serve HTTP (map_module.h does),
// read the environment (callers pass the directories in) or reload: the
// set of files is fixed here, so a request can only ever name one of them.
// Missing files do not throw: the set is then incomplete and says which.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace gpsrelay::map {

// Where Debian and Fedora install Leaflet.
inline constexpr std::string_view kDefaultLeafletDir = "/usr/share/javascript/leaflet";

struct MapDirs {
  std::filesystem::path data_dir;     // holds map/index.html, …
  std::filesystem::path leaflet_dir;  // holds leaflet.js, leaflet.css, images/
};

// The directories to load from: `data_override` (GPSRELAY_DATA_DIR) or
// else `compiled_data_dir`; `leaflet_override` (GPSRELAY_LEAFLET_DIR) or
// else kDefaultLeafletDir. A null or empty override counts as unset.
MapDirs resolve_map_dirs(std::string_view compiled_data_dir, const char* data_override,
                         const char* leaflet_override);

struct MapAsset {
  std::string body;
  std::string content_type;
  std::string etag;           // a quoted strong validator: "\"0123abcd…\""
  const char* cache_control;  // a static string
};

class MapAssets {
 public:
  // Largest file read; Leaflet's unminified build is about 430 KB.
  static constexpr std::size_t kMaxFileBytes = 2 * 1024 * 1024;

  // Reads every file. `map_tiles` is locations.map_tiles as the config
  // validated it (empty, or an http(s) URL template with no quotes).
  static MapAssets load(const MapDirs& dirs, std::string_view map_tiles);

  // The file at `name` below /map/: "" (the page itself), "map.js",
  // "config.js", "leaflet/leaflet.js", "leaflet/images/marker-icon.png", …
  // nullptr for a name that is not one of them, and for every name while
  // the set is incomplete.
  const MapAsset* find(std::string_view name) const;

  // Empty when every file was read; else which could not be, e.g.
  // "cannot read /usr/share/gpsrelay/map/map.js: cannot open: No such file
  // or directory" (each missing file, joined by "; ").
  const std::string& problem() const { return problem_; }
  bool complete() const { return problem_.empty(); }

  // The page's Content-Security-Policy: its own scripts, styles and API
  // only, plus images from the tile server's scheme when tiles are set.
  const std::string& content_security_policy() const { return content_security_policy_; }

 private:
  std::map<std::string, MapAsset, std::less<>> files_;
  std::string problem_;
  std::string content_security_policy_;
};

// config.js: the page's settings as a script, `window.gpsrelayMapConfig = {…};`.
std::string render_map_config(std::string_view map_tiles);

// A strong ETag for `body` (a hash of it, quoted).
std::string etag_of(std::string_view body);

// True when an If-None-Match header value lists `etag` (or is "*"): the
// client's copy is current and a 304 will do. Weak validators (W/"…")
// match too, as RFC 9110 asks for If-None-Match.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace gpsrelay::map
