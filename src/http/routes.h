// The routes the HTTP server answers itself — the operator endpoints —
// registered on the Router that the modules' routes join (ingest, locations:
// see http::RouteTable). The evhttp layer matches a request against the
// table and dispatches on the handler id.
#pragma once

#include <string_view>

#include "http/router.h"

namespace gpsrelay::http {

enum class CoreRoute { kHealth, kReady, kMetrics };

// GET (and HEAD) /health, /ready, /metrics, and /v1/admin/health and
// /v1/admin/metrics as aliases.
void add_core_routes(Router& router);

}  // namespace gpsrelay::http
