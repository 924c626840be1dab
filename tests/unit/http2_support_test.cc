// Which forward.http2 modes a libcurl can carry.
#include "forward/http2_support.h"

#include <gtest/gtest.h>

namespace gpsrelay::forward {
namespace {

using Http2 = core::ForwardConfig::Http2;

CurlFacts curl(unsigned version_num, const char* version, bool http2 = true) {
  return CurlFacts{version_num, version, http2};
}

TEST(Http2Support, AutoAndOffWorkWithAnyLibcurl) {
  for (const CurlFacts& facts :
       {curl(0x075800, "7.88.0"), curl(0x074c01, "7.76.1", false), curl(0x080b00, "8.11.0")}) {
    EXPECT_EQ(http2_unsupported(Http2::kAuto, facts), std::nullopt) << facts.version;
    EXPECT_EQ(http2_unsupported(Http2::kOff, facts), std::nullopt) << facts.version;
  }
}

TEST(Http2Support, PriorKnowledgeIsRefusedByTheReleasesThatCannotReuseH2c) {
  for (const CurlFacts& facts : {curl(0x075800, "7.88.0"), curl(0x075801, "7.88.1")}) {
    const auto why = http2_unsupported(Http2::kPriorKnowledge, facts);
    ASSERT_TRUE(why.has_value()) << facts.version;
    EXPECT_NE(why->find("libcurl " + facts.version), std::string::npos) << *why;
    EXPECT_NE(why->find("#10634"), std::string::npos) << *why;
  }
}

TEST(Http2Support, PriorKnowledgeWorksBeforeAndAfterThoseReleases) {
  EXPECT_EQ(http2_unsupported(Http2::kPriorKnowledge, curl(0x075700, "7.87.0")), std::nullopt);
  EXPECT_EQ(http2_unsupported(Http2::kPriorKnowledge, curl(0x080000, "8.0.0")), std::nullopt);
  EXPECT_EQ(http2_unsupported(Http2::kPriorKnowledge, curl(0x074c01, "7.76.1")), std::nullopt);
}

TEST(Http2Support, PriorKnowledgeNeedsALibcurlWithHttp2) {
  const auto why = http2_unsupported(Http2::kPriorKnowledge, curl(0x080000, "8.0.0", false));
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("without HTTP/2"), std::string::npos) << *why;
}

}  // namespace
}  // namespace gpsrelay::forward
