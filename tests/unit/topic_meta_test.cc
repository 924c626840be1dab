// parse_topic_meta: the one reader of a topic's "<partitions> <retention
// ms> <created ms>" in the meta hash, for the daemon and gpsrelayctl.
#include "topics/topic_meta.h"

#include <gtest/gtest.h>

namespace gpsrelay::topics {
namespace {

TEST(TopicMetaTest, ReadsTheThreeNumbersTheCreateScriptWrites) {
  TopicInfo info;
  ASSERT_TRUE(parse_topic_meta("3 604800000 1795595200000", info));
  EXPECT_EQ(info.partitions, 3u);
  EXPECT_EQ(info.retention, std::chrono::hours(24 * 7));
  EXPECT_EQ(info.created_ms, 1795595200000);
  ASSERT_TRUE(parse_topic_meta("256 1 0", info));
  EXPECT_EQ(info.partitions, 256u);
}

TEST(TopicMetaTest, RefusesAnythingElse) {
  for (const char* bad : {"", "3", "3 100", "0 100 1", "257 100 1", "-1 100 1", "3 x 1", "3  100 1",
                          "3 100 1x", " 3 100 1", "3 100 "}) {
    TopicInfo info;
    EXPECT_FALSE(parse_topic_meta(bad, info)) << '"' << bad << '"';
  }
}

TEST(TopicMetaTest, ConsumerSessionIsExpiryAndInstance) {
  const auto session = parse_consumer_session("1795595230000 gw1-8080");
  ASSERT_TRUE(session);
  EXPECT_EQ(session->expires_ms, 1795595230000);
  EXPECT_EQ(session->instance, "gw1-8080");
  const auto bare = parse_consumer_session("1795595230000");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->instance, "");
  for (const char* bad : {"", " 1", "x 1", "12x gw"}) {
    EXPECT_FALSE(parse_consumer_session(bad)) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace gpsrelay::topics
