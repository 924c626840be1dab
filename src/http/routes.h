// The HTTP routing table of gpsrelayd as a pure function: which endpoint a
// path names, and whether the method is allowed there (405 needs the Allow
// list). The evhttp layer maps its types to these and acts on the result.
#pragma once

#include <string_view>

namespace gpsrelay::http {

enum class Route { kIngest, kHealth, kReady, kMetrics, kNotFound };
enum class Method { kGet, kHead, kPost, kOther };

inline constexpr std::string_view kIngestPath = "/api/gps/reports";

struct RouteDecision {
  Route route;
  bool method_allowed;
  std::string_view allow;  // value of the Allow header for this route
};

// path is the decoded path without the query string.
RouteDecision route_request(std::string_view path, Method method);

}  // namespace gpsrelay::http
