// Tests for the daemon's route table without the location module: the
// operator endpoints and report ingest, every endpoint with its methods and
// Allow list, matched through the Router as a request would be; and the
// RouteTable that places a module's routes in its own id range.
#include "http/routes.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "ingest/ingest_routes.h"

namespace gpsrelay::http {
namespace {

using Result = RouteMatch::Result;

constexpr int kIngestFirstId = RouteTable::kMaxRoutes;

Router core_routes() {
  Router router;
  add_core_routes(router);
  std::vector<RouteKind> kinds;
  RouteTable ingest(router, kinds, kIngestFirstId);
  ingest::add_ingest_routes(ingest);
  return router;
}

TEST(RoutesTest, IngestAcceptsOnlyPost) {
  const Router router = core_routes();
  const RouteMatch post = router.match(Method::kPost, "/api/gps/reports");
  EXPECT_EQ(post.result, Result::kFound);
  EXPECT_EQ(post.handler, kIngestFirstId + ingest::kPostReport);
  const RouteMatch get = router.match(Method::kGet, "/api/gps/reports");
  EXPECT_EQ(get.result, Result::kMethodNotAllowed);
  EXPECT_EQ(get.allow, "POST");
  EXPECT_EQ(router.match(Method::kOther, "/api/gps/reports").result, Result::kMethodNotAllowed);
}

TEST(RoutesTest, OperatorEndpointsAcceptGetAndHead) {
  const Router router = core_routes();
  for (const char* path :
       {"/health", "/ready", "/metrics", "/v1/admin/health", "/v1/admin/metrics"}) {
    EXPECT_EQ(router.match(Method::kGet, path).result, Result::kFound) << path;
    EXPECT_EQ(router.match(Method::kHead, path).result, Result::kFound) << path;
    const RouteMatch post = router.match(Method::kPost, path);
    EXPECT_EQ(post.result, Result::kMethodNotAllowed) << path;
    EXPECT_EQ(post.allow, "GET, HEAD") << path;
  }
  EXPECT_EQ(router.match(Method::kGet, "/health").handler, static_cast<int>(CoreRoute::kHealth));
  EXPECT_EQ(router.match(Method::kGet, "/ready").handler, static_cast<int>(CoreRoute::kReady));
  EXPECT_EQ(router.match(Method::kGet, "/metrics").handler, static_cast<int>(CoreRoute::kMetrics));
  EXPECT_EQ(router.match(Method::kGet, "/v1/admin/health").handler,
            static_cast<int>(CoreRoute::kHealth));
  EXPECT_EQ(router.match(Method::kGet, "/v1/admin/metrics").handler,
            static_cast<int>(CoreRoute::kMetrics));
}

TEST(RoutesTest, PathsMatchExactly) {
  const Router router = core_routes();
  EXPECT_EQ(router.match(Method::kGet, "/").result, Result::kNotFound);
  EXPECT_EQ(router.match(Method::kPost, "").result, Result::kNotFound);
  EXPECT_EQ(router.match(Method::kPost, "/api/gps/reports/").result, Result::kNotFound);
  EXPECT_EQ(router.match(Method::kPost, "/API/GPS/REPORTS").result, Result::kNotFound);
  EXPECT_EQ(router.match(Method::kGet, "/healthz").result, Result::kNotFound);
}

TEST(RoutesTest, RouteTablePlacesAModulesIdsInItsRangeWithTheirKinds) {
  Router router;
  std::vector<RouteKind> kinds;
  RouteTable module(router, kinds, 2 * RouteTable::kMaxRoutes);
  module.add(Method::kGet, "/api/v1/things/{id}", 3, RouteKind::kRead);
  module.add(Method::kPost, "/api/v1/things/{id}", 4, RouteKind::kIngest);
  const RouteMatch get = router.match(Method::kGet, "/api/v1/things/x");
  EXPECT_EQ(get.handler, 2003);
  ASSERT_GT(kinds.size(), 2004u);
  EXPECT_EQ(kinds[2003], RouteKind::kRead);
  EXPECT_EQ(kinds[2004], RouteKind::kIngest);
  EXPECT_THROW(module.add(Method::kGet, "/x", RouteTable::kMaxRoutes, RouteKind::kRead),
               std::invalid_argument);
  EXPECT_THROW(module.add(Method::kGet, "/x", -1, RouteKind::kRead), std::invalid_argument);
}

}  // namespace
}  // namespace gpsrelay::http
