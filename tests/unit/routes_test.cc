// Tests for the routing table: every endpoint, its methods and Allow list.
#include "http/routes.h"

#include <gtest/gtest.h>

namespace gpsrelay::http {
namespace {

TEST(RoutesTest, IngestAcceptsOnlyPost) {
  EXPECT_EQ(route_request("/api/gps/reports", Method::kPost).route, Route::kIngest);
  EXPECT_TRUE(route_request("/api/gps/reports", Method::kPost).method_allowed);
  const RouteDecision get = route_request("/api/gps/reports", Method::kGet);
  EXPECT_EQ(get.route, Route::kIngest);
  EXPECT_FALSE(get.method_allowed);
  EXPECT_EQ(get.allow, "POST");
  EXPECT_FALSE(route_request("/api/gps/reports", Method::kOther).method_allowed);
}

TEST(RoutesTest, OperatorEndpointsAcceptGetAndHead) {
  for (const char* path : {"/health", "/ready", "/metrics"}) {
    EXPECT_TRUE(route_request(path, Method::kGet).method_allowed) << path;
    EXPECT_TRUE(route_request(path, Method::kHead).method_allowed) << path;
    const RouteDecision post = route_request(path, Method::kPost);
    EXPECT_FALSE(post.method_allowed) << path;
    EXPECT_EQ(post.allow, "GET, HEAD") << path;
  }
  EXPECT_EQ(route_request("/health", Method::kGet).route, Route::kHealth);
  EXPECT_EQ(route_request("/ready", Method::kGet).route, Route::kReady);
  EXPECT_EQ(route_request("/metrics", Method::kGet).route, Route::kMetrics);
}

TEST(RoutesTest, PathsMatchExactly) {
  EXPECT_EQ(route_request("/", Method::kGet).route, Route::kNotFound);
  EXPECT_EQ(route_request("", Method::kPost).route, Route::kNotFound);
  EXPECT_EQ(route_request("/api/gps/reports/", Method::kPost).route, Route::kNotFound);
  EXPECT_EQ(route_request("/API/GPS/REPORTS", Method::kPost).route, Route::kNotFound);
  EXPECT_EQ(route_request("/healthz", Method::kGet).route, Route::kNotFound);
}

}  // namespace
}  // namespace gpsrelay::http
