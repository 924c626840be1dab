// A WebSocket subscriber's messages (live/client_message.h).
#include "live/client_message.h"

#include <gtest/gtest.h>

namespace gpsrelay::live {
namespace {

ClientMessage parsed(std::string_view text) {
  auto result = parse_client_message(text);
  if (auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << text << ": " << *error;
    return {};
  }
  return std::get<ClientMessage>(result);
}

std::string error_of(std::string_view text) {
  auto result = parse_client_message(text);
  if (auto* error = std::get_if<std::string>(&result)) return *error;
  return "no error";
}

TEST(ClientMessageTest, SubscribesByDriverOrOrder) {
  const ClientMessage driver = parsed(R"({"action":"subscribe","driver_id":"d-1"})");
  EXPECT_EQ(driver.action, ClientMessage::Action::kSubscribe);
  EXPECT_EQ(driver.channel, "driver:d-1");
  const ClientMessage order = parsed(R"({"order_id":"o.7","action":"unsubscribe"})");
  EXPECT_EQ(order.action, ClientMessage::Action::kUnsubscribe);
  EXPECT_EQ(order.channel, "order:o.7");
  // Numeric ids, as some dispatch systems have them.
  EXPECT_EQ(parsed(R"({"action":"subscribe","order_id":4711})").channel, "order:4711");
}

TEST(ClientMessageTest, SaysWhatIsWrong) {
  EXPECT_EQ(error_of("subscribe d-1"), "expected a JSON object");
  EXPECT_EQ(error_of("[]"), "expected a JSON object");
  EXPECT_EQ(error_of(R"({"action":"follow","driver_id":"d"})"),
            "action must be \"subscribe\" or \"unsubscribe\"");
  EXPECT_EQ(error_of(R"({"driver_id":"d"})"), "action must be \"subscribe\" or \"unsubscribe\"");
  EXPECT_EQ(error_of(R"({"action":"subscribe"})"), "give exactly one of driver_id and order_id");
  EXPECT_EQ(error_of(R"({"action":"subscribe","driver_id":"d","order_id":"o"})"),
            "give exactly one of driver_id and order_id");
  EXPECT_EQ(error_of(R"({"action":"subscribe","driver_id":"a b"})"),
            "driver_id must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~");
  EXPECT_EQ(error_of(R"({"action":"subscribe","driver_id":""})"),
            "driver_id must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~");
  EXPECT_EQ(error_of(R"({"action":"subscribe","order_id":-1})"),
            "order_id must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~");
  EXPECT_EQ(error_of(R"({"action":"subscribe","driver_id":"d","driver_id":"e"})"),
            "expected a JSON object");
  EXPECT_EQ(error_of(std::string(R"({"action":"subscribe","driver_id":")") + std::string(129, 'a') +
                     "\"}"),
            "driver_id must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~");
}

}  // namespace
}  // namespace gpsrelay::live
