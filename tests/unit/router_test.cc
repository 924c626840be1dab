// Tests for the path-template router: literal and parameter matching,
// 404 vs 405 with Allow, HEAD via GET, and the templates it refuses.
#include "http/router.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace gpsrelay::http {
namespace {

using Result = RouteMatch::Result;

enum Handler { kIngest, kHealth, kDriverLocation, kDriverRoute, kNearby, kOrder, kPostLocation };

Router make_router() {
  Router router;
  router.add(Method::kPost, "/api/gps/reports", kIngest);
  router.add(Method::kGet, "/health", kHealth);
  router.add(Method::kGet, "/api/v1/drivers/{driver_id}/location", kDriverLocation);
  router.add(Method::kPost, "/api/v1/drivers/{driver_id}/location", kPostLocation);
  router.add(Method::kGet, "/api/v1/drivers/{driver_id}/route", kDriverRoute);
  router.add(Method::kGet, "/api/v1/drivers/nearby", kNearby);
  router.add(Method::kGet, "/api/v1/orders/{order_id}/driver-location", kOrder);
  return router;
}

TEST(RouterTest, LiteralPathsMatchExactly) {
  const Router router = make_router();
  const RouteMatch match = router.match(Method::kPost, "/api/gps/reports");
  EXPECT_EQ(match.result, Result::kFound);
  EXPECT_EQ(match.handler, kIngest);
  EXPECT_EQ(match.param_count, 0U);
  for (const char* near_miss : {"/api/gps/reports/", "/api/gps/report", "/API/gps/reports",
                                "/api//gps/reports", "api/gps/reports", "", "/"}) {
    EXPECT_EQ(router.match(Method::kPost, near_miss).result, Result::kNotFound) << near_miss;
  }
}

TEST(RouterTest, ParametersAreCapturedAsViewsIntoThePath) {
  const Router router = make_router();
  const std::string path = "/api/v1/drivers/truck%2D7/location";
  const RouteMatch match = router.match(Method::kGet, path);
  ASSERT_EQ(match.result, Result::kFound);
  EXPECT_EQ(match.handler, kDriverLocation);
  ASSERT_EQ(match.param_count, 1U);
  EXPECT_EQ(match.param("driver_id"), "truck%2D7");
  EXPECT_EQ(match.param("order_id"), std::nullopt);
  EXPECT_GE(match.params[0].value.data(), path.data());
  EXPECT_EQ(router.match(Method::kPost, path).handler, kPostLocation);
  EXPECT_EQ(router.match(Method::kGet, "/api/v1/orders/o-1/driver-location").param("order_id"),
            "o-1");
}

TEST(RouterTest, LiteralSegmentWinsOverAParameter) {
  const Router router = make_router();
  EXPECT_EQ(router.match(Method::kGet, "/api/v1/drivers/nearby").handler, kNearby);
  // ...but a driver called "nearby" still has a route under it.
  const RouteMatch route = router.match(Method::kGet, "/api/v1/drivers/nearby/route");
  EXPECT_EQ(route.handler, kDriverRoute);
  EXPECT_EQ(route.param("driver_id"), "nearby");
}

TEST(RouterTest, EmptyParameterDoesNotMatch) {
  const Router router = make_router();
  EXPECT_EQ(router.match(Method::kGet, "/api/v1/drivers//location").result, Result::kNotFound);
}

TEST(RouterTest, WrongMethodIs405WithTheAllowList) {
  const Router router = make_router();
  const RouteMatch ingest = router.match(Method::kGet, "/api/gps/reports");
  EXPECT_EQ(ingest.result, Result::kMethodNotAllowed);
  EXPECT_EQ(ingest.allow, "POST");
  const RouteMatch location = router.match(Method::kDelete, "/api/v1/drivers/7/location");
  EXPECT_EQ(location.result, Result::kMethodNotAllowed);
  EXPECT_EQ(location.allow, "GET, HEAD, POST");
  EXPECT_EQ(router.match(Method::kOther, "/health").result, Result::kMethodNotAllowed);
}

TEST(RouterTest, HeadIsServedByGet) {
  const Router router = make_router();
  const RouteMatch head = router.match(Method::kHead, "/health");
  EXPECT_EQ(head.result, Result::kFound);
  EXPECT_EQ(head.handler, kHealth);
  EXPECT_EQ(head.allow, "GET, HEAD");
}

TEST(RouterTest, IntermediateSegmentsAreNotRoutes) {
  const Router router = make_router();
  EXPECT_EQ(router.match(Method::kGet, "/api/v1/drivers").result, Result::kNotFound);
  EXPECT_EQ(router.match(Method::kGet, "/api/v1/drivers/7").result, Result::kNotFound);
}

TEST(RouterTest, RootCanBeARoute) {
  Router router;
  router.add(Method::kGet, "/", 1);
  EXPECT_EQ(router.match(Method::kGet, "/").handler, 1);
  EXPECT_EQ(router.match(Method::kGet, "//").result, Result::kNotFound);
}

TEST(RouterTest, RefusesMalformedAndConflictingTemplates) {
  Router router;
  router.add(Method::kGet, "/a/{id}", 1);
  for (const char* bad :
       {"", "a", "/a//b", "/a/", "/{}", "/{a{b}", "/x{y}", "/{a}/{a}", "/{a}/{b}/{c}/{d}/{e}"}) {
    EXPECT_THROW(router.add(Method::kGet, bad, 2), std::invalid_argument) << bad;
  }
  EXPECT_THROW(router.add(Method::kGet, "/a/{name}", 2), std::invalid_argument);
  EXPECT_THROW(router.add(Method::kGet, "/a/{id}", 2), std::invalid_argument);
  EXPECT_THROW(router.add(Method::kOther, "/b", 2), std::invalid_argument);
  EXPECT_THROW(router.add(Method::kGet, "/b", -1), std::invalid_argument);
  EXPECT_NO_THROW(router.add(Method::kPost, "/a/{id}", 2));
}

}  // namespace
}  // namespace gpsrelay::http
