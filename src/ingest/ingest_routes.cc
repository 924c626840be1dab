// Report ingest's routes (see ingest_routes.h).
#include "ingest/ingest_routes.h"

namespace gpsrelay::ingest {

void add_ingest_routes(http::RouteTable& routes) {
  routes.add(http::Method::kPost, kReportsPath, kPostReport, http::RouteKind::kIngest);
}

}  // namespace gpsrelay::ingest
