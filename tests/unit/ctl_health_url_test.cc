// Where gpsrelayctl looks for the daemon's /health, for every kind of
// http.listen address.
#include <gtest/gtest.h>

#include "ctl/health_url.h"

namespace gpsrelay::ctl {
namespace {

core::Endpoint endpoint(std::string host, std::uint16_t port) {
  core::Endpoint e;
  e.host = std::move(host);
  e.port = port;
  return e;
}

TEST(CtlHealthUrlTest, WildcardAddressesMeanTheLoopbackOfTheirFamily) {
  EXPECT_EQ(health_url(endpoint("0.0.0.0", 8080)), "http://127.0.0.1:8080/health");
  EXPECT_EQ(health_url(endpoint("::", 8080)), "http://[::1]:8080/health");
  EXPECT_EQ(health_url(endpoint("", 9000)), "http://127.0.0.1:9000/health");
}

TEST(CtlHealthUrlTest, ASpecificAddressIsUsedAsIsWithIpv6InBrackets) {
  EXPECT_EQ(health_url(endpoint("127.0.0.1", 18080)), "http://127.0.0.1:18080/health");
  EXPECT_EQ(health_url(endpoint("10.1.2.3", 80)), "http://10.1.2.3:80/health");
  EXPECT_EQ(health_url(endpoint("::1", 8080)), "http://[::1]:8080/health");
  EXPECT_EQ(health_url(endpoint("fe80::1", 8080)), "http://[fe80::1]:8080/health");
  EXPECT_EQ(health_url(endpoint("gps.example.net", 8080)), "http://gps.example.net:8080/health");
}

}  // namespace
}  // namespace gpsrelay::ctl
