// What a WebSocket subscriber may send (CONTRACT.md, "Locations", Live):
// {"action":"subscribe"|"unsubscribe","driver_id"|"order_id":…}, pure.
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace gpsrelay::live {

struct ClientMessage {
  enum class Action { kSubscribe, kUnsubscribe };
  Action action;
  std::string channel;  // driver:<id> or order:<id>
};

// The message, or why it is not one (for the error frame sent back).
// Ids follow locations' is_valid_id; a JSON integer is taken as its digits.
std::variant<ClientMessage, std::string> parse_client_message(std::string_view text);

}  // namespace gpsrelay::live
