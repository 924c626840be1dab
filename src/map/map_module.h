// MapModule: the live map page as a module of gpsrelayd (enabled with
// [locations]): GET /map and the files it loads below /map/ (our script and
// styles, config.js, Leaflet and its images), all from memory (MapAssets,
// read once at start-up). The page holds no data: it reads the drivers
// through the locations API, which checks read tokens, so these routes are
// open like /health.
//
// Missing files do not stop the daemon: it logs one warning at start and
// /map answers 503 naming them. Files are not re-read on SIGHUP (a package
// upgrade restarts the service anyway).
#pragma once

#include <memory>

#include "core/config.h"
#include "daemon/module.h"
#include "map/map_assets.h"

namespace gpsrelay::map {

class MapModule : public daemon::Module {
 public:
  // Loads the files from `dirs`; logs a warning when some are missing.
  MapModule(const core::LocationsConfig& locations, const MapDirs& dirs);

  std::string_view name() const override { return "map"; }

  // http::HandlerFactory
  void add_routes(http::RouteTable& routes) const override;
  std::unique_ptr<http::RequestHandler> make_handler(const http::WorkerServices& services) override;

 private:
  // Read-only after construction, so every worker shares it.
  const MapAssets assets_;
};

// The directories the daemon loads from: GPSRELAY_DATA_DIR, else the
// compiled-in data directory; GPSRELAY_LEAFLET_DIR, else Leaflet's.
MapDirs map_dirs_from_environment();

}  // namespace gpsrelay::map
