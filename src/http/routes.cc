// The core daemon's routes (see routes.h).
#include "http/routes.h"

namespace gpsrelay::http {

void add_core_routes(Router& router) {
  router.add(Method::kGet, "/health", static_cast<int>(CoreRoute::kHealth));
  router.add(Method::kGet, "/ready", static_cast<int>(CoreRoute::kReady));
  router.add(Method::kGet, "/metrics", static_cast<int>(CoreRoute::kMetrics));
  // The same pages where the topics API's clients (the seed design's
  // admin API) look for them.
  router.add(Method::kGet, "/v1/admin/health", static_cast<int>(CoreRoute::kHealth));
  router.add(Method::kGet, "/v1/admin/metrics", static_cast<int>(CoreRoute::kMetrics));
}

}  // namespace gpsrelay::http
