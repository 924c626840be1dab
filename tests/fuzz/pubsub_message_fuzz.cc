// libFuzzer target: the Pub/Sub message parser of the live updates
// (live/pubsub_message.h). Anything may be published on a channel; what
// it accepts must be an id and a one-line JSON object, and the SSE frame
// built from it must be one event.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "live/pubsub_message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto message = gpsrelay::live::parse_pubsub_message(text);
  if (!message) return 0;
  if (message->record.empty() || message->record.front() != '{' || message->record.back() != '}' ||
      message->record.find('\n') != std::string_view::npos) {
    std::abort();
  }
  const std::string frame = gpsrelay::live::sse_event(message->entry_id, message->record);
  // One event: the only blank line is its end.
  if (frame.find("\n\n") != frame.size() - 2) std::abort();
  gpsrelay::live::stream_id_ms(message->entry_id);
  return 0;
}
