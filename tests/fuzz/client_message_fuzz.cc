// libFuzzer target: a WebSocket subscriber's subscribe/unsubscribe message
// (live/client_message.h). Anything parses to a message or an error; a
// message always names a driver or an order channel.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "live/client_message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = gpsrelay::live::parse_client_message(text);
  if (const auto* message = std::get_if<gpsrelay::live::ClientMessage>(&parsed)) {
    const std::string_view channel = message->channel;
    if (!channel.starts_with("driver:") && !channel.starts_with("order:")) std::abort();
  } else if (std::get<std::string>(parsed).empty()) {
    std::abort();
  }
  return 0;
}
