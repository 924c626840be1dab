// The live map page's routes (see map_module.h).
#include "map/map_module.h"

#include <cstdlib>
#include <string>

#include "core/log.h"

#ifndef GPSRELAY_DATA_DIR
#error "GPSRELAY_DATA_DIR (the installed data directory) must be defined by the build"
#endif

namespace gpsrelay::map {
namespace {

enum MapRoute : int { kPage, kFile, kLeaflet, kLeafletImage };

class MapHandler final : public http::RequestHandler {
 public:
  explicit MapHandler(const MapAssets& assets) : assets_(assets) {}

  void handle(int route, http::Exchange& exchange) override {
    if (!assets_.complete()) {
      exchange.reply_error(503, "the map page is not installed: " + assets_.problem());
      return;
    }
    const std::string_view file = exchange.route().param("file").value_or("");
    std::string name;
    switch (static_cast<MapRoute>(route)) {
      case kPage:
        break;
      case kFile:
        name = file;
        break;
      case kLeaflet:
        name = "leaflet/" + std::string(file);
        break;
      case kLeafletImage:
        name = "leaflet/images/" + std::string(file);
        break;
    }
    const MapAsset* asset = assets_.find(name);
    if (asset == nullptr) {
      exchange.reply_error(404, "no such file");
      return;
    }
    exchange.add_header("ETag", asset->etag.c_str());
    exchange.add_header("Cache-Control", asset->cache_control);
    exchange.add_header("X-Content-Type-Options", "nosniff");
    if (route == kPage) {
      exchange.add_header("Content-Security-Policy", assets_.content_security_policy().c_str());
      // The page's URL may carry a read token: never send it on (to a
      // tile server, or anywhere a link leads).
      exchange.add_header("Referrer-Policy", "no-referrer");
    }
    const std::optional<std::string_view> if_none_match = exchange.header("If-None-Match");
    if (if_none_match && etag_matches(*if_none_match, asset->etag)) {
      exchange.reply(304, {}, asset->content_type.c_str());
      return;
    }
    exchange.reply(200, asset->body, asset->content_type.c_str());
  }

 private:
  const MapAssets& assets_;
};

}  // namespace

MapModule::MapModule(const core::LocationsConfig& locations, const MapDirs& dirs)
    : assets_(MapAssets::load(dirs, locations.map_tiles)) {
  if (!assets_.complete()) {
    core::log_warning(
        "the map page (GET /map) is unavailable and answers 503: " + assets_.problem() +
        " (install libjs-leaflet, or set GPSRELAY_DATA_DIR / GPSRELAY_LEAFLET_DIR)");
  }
}

void MapModule::add_routes(http::RouteTable& routes) const {
  using http::Method;
  using http::RouteKind;
  // Operator kind: the files hold no data (the API calls the page makes
  // check read tokens), and a browser cannot add a token header to the
  // requests its <script> and <link> tags make.
  routes.add(Method::kGet, "/map", kPage, RouteKind::kOperator);
  routes.add(Method::kGet, "/map/{file}", kFile, RouteKind::kOperator);
  routes.add(Method::kGet, "/map/leaflet/{file}", kLeaflet, RouteKind::kOperator);
  routes.add(Method::kGet, "/map/leaflet/images/{file}", kLeafletImage, RouteKind::kOperator);
}

std::unique_ptr<http::RequestHandler> MapModule::make_handler(const http::WorkerServices&) {
  return std::make_unique<MapHandler>(assets_);
}

MapDirs map_dirs_from_environment() {
  return resolve_map_dirs(GPSRELAY_DATA_DIR, std::getenv("GPSRELAY_DATA_DIR"),
                          std::getenv("GPSRELAY_LEAFLET_DIR"));
}

}  // namespace gpsrelay::map
