// The live-update suites' fixture (see live_fixture.h).
#include "support/live_fixture.h"

#include "support/eventually.h"
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

void LiveTest::flood_until_dropped(const std::string& driver) {
  const std::int64_t base = unix_now_ms() - 3600 * 1000;
  LoadGenerator load(daemon().url("/api/v1/drivers/" + driver + "/location"), 4, kJsonContentType,
                     [base](size_t seq) {
                       return R"({"latitude":1,"longitude":2,"altitude":123.456,"accuracy":7.5,)"
                              R"("speed":45.25,"heading":271.5,"order_id":"padding-padding",)"
                              R"("timestamp":)" +
                              std::to_string(base + static_cast<std::int64_t>(seq)) + "}";
                     });
  EXPECT_TRUE(eventually(
      [&] {
        return scrape_metrics().sum("gpsrelay_live_slow_clients_dropped_total").value_or(0) >= 1;
      },
      std::chrono::seconds(30)))
      << load.ok_count() << " posted";
  load.stop();
  EXPECT_TRUE(eventually([&] { return live_clients(daemon()) == 0; }, std::chrono::seconds(5)));
  if (!kUnderAddressSanitizer) {
    EXPECT_LT(rss_kib(daemon().process().pid()), 100 * 1024);
  }
}

}  // namespace gpsrelay::testing
