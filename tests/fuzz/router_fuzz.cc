// libFuzzer target for the router: any path, with any method, against a
// table shaped like gpsrelayd's (literals, parameters, a literal beside a
// parameter). It must not crash, a match's parameters must be views into
// the path without '/', and a found route must name a registered handler.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "http/router.h"

namespace {

using gpsrelay::http::Method;
using gpsrelay::http::RouteMatch;
using gpsrelay::http::Router;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "violated: %s\n", what);
    std::abort();
  }
}

const Router& table() {
  static const Router router = [] {
    Router r;
    r.add(Method::kPost, "/api/gps/reports", 0);
    r.add(Method::kGet, "/health", 1);
    r.add(Method::kGet, "/api/v1/drivers/{driver_id}/location", 2);
    r.add(Method::kPost, "/api/v1/drivers/{driver_id}/location", 3);
    r.add(Method::kGet, "/api/v1/drivers/{driver_id}/route", 4);
    r.add(Method::kGet, "/api/v1/drivers/nearby", 5);
    r.add(Method::kGet, "/api/v1/orders/{order_id}/driver-location", 6);
    r.add(Method::kPost, "/v1/topics/{topic}/groups/{group}/consumers/{consumer}/poll", 7);
    r.add(Method::kGet, "/", 8);
    return r;
  }();
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto method = static_cast<Method>(data[0] % 8);
  const std::string_view path(reinterpret_cast<const char*>(data + 1), size - 1);
  const RouteMatch match = table().match(method, path);
  check(match.param_count <= RouteMatch::kMaxParams, "at most kMaxParams parameters");
  for (std::size_t i = 0; i < match.param_count; ++i) {
    const std::string_view value = match.params[i].value;
    check(!value.empty(), "parameters are not empty");
    check(value.data() >= path.data() && value.data() + value.size() <= path.data() + path.size(),
          "parameters are views into the path");
    check(value.find('/') == std::string_view::npos, "a parameter is one segment");
  }
  if (match.result == RouteMatch::Result::kFound) {
    check(match.handler >= 0 && match.handler <= 8, "a found route names a handler");
    check(!match.allow.empty(), "a found route has an Allow list");
  } else if (match.result == RouteMatch::Result::kNotFound) {
    check(match.param_count == 0, "no parameters without a route");
  }
  return 0;
}
