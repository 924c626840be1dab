// Tests for the core daemon's route table: every endpoint, its methods and
// Allow list, matched through the Router as a request would be.
#include "http/routes.h"

#include <gtest/gtest.h>

namespace gpsrelay::http {
namespace {

using Result = RouteMatch::Result;

Router core_routes() {
  Router router;
  add_core_routes(router);
  return router;
}

TEST(RoutesTest, IngestAcceptsOnlyPost) {
  const Router router = core_routes();
  const RouteMatch post = router.match(Method::kPost, "/api/gps/reports");
  EXPECT_EQ(post.result, Result::kFound);
  EXPECT_EQ(post.handler, static_cast<int>(CoreRoute::kIngest));
  const RouteMatch get = router.match(Method::kGet, "/api/gps/reports");
  EXPECT_EQ(get.result, Result::kMethodNotAllowed);
  EXPECT_EQ(get.allow, "POST");
  EXPECT_EQ(router.match(Method::kOther, "/api/gps/reports").result, Result::kMethodNotAllowed);
}

TEST(RoutesTest, OperatorEndpointsAcceptGetAndHead) {
  const Router router = core_routes();
  for (const char* path : {"/health", "/ready", "/metrics"}) {
    EXPECT_EQ(router.match(Method::kGet, path).result, Result::kFound) << path;
    EXPECT_EQ(router.match(Method::kHead, path).result, Result::kFound) << path;
    const RouteMatch post = router.match(Method::kPost, path);
    EXPECT_EQ(post.result, Result::kMethodNotAllowed) << path;
    EXPECT_EQ(post.allow, "GET, HEAD") << path;
  }
  EXPECT_EQ(router.match(Method::kGet, "/health").handler, static_cast<int>(CoreRoute::kHealth));
  EXPECT_EQ(router.match(Method::kGet, "/ready").handler, static_cast<int>(CoreRoute::kReady));
  EXPECT_EQ(router.match(Method::kGet, "/metrics").handler, static_cast<int>(CoreRoute::kMetrics));
}

TEST(RoutesTest, PathsMatchExactly) {
  const Router router = core_routes();
  EXPECT_EQ(router.match(Method::kGet, "/").result, Result::kNotFound);
  EXPECT_EQ(router.match(Method::kPost, "").result, Result::kNotFound);
  EXPECT_EQ(router.match(Method::kPost, "/api/gps/reports/").result, Result::kNotFound);
  EXPECT_EQ(router.match(Method::kPost, "/API/GPS/REPORTS").result, Result::kNotFound);
  EXPECT_EQ(router.match(Method::kGet, "/healthz").result, Result::kNotFound);
}

}  // namespace
}  // namespace gpsrelay::http
