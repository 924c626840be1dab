// The routes of the core daemon — report ingest and the operator endpoints —
// registered on a Router like any module's. The evhttp layer matches a
// request against the table and dispatches on the handler id.
#pragma once

#include <string_view>

#include "http/router.h"

namespace gpsrelay::http {

enum class CoreRoute { kIngest, kHealth, kReady, kMetrics };

inline constexpr std::string_view kIngestPath = "/api/gps/reports";

// POST /api/gps/reports; GET (and HEAD) /health, /ready, /metrics.
void add_core_routes(Router& router);

}  // namespace gpsrelay::http
