// The live updates' wire pieces (live/pubsub_message.h): the message the
// state script publishes, channel names and Server-Sent Events frames.
#include "live/pubsub_message.h"

#include <gtest/gtest.h>

namespace gpsrelay::live {
namespace {

TEST(PubSubMessageTest, SplitsTheStreamIdFromTheRecord) {
  const auto message = parse_pubsub_message("1749995100000-3\n{\"driver_id\":\"d\"}");
  ASSERT_TRUE(message);
  EXPECT_EQ(message->entry_id, "1749995100000-3");
  EXPECT_EQ(message->record, "{\"driver_id\":\"d\"}");
  EXPECT_EQ(stream_id_ms(message->entry_id), 1749995100000);
}

TEST(PubSubMessageTest, RefusesWhatTheScriptDoesNotPublish) {
  for (const std::string_view bad :
       {"", "{}", "1-0", "1-0\n", "1-0\n{", "x-0\n{}", "1-\n{}", "-1\n{}", "1-0\n[]", "1-0\n{}\n",
        "1-0\n{\"a\":\n1}", "1-0 {}", "1-0\r\n{}"}) {
    EXPECT_FALSE(parse_pubsub_message(bad)) << bad;
  }
}

TEST(PubSubMessageTest, ChannelsAreTheContracts) {
  EXPECT_EQ(driver_channel("d-1"), "driver:d-1");
  EXPECT_EQ(order_channel("o.7"), "order:o.7");
}

TEST(PubSubMessageTest, SseEventHasAnIdLineWhenGivenOne) {
  EXPECT_EQ(sse_event("5-0", "{}"), "id: 5-0\ndata: {}\n\n");
  EXPECT_EQ(sse_event({}, "{\"a\":1}"), "data: {\"a\":1}\n\n");
}

}  // namespace
}  // namespace gpsrelay::live
