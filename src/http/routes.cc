// Routing table (see routes.h).
#include "http/routes.h"

namespace gpsrelay::http {

RouteDecision route_request(std::string_view path, Method method) {
  if (path == kIngestPath) return {Route::kIngest, method == Method::kPost, "POST"};
  const bool is_read = method == Method::kGet || method == Method::kHead;
  if (path == "/health") return {Route::kHealth, is_read, "GET, HEAD"};
  if (path == "/ready") return {Route::kReady, is_read, "GET, HEAD"};
  if (path == "/metrics") return {Route::kMetrics, is_read, "GET, HEAD"};
  return {Route::kNotFound, true, ""};
}

}  // namespace gpsrelay::http
