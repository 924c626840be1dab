// The live-update suites' fixture (see live_fixture.h).
#include "support/live_fixture.h"

#include "support/http_client.h"
#include "support/prometheus.h"
#include "support/temp_dir.h"

namespace gpsrelay::testing {

long rss_kib(pid_t pid) {
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  const std::size_t at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::stol(status.substr(at + 6));
}

DaemonConfig LiveTest::live_config() const {
  DaemonConfig config = locations_config();
  config.set("locations", "history", "false");
  return config;
}

HttpResponse LiveTest::post_location(const DaemonProcess& daemon, const std::string& driver,
                                     double latitude, std::int64_t at, const std::string& order) {
  std::string body = R"({"latitude":)" + std::to_string(latitude) +
                     R"(,"longitude":13.4,"timestamp":)" + std::to_string(at);
  if (!order.empty()) body += R"(,"order_id":")" + order + "\"";
  body += "}";
  return http_request("POST", daemon.url("/api/v1/drivers/" + driver + "/location"), body,
                      kJsonContentType);
}

double LiveTest::live_clients(const DaemonProcess& daemon) {
  return parse_metrics(http_get(daemon.url("/metrics")).body)
      .sum("gpsrelay_live_clients")
      .value_or(-1);
}

}  // namespace gpsrelay::testing
