// origin_of / health_url: where active health checks go.
#include "forward/target_url.h"

#include <gtest/gtest.h>

namespace gpsrelay::forward {
namespace {

TEST(TargetUrlTest, OriginDropsPathQueryAndFragment) {
  EXPECT_EQ(origin_of("http://a:8080/in/gps?x=1"), "http://a:8080");
  EXPECT_EQ(origin_of("https://up.example/"), "https://up.example");
  EXPECT_EQ(origin_of("http://a?x"), "http://a");
  EXPECT_EQ(origin_of("http://a#f"), "http://a");
  EXPECT_EQ(origin_of("http://[::1]:9000/x"), "http://[::1]:9000");
}

TEST(TargetUrlTest, OriginOfAUrlWithoutPathIsTheUrl) {
  EXPECT_EQ(origin_of("http://a:8080"), "http://a:8080");
  EXPECT_EQ(origin_of(""), "");
}

TEST(TargetUrlTest, HealthUrlIsOriginPlusPath) {
  EXPECT_EQ(health_url("http://10.0.0.5:8080/api/ingest", "/health"),
            "http://10.0.0.5:8080/health");
  EXPECT_EQ(health_url("https://up.example", "/status/ok"), "https://up.example/status/ok");
}

}  // namespace
}  // namespace gpsrelay::forward
