// The routes of report ingest: POST /api/gps/reports, the raw report path
// of the contract ("HTTP API — ingest"). Pure, so the route table is
// unit-tested with the core routes.
#pragma once

#include <string_view>

#include "http/router.h"

namespace gpsrelay::ingest {

inline constexpr std::string_view kReportsPath = "/api/gps/reports";

enum IngestRoute : int { kPostReport };

void add_ingest_routes(http::RouteTable& routes);

}  // namespace gpsrelay::ingest
