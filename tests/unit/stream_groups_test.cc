// Tests of which consumer groups read the report stream (queue/stream_groups.h).
#include "queue/stream_groups.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gpsrelay::queue {
namespace {

using Groups = std::vector<std::string>;

TEST(EnabledGroups, AreTheForwarderGroupAloneByDefault) {
  core::Config config;
  config.redis.group = "fwd";
  config.locations.group = "loc";
  EXPECT_EQ(enabled_groups(config), Groups({"fwd"}));
}

TEST(EnabledGroups, IncludeTheLocationsGroupWhenLocationsAreEnabled) {
  core::Config config;
  config.redis.group = "fwd";
  config.locations.enabled = true;
  config.locations.group = "loc";
  EXPECT_EQ(enabled_groups(config), Groups({"fwd", "loc"}));
}

TEST(EnabledGroups, NeverNameOneGroupTwice) {
  core::Config config;
  config.redis.group = "same";
  config.locations.enabled = true;
  config.locations.group = "same";
  EXPECT_EQ(enabled_groups(config), Groups({"same"}));
}

}  // namespace
}  // namespace gpsrelay::queue
