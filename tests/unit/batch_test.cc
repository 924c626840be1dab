// Tests of the batched request text (forward/batch.h): the JSON array body
// joined from raw payloads, and the id headers that pair with it.
#include "forward/batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gpsrelay::forward {
namespace {

TEST(BatchRequestText, PayloadsAreJoinedIntoAnArrayInTheOrderAdded) {
  BatchRequestText text;
  text.add("1-0", "r1", R"({"seq":1})");
  text.add("1-1", "r2", R"({"seq":2})");
  text.add("2-0", "r3", R"({"seq":3})");
  EXPECT_EQ(text.size(), 3u);
  EXPECT_EQ(text.body(), R"([{"seq":1},{"seq":2},{"seq":3}])");
  EXPECT_EQ(text.message_ids(), "1-0,1-1,2-0");
  EXPECT_EQ(text.request_ids(), "r1,r2,r3");
}

TEST(BatchRequestText, ASingleReportIsStillAnArray) {
  BatchRequestText text;
  text.add("5-0", "abc", R"({"a":1})");
  EXPECT_EQ(text.body(), R"([{"a":1}])");
  EXPECT_EQ(text.message_ids(), "5-0");
  EXPECT_EQ(text.request_ids(), "abc");
}

TEST(BatchRequestText, PayloadBytesAreKeptExactlyNotReEncoded) {
  // Whitespace, key order, escapes and non-ASCII bytes pass through as sent.
  const std::string first = "{ \"b\" : 1,\n \"a\":\"\\u00e9\xc3\xa9\" }\n";
  const std::string second = "[1, 2.50, null]";
  BatchRequestText text;
  text.add("1-0", "r1", first);
  text.add("1-1", "r2", second);
  EXPECT_EQ(text.body(), "[" + first + "," + second + "]");
}

TEST(BatchRequestText, NothingAddedIsAnEmptyArray) {
  const BatchRequestText text;
  EXPECT_EQ(text.size(), 0u);
  EXPECT_EQ(text.body(), "[]");
  EXPECT_EQ(text.message_ids(), "");
}

TEST(BatchRequestText, HeadersNameEveryIdAndTheAttempt) {
  BatchRequestText text;
  text.add("1-0", "r1", "{}");
  text.add("1-1", "r2", "{}");
  EXPECT_EQ(text.headers(3), (std::vector<std::string>{
                                 "Content-Type: application/json",
                                 "X-GPSRelay-Message-IDs: 1-0,1-1",
                                 "X-Request-IDs: r1,r2",
                                 "X-GPSRelay-Attempt: 3",
                             }));
}

TEST(BatchRequestText, BodyCanBeReadRepeatedlyForRetries) {
  BatchRequestText text;
  text.add("1-0", "r1", "{}");
  EXPECT_EQ(text.body(), "[{}]");
  EXPECT_EQ(text.body(), "[{}]");
}

}  // namespace
}  // namespace gpsrelay::forward
