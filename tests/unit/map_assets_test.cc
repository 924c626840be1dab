// MapAssets: which files the map page serves, from which directories, with
// which types and validators; what happens when some are missing; the
// generated config.js; ETag matching.
#include "map/map_assets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "temp_files_test_base.h"

namespace gpsrelay::map {
namespace {

class MapAssetsTest : public testing_support::TempFilesTest {
 protected:
  void SetUp() override {
    TempFilesTest::SetUp();
    std::filesystem::create_directories(dir_ / "data" / "map");
    std::filesystem::create_directories(dir_ / "leaflet" / "images");
    write("data/map/index.html", "<!doctype html><title>map</title>");
    write("data/map/map.js", "console.log('map');");
    write("data/map/map.css", "body{}");
    write("leaflet/leaflet.js", "/* leaflet source */");
    write("leaflet/leaflet.css", ".leaflet-container{}");
    for (const char* image : {"marker-icon.png", "marker-icon-2x.png", "marker-shadow.png",
                              "layers.png", "layers-2x.png"}) {
      write(std::string("leaflet/images/") + image, std::string("\x89PNG-") + image);
    }
  }

  MapDirs dirs() const { return {dir_ / "data", dir_ / "leaflet"}; }
};

TEST_F(MapAssetsTest, ServesEveryFileOfThePageWithItsType) {
  const MapAssets assets = MapAssets::load(dirs(), "");
  ASSERT_TRUE(assets.complete()) << assets.problem();
  const struct {
    const char* name;
    const char* body;
    const char* type;
  } expected[] = {
      {"", "<!doctype html><title>map</title>", "text/html; charset=utf-8"},
      {"map.js", "console.log('map');", "text/javascript; charset=utf-8"},
      {"map.css", "body{}", "text/css; charset=utf-8"},
      {"leaflet/leaflet.js", "/* leaflet source */", "text/javascript; charset=utf-8"},
      {"leaflet/leaflet.css", ".leaflet-container{}", "text/css; charset=utf-8"},
      {"leaflet/images/marker-icon.png", "\x89PNG-marker-icon.png", "image/png"},
      {"leaflet/images/layers-2x.png", "\x89PNG-layers-2x.png", "image/png"},
  };
  for (const auto& file : expected) {
    const MapAsset* asset = assets.find(file.name);
    ASSERT_NE(asset, nullptr) << file.name;
    EXPECT_EQ(asset->body, file.body) << file.name;
    EXPECT_EQ(asset->content_type, file.type) << file.name;
    EXPECT_EQ(asset->etag, etag_of(file.body)) << file.name;
  }
}

TEST_F(MapAssetsTest, OurFilesAreRevalidatedAndLeafletIsCachedForADay) {
  const MapAssets assets = MapAssets::load(dirs(), "");
  EXPECT_STREQ(assets.find("")->cache_control, "no-cache");
  EXPECT_STREQ(assets.find("map.js")->cache_control, "no-cache");
  EXPECT_STREQ(assets.find("config.js")->cache_control, "no-cache");
  EXPECT_STREQ(assets.find("leaflet/leaflet.js")->cache_control, "public, max-age=86400");
}

TEST_F(MapAssetsTest, NamesOutsideTheFixedSetAreNotFound) {
  write("data/map/secret.txt", "not served");
  write("leaflet/leaflet.js.map", "not served");
  const MapAssets assets = MapAssets::load(dirs(), "");
  ASSERT_TRUE(assets.complete());
  for (const char* name : {"secret.txt", "index.html", "leaflet/leaflet.js.map", "leaflet",
                           "leaflet/images", "../map/map.js", "leaflet/../map.js", "/map.js",
                           "MAP.JS", "leaflet/images/../leaflet.js"}) {
    EXPECT_EQ(assets.find(name), nullptr) << name;
  }
}

TEST_F(MapAssetsTest, PrefersTheMinifiedLeafletWhenTheDistributionShipsOne) {
  write("leaflet/leaflet.min.js", "/*min*/");
  const MapAssets assets = MapAssets::load(dirs(), "");
  ASSERT_TRUE(assets.complete());
  EXPECT_EQ(assets.find("leaflet/leaflet.js")->body, "/*min*/");
}

TEST_F(MapAssetsTest, AMissingFileMakesTheSetIncompleteAndIsNamed) {
  std::filesystem::remove(dir_ / "data" / "map" / "map.js");
  std::filesystem::remove(dir_ / "leaflet" / "images" / "marker-icon.png");
  const MapAssets assets = MapAssets::load(dirs(), "");
  EXPECT_FALSE(assets.complete());
  const std::string& problem = assets.problem();
  EXPECT_NE(problem.find((dir_ / "data" / "map" / "map.js").string() +
                         ": cannot open: No such file or directory"),
            std::string::npos)
      << problem;
  EXPECT_NE(problem.find("images/marker-icon.png"), std::string::npos) << problem;
  EXPECT_EQ(problem.find("index.html"), std::string::npos) << problem;
  // Nothing is served from an incomplete set, not even the files present.
  EXPECT_EQ(assets.find(""), nullptr);
  EXPECT_EQ(assets.find("leaflet/leaflet.css"), nullptr);
}

TEST_F(MapAssetsTest, ADirectoryInPlaceOfAFileIsReportedNotRead) {
  std::filesystem::remove(dir_ / "data" / "map" / "map.css");
  std::filesystem::create_directory(dir_ / "data" / "map" / "map.css");
  const MapAssets assets = MapAssets::load(dirs(), "");
  EXPECT_FALSE(assets.complete());
  EXPECT_NE(assets.problem().find("map.css: is a directory"), std::string::npos)
      << assets.problem();
}

TEST_F(MapAssetsTest, MissingDirectoriesListEveryFile) {
  const MapAssets assets = MapAssets::load({dir_ / "nowhere", dir_ / "nowhere-either"}, "");
  EXPECT_FALSE(assets.complete());
  // Ten files: three of ours, Leaflet's script and styles, five images.
  std::size_t count = 0;
  for (std::size_t at = 0; (at = assets.problem().find("cannot read ", at)) != std::string::npos;
       ++at) {
    ++count;
  }
  EXPECT_EQ(count, 10u) << assets.problem();
}

TEST_F(MapAssetsTest, ConfigScriptCarriesTheTileTemplate) {
  const MapAssets assets = MapAssets::load(dirs(), "https://tile.example/{z}/{x}/{y}.png");
  const MapAsset* config = assets.find("config.js");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(
      config->body.find(
          R"(window.gpsrelayMapConfig = {"tiles":"https:\/\/tile.example\/{z}\/{x}\/{y}.png"};)"),
      std::string::npos)
      << config->body;
}

TEST_F(MapAssetsTest, ConfigScriptWithoutTilesHasAnEmptyTemplate) {
  EXPECT_NE(render_map_config("").find(R"(window.gpsrelayMapConfig = {"tiles":""};)"),
            std::string::npos);
}

TEST_F(MapAssetsTest, ContentSecurityPolicyAllowsTileImagesOnlyWhenTilesAreSet) {
  const std::string without = MapAssets::load(dirs(), "").content_security_policy();
  EXPECT_NE(without.find("img-src 'self' data:;"), std::string::npos) << without;
  EXPECT_NE(without.find("script-src 'self';"), std::string::npos) << without;
  EXPECT_NE(without.find("default-src 'none'"), std::string::npos) << without;
  const std::string with =
      MapAssets::load(dirs(), "https://{s}.tile.example/{z}/{x}/{y}.png").content_security_policy();
  EXPECT_NE(with.find("img-src 'self' data: https:;"), std::string::npos) << with;
  const std::string plain =
      MapAssets::load(dirs(), "http://tiles.lan/{z}/{x}/{y}.png").content_security_policy();
  EXPECT_NE(plain.find("img-src 'self' data: http:;"), std::string::npos) << plain;
}

TEST(MapDirsTest, EnvironmentOverridesTheCompiledInDirectories) {
  const MapDirs defaults = resolve_map_dirs("/usr/share/gpsrelay", nullptr, nullptr);
  EXPECT_EQ(defaults.data_dir, "/usr/share/gpsrelay");
  EXPECT_EQ(defaults.leaflet_dir, "/usr/share/javascript/leaflet");
  const MapDirs empty = resolve_map_dirs("/usr/share/gpsrelay", "", "");
  EXPECT_EQ(empty.data_dir, "/usr/share/gpsrelay");
  EXPECT_EQ(empty.leaflet_dir, "/usr/share/javascript/leaflet");
  const MapDirs set = resolve_map_dirs("/usr/share/gpsrelay", "/src/share", "/opt/leaflet");
  EXPECT_EQ(set.data_dir, "/src/share");
  EXPECT_EQ(set.leaflet_dir, "/opt/leaflet");
}

TEST(MapEtagTest, DiffersWithTheContentAndIsQuoted) {
  const std::string a = etag_of("a");
  EXPECT_EQ(a, etag_of("a"));
  EXPECT_NE(a, etag_of("b"));
  EXPECT_NE(etag_of(""), etag_of(std::string(1, '\0')));
  ASSERT_EQ(a.size(), 18u);
  EXPECT_EQ(a.front(), '"');
  EXPECT_EQ(a.back(), '"');
}

TEST(MapEtagTest, IfNoneMatchListsAreMatchedElementByElement) {
  const std::string etag = "\"00000000000000ab\"";
  EXPECT_TRUE(etag_matches(etag, etag));
  EXPECT_TRUE(etag_matches("\"x\", " + etag, etag));
  EXPECT_TRUE(etag_matches(" W/" + etag + " ,\"y\"", etag));
  EXPECT_TRUE(etag_matches("*", etag));
  EXPECT_FALSE(etag_matches("", etag));
  EXPECT_FALSE(etag_matches("\"x\", \"y\"", etag));
  EXPECT_FALSE(etag_matches("00000000000000ab", etag));  // unquoted is another tag
  EXPECT_FALSE(etag_matches(",,", etag));
}

}  // namespace
}  // namespace gpsrelay::map
