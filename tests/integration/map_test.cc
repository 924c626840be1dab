// The live map page (GET /map) against a real gpsrelayd: the page and
// Leaflet are served with their types and validators, config.js carries
// locations.map_tiles, unknown files are 404, missing files make /map a 503
// without stopping the daemon, and in headless Chromium (driven by
// tests/browser/map_check.py) a driver's marker appears and moves when the
// driver posts a new position. The browser test is skipped only when
// chromium is not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "support/eventually.h"
#include "support/forwarding_fixture.h"
#include "support/http_client.h"
#include "support/temp_dir.h"

#ifndef GPSRELAY_SOURCE_DIR
#error "GPSRELAY_SOURCE_DIR must point at the source tree (tests/CMakeLists.txt)"
#endif

namespace gpsrelay::testing {
namespace {

using std::chrono::seconds;

const std::string kSourceDir = GPSRELAY_SOURCE_DIR;
constexpr std::string_view kLeafletDir = "/usr/share/javascript/leaflet";

// The first executable called `name` in $PATH, or "" when there is none.
std::string find_in_path(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "";
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    const std::filesystem::path candidate =
        std::filesystem::path(rest.substr(0, colon)) / std::string(name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  return {};
}

class MapTest : public ForwardingTest {
 protected:
  // Locations on, the page's files from the source tree.
  DaemonProcess& start_map_daemon(DaemonConfig overrides = {},
                                  const std::string& data_dir = kSourceDir + "/share") {
    DaemonConfig config = locations_config();
    config.merge(overrides);
    return start_daemon(config, {{"GPSRELAY_DATA_DIR", data_dir}});
  }

  HttpResponse get(const std::string& path, HeaderList headers = {}) {
    HttpRequest request;
    request.url = daemon().url(path);
    request.headers = std::move(headers);
    return http_request(request);
  }
};

TEST_F(MapTest, ServesThePageWithLeafletAndASecurityPolicy) {
  start_map_daemon();
  const HttpResponse page = get("/map");
  ASSERT_EQ(page.status, 200) << page;
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.body, read_file(kSourceDir + "/share/map/index.html"));
  EXPECT_NE(page.body.find(R"(src="map/leaflet/leaflet.js")"), std::string::npos);
  EXPECT_NE(page.body.find(R"(src="map/map.js")"), std::string::npos);
  EXPECT_NE(page.header("Content-Security-Policy").find("script-src 'self'"), std::string::npos)
      << page;
  EXPECT_EQ(page.header("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(page.header("Cache-Control"), "no-cache");
  EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");

  // A browser that has the page revalidates it with its ETag.
  const std::string etag = page.header("ETag");
  ASSERT_FALSE(etag.empty());
  const HttpResponse again = get("/map", {"If-None-Match: " + etag});
  EXPECT_EQ(again.status, 304) << again;
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(get("/map", {"If-None-Match: \"something-else\""}).status, 200);

  const HttpResponse script = get("/map/map.js");
  ASSERT_EQ(script.status, 200) << script;
  EXPECT_EQ(script.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(script.body, read_file(kSourceDir + "/share/map/map.js"));
  EXPECT_EQ(get("/map/map.css").header("Content-Type"), "text/css; charset=utf-8");
  // HEAD is served by GET, without the body.
  const HttpResponse head = http_request("HEAD", daemon().url("/map"));
  EXPECT_EQ(head.status, 200) << head;
  EXPECT_TRUE(head.body.empty());
}

TEST_F(MapTest, ServesLeafletAndItsImagesFromTheDistribution) {
  if (!std::filesystem::exists(std::string(kLeafletDir) + "/leaflet.js")) {
    GTEST_SKIP() << "libjs-leaflet is not installed (scripts/install-deps.sh test)";
  }
  start_map_daemon();
  const HttpResponse script = get("/map/leaflet/leaflet.js");
  ASSERT_EQ(script.status, 200) << script;
  EXPECT_EQ(script.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(script.header("Cache-Control"), "public, max-age=86400");
  // Debian's minified build when it ships one.
  const std::string minified = std::string(kLeafletDir) + "/leaflet.min.js";
  EXPECT_EQ(script.body, read_file(std::filesystem::exists(minified)
                                       ? minified
                                       : std::string(kLeafletDir) + "/leaflet.js"));
  EXPECT_NE(script.body.find("Leaflet"), std::string::npos);

  const HttpResponse css = get("/map/leaflet/leaflet.css");
  ASSERT_EQ(css.status, 200) << css;
  EXPECT_EQ(css.header("Content-Type"), "text/css; charset=utf-8");

  const HttpResponse icon = get("/map/leaflet/images/marker-icon.png");
  ASSERT_EQ(icon.status, 200) << icon;
  EXPECT_EQ(icon.header("Content-Type"), "image/png");
  EXPECT_EQ(icon.body.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(MapTest, ConfigScriptCarriesTheTileTemplate) {
  DaemonConfig config;
  config.set("locations", "map_tiles", "https://tiles.example/{z}/{x}/{y}.png");
  start_map_daemon(config);
  const HttpResponse script = get("/map/config.js");
  ASSERT_EQ(script.status, 200) << script;
  EXPECT_EQ(script.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(
      script.body.find(
          R"(window.gpsrelayMapConfig = {"tiles":"https:\/\/tiles.example\/{z}\/{x}\/{y}.png"};)"),
      std::string::npos)
      << script.body;
  // The page may then load the tiles' images.
  EXPECT_NE(get("/map").header("Content-Security-Policy").find("img-src 'self' data: https:;"),
            std::string::npos);
}

TEST_F(MapTest, ConfigScriptWithoutTilesHasAnEmptyTemplate) {
  start_map_daemon();
  const HttpResponse script = get("/map/config.js");
  ASSERT_EQ(script.status, 200) << script;
  EXPECT_NE(script.body.find(R"({"tiles":""})"), std::string::npos) << script.body;
}

TEST_F(MapTest, UnknownFilesAreNotFound) {
  start_map_daemon();
  for (const char* path :
       {"/map/x", "/map/index.html", "/map/leaflet/x.js", "/map/leaflet/leaflet.js.map",
        "/map/leaflet/images/x.png", "/map/leaflet", "/map/leaflet/images", "/map/",
        "/map/%2e%2e%2fmap.js", "/map/leaflet/images/..%2f..%2fmap.js"}) {
    EXPECT_TRUE(is_json_error(get(path), 404)) << path;
  }
  const HttpResponse post = http_request("POST", daemon().url("/map"), "{}", kJsonContentType);
  EXPECT_TRUE(is_json_error(post, 405));
  EXPECT_EQ(post.header("Allow"), "GET, HEAD");
}

TEST_F(MapTest, MissingFilesMakeTheMapA503AndTheDaemonServesOn) {
  TempDir empty("gpsrelay-map-empty");
  start_map_daemon({}, empty.path().string());
  const HttpResponse page = get("/map");
  EXPECT_TRUE(is_json_error(page, 503)) << page;
  EXPECT_NE(page.body.find((empty.path() / "map" / "index.html").string()), std::string::npos)
      << page.body;
  EXPECT_TRUE(is_json_error(get("/map/config.js"), 503));
  // One warning at start, naming the files; the rest of the daemon serves.
  EXPECT_EQ(count_occurrences(daemon().log(), "the map page (GET /map) is unavailable"), 1u)
      << daemon().log();
  EXPECT_EQ(get("/health").status, 200);
  ASSERT_EQ(http_request("POST", daemon().url("/api/v1/drivers/d-map/location"),
                         R"({"latitude":1,"longitude":2})", kJsonContentType)
                .status,
            202);
}

TEST_F(MapTest, NoMapWithoutLocations) {
  DaemonConfig config = locations_config();
  config.set("locations", "enabled", "false");
  start_daemon(config, {{"GPSRELAY_DATA_DIR", kSourceDir + "/share"}});
  EXPECT_TRUE(is_json_error(get("/map"), 404));
}

// Runs tests/browser/map_check.py against the daemon: opens `page`, waits
// for `driver`'s marker, posts the driver at 52.52,13.405 and waits for the
// marker to get there; the screenshot goes to <artifacts>/map/<name>/map.png.
// Asserts that all of that happened.
void check_in_browser(const DaemonProcess& daemon, const std::string& chromium,
                      const std::string& page, const std::string& driver, const std::string& name,
                      const std::vector<std::string>& extra_args) {
  const char* artifacts_env = std::getenv("GPSRELAY_TEST_ARTIFACTS");
  const std::filesystem::path artifacts = (artifacts_env != nullptr && *artifacts_env != '\0'
                                               ? std::filesystem::path(artifacts_env)
                                               : std::filesystem::current_path() / "artifacts") /
                                          "map" / name;
  std::filesystem::remove(artifacts / "map.png");
  TempDir scratch("gpsrelay-map-browser");
  SpawnOptions options;
  // Debian's interpreter: python3-websockets is installed for it, not for
  // another python3 that may come first in $PATH.
  const std::string python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
  options.argv = {python,        kSourceDir + "/tests/browser/map_check.py",
                  "--base",      daemon.base_url(),
                  "--page",      page,
                  "--driver",    driver,
                  "--move-to",   "52.5200,13.4050",
                  "--chromium",  chromium,
                  "--artifacts", artifacts.string()};
  options.argv.insert(options.argv.end(), extra_args.begin(), extra_args.end());
  const CommandResult result = run_command(options, scratch.path(), seconds(120));
  ASSERT_TRUE(result.status.has_value()) << "map_check.py did not finish\n"
                                         << result.out << result.err;
  EXPECT_TRUE(result.status->exited_with(0)) << *result.status << "\n--- stdout\n"
                                             << result.out << "--- stderr\n"
                                             << result.err;
  std::cout << result.out;  // what the browser saw, for the test log
  // Moved by a WebSocket push (the page polls only while its socket is down).
  EXPECT_NE(
      result.out.find("marker of " + driver + " moved to 52.520000,13.405000 (updates 2, ws open"),
      std::string::npos)
      << result.out;
  const std::string png = read_file(artifacts / "map.png");
  ASSERT_GT(png.size(), 1000u) << artifacts / "map.png";
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

// The whole page in a real browser: the marker appears where the driver
// is, moves when the driver posts again, and its route is drawn on click.
// Reads need a token here, so the page must pass the one in its URL on.
TEST_F(MapTest, BrowserShowsNearbyDriversMoveAndARoute) {
  const std::string chromium = find_in_path("chromium");
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh test): "
                    "the map page is not tested in a browser";
  }
  TempDir dir("gpsrelay-map-tokens");
  DaemonConfig config;
  config.set("auth", "read_tokens_file", dir.write_file("read.tokens", "map-reader\n").string());
  start_map_daemon(config);
  ASSERT_EQ(http_request("POST", daemon().url("/api/v1/drivers/d-map/location"),
                         R"({"latitude":52.5163,"longitude":13.3777,"speed":30})", kJsonContentType)
                .status,
            202);
  ASSERT_TRUE(eventually(
      [&] {
        return get("/api/v1/drivers/d-map/location", {"Authorization: Bearer map-reader"}).status ==
               200;
      },
      seconds(5)));
  check_in_browser(daemon(), chromium, "/map?lat=52.52&lng=13.40&radius=5000&token=map-reader",
                   "d-map", "nearby", {"--token", "map-reader", "--expect-route"});
}

// A customer's view: the page follows the order's driver.
TEST_F(MapTest, BrowserFollowsAnOrdersDriver) {
  const std::string chromium = find_in_path("chromium");
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh test): "
                    "the map page is not tested in a browser";
  }
  start_map_daemon();
  ASSERT_EQ(
      http_request("POST", daemon().url("/api/v1/drivers/d-order/location"),
                   R"({"latitude":52.51,"longitude":13.39,"order_id":"o-map"})", kJsonContentType)
          .status,
      202);
  ASSERT_TRUE(eventually([&] { return get("/api/v1/orders/o-map/driver-location").status == 200; },
                         seconds(5)));
  check_in_browser(daemon(), chromium, "/map?order=o-map", "d-order", "order", {});
}

}  // namespace
}  // namespace gpsrelay::testing
